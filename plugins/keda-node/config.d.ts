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
        /** Default `keda-operator`. */
        roleName?: string;
        /** IAM path of the operator role. Default `/`. */
        rolePath?: string;
        /** Full operator role ARN; sets accountId, roleName and rolePath at once. */
        roleArn?: string;
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
       * create (no managed-by tag) instead of refusing. Default false.
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
    };
    approvals?: {
      /** Group entity refs whose members approve, e.g. `group:default/platform-team`. */
      approverGroups?: string[];
      /** Let an approver approve their own request. Default false. */
      allowSelfApproval?: boolean;
    };
    status?: {
      /** Seconds events read on demand are reused. Default 10. */
      eventsCacheTtlSeconds?: number;
      /** Hours of replica/depth history kept in memory. Default 24. */
      historyRetentionHours?: number;
    };
  };
}
