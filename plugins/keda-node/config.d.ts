export interface Config {
  /**
   * KEDA self-service autoscaling. Clusters may also come from the Kubernetes
   * plugin's `kubernetes.clusterLocatorMethods` (type `config`); an entry
   * here with the same name wins, which is how KEDA facts are added to a
   * cluster the Kubernetes plugin already knows.
   */
  keda?: {
    /** Clusters running KEDA (account A). */
    clusters?: Array<{
      /** Unique cluster name, used in the API and in role names. */
      name: string;
      title?: string;
      /**
       * Kubernetes API server URL. Omit it (and the auth fields) to reuse the
       * connection of the `kubernetes.clusterLocatorMethods` cluster of the
       * same name and only add the KEDA facts here.
       */
      url?: string;
      /**
       * `serviceAccount` (with `serviceAccountToken`), `inCluster` (the pod's
       * own service account) or `aws` (EKS IAM token). Default: `serviceAccount`
       * when a token is set, otherwise `inCluster`.
       */
      authProvider?: 'serviceAccount' | 'inCluster' | 'aws';
      /** @visibility secret */
      serviceAccountToken?: string;
      /** Base64 PEM of the API server's CA. */
      caData?: string;
      caFile?: string;
      skipTLSVerify?: boolean;
      /** For `authProvider: aws`: how the EKS IAM token is minted. */
      eks?: {
        /** EKS cluster name sent as `x-k8s-aws-id`; default: `name`. */
        clusterName?: string;
        /** Role to assume before minting the token. */
        assumeRole?: string;
        /** @visibility secret */
        externalId?: string;
      };
      /** Account A (12 digits, quoted). Derived from `operator.roleArn` when absent. */
      accountId?: string;
      /** The cluster's region, e.g. `eu-west-1`. */
      region?: string;
      /** Default: the partition of `region`. */
      partition?: 'aws' | 'aws-cn' | 'aws-us-gov';
      /** The cluster's OIDC issuer URL (IRSA), e.g. `https://oidc.eks.<region>.amazonaws.com/id/<id>`. */
      oidcIssuer?: string;
      /** KEDA version installed, e.g. `2.20.2` (ExternalId needs >= 2.20). */
      kedaVersion?: string;
      /** How the KEDA operator gets its AWS identity. Default `irsa`. */
      identity?: 'irsa' | 'pod-identity';
      operator?: {
        /** Default `keda`. */
        namespace?: string;
        /** Default `keda-operator`. */
        serviceAccount?: string;
        /**
         * Default `keda-operator-<cluster name>` (characters IAM refuses
         * become `-`; cut to 64 characters with a hash when longer): one
         * operator role per cluster. Two clusters resolving to the same role
         * (same account and name) are refused at startup unless both set
         * `sharedRole`.
         */
        roleName?: string;
        /** IAM path of the operator role. Default `/`. */
        rolePath?: string;
        /** Full operator role ARN; sets accountId, roleName and rolePath at once. */
        roleArn?: string;
        /**
         * Share this cluster's operator role with the other clusters that
         * resolve to the same role and set `sharedRole: true` too. The role's
         * trust then lists every sharing cluster's OIDC issuer (one statement
         * each), so KEDA on any of them may use it and the scaler roles it may
         * assume. IRSA only; every sharing cluster needs `oidcIssuer` and the
         * same operator namespace and service account. IAM's 2,048-character
         * trust quota fits about four issuers. Default false.
         */
        sharedRole?: boolean;
      };
      gitops?: {
        /** Scaffolder repoUrl form, e.g. `github.com?owner=acme&repo=gitops`. */
        repoUrl: string;
        /** Placeholders `{cluster}`, `{namespace}`, `{name}`. Default `clusters/{cluster}/{namespace}/{name}`. */
        path?: string;
      };
    }>;
    /** How scaler roles in queue accounts are created. */
    roles?: {
      /** IAM path, default `/keda/`. */
      path?: string;
      /** Role name prefix, default `keda-sqs-`. */
      namePrefix?: string;
      /** Policy ARN set as permissions boundary on created roles. */
      permissionsBoundaryArn?: string;
      tags?: { [key: string]: string };
      /** Also trust the operator's web identity in scaler roles. Default false. */
      trustOperatorWebIdentity?: boolean;
      /**
       * Converge an existing role of the planned name that the portal did not
       * create (no managed-by tag) instead of refusing, and write the identity
       * tags missing on roles of older versions. Never takes over a role whose
       * identity tags (cluster, namespace, workload kind and name) name
       * another workload. Default false.
       */
      adoptExistingRoles?: boolean;
    };
    guardrails?: {
      /** Queue accounts (B) requests may target; empty allows none. */
      allowedQueueAccounts?: string[];
      /** Clusters requests may target; default every configured cluster. */
      allowedClusters?: string[];
      /** Largest maxReplicaCount a request may ask for. Default 100. */
      maxReplicas?: number;
      /** Requests inside these bounds need no approval. */
      autoApprove?: {
        maxReplicas?: number;
        queueAccounts?: string[];
        clusters?: string[];
      };
      /**
       * A request is made by a member of the entity's owner group or an
       * approver. Default true.
       */
      requireOwnership?: boolean;
      /**
       * `https://` URLs of SQS endpoints (VPC endpoints) that KEDA may call
       * as a request's `awsEndpoint` without approval, e.g.
       * `https://vpce-0123-abcd.sqs.eu-west-1.vpce.amazonaws.com`. The queue
       * region's own SQS endpoint is always allowed; any other endpoint (other
       * host or region, IP addresses, user info, ports) needs an approval.
       * An entry allows exactly that endpoint (optionally followed by a
       * path), not every host starting with it. Default none.
       */
      allowedSqsEndpoints?: string[];
    };
    approvals?: {
      /**
       * Group entity refs whose members approve requests and may change IAM.
       * Default `['group:default/platform-team']` (requests backend and
       * permission policy alike).
       */
      approverGroups?: string[];
      /** Let an approver approve their own request. Default false. */
      allowSelfApproval?: boolean;
    };
    templates?: {
      /**
       * Entity ref of the platform-only template the requests backend
       * starts, as the approver, when a request is approved (it receives
       * the parameter `requestId`). Default
       * `template:default/keda-provision-request`.
       */
      provisioning?: string;
    };
    status?: {
      /**
       * Ignored since events are watched (they used to be read on demand
       * and reused this many seconds). Kept so existing configs still load.
       * @deprecated Ignored: events are watched now; remove the key.
       */
      eventsCacheTtlSeconds?: number;
      /** Hours of replica/depth history kept (in the plugin database). Default 24. */
      historyRetentionHours?: number;
    };
  };
}
