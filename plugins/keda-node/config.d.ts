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
      /** Kubernetes API server URL. */
      url: string;
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
      aws?: {
        /** Account A (12 digits, quoted). */
        accountId?: string;
        region?: string;
        /** EKS cluster name sent as `x-k8s-aws-id`; default: `name`. */
        clusterName?: string;
        /** Role to assume before minting the EKS token. */
        assumeRole?: string;
        /** @visibility secret */
        externalId?: string;
      };
      /** The cluster's OIDC issuer URL (IRSA), e.g. `https://oidc.eks.<region>.amazonaws.com/id/<id>`. */
      oidcIssuer?: string;
      /** KEDA version installed, e.g. `2.20.2` (ExternalId needs >= 2.20). */
      kedaVersion?: string;
      operator?: {
        /** Default `keda`. */
        namespace?: string;
        /** Default `keda-operator`. */
        serviceAccount?: string;
        /** IRSA role ARN of the KEDA operator in account A. */
        roleArn?: string;
      };
      gitops?: {
        /** Scaffolder repoUrl form, e.g. `github.com?owner=acme&repo=gitops`. */
        repoUrl: string;
        /** Placeholders `{cluster}`, `{namespace}`, `{name}`. Default `{cluster}/{namespace}/{name}`. */
        pathPattern?: string;
        branch?: string;
      };
    }>;
    /** How scaler roles in queue accounts are created. */
    roles?: {
      /** IAM path, default `/keda/`. */
      path?: string;
      /** Role name prefix, default `keda-sqs-`. */
      namePrefix?: string;
      /** Policy ARN set as permissions boundary on created roles. */
      permissionsBoundary?: string;
      tags?: { [key: string]: string };
    };
    guardrails?: {
      /** Queue accounts (B) requests may target; empty allows none. */
      allowedQueueAccounts?: string[];
      /** Largest maxReplicaCount a request may ask for. Default 100. */
      maxReplicas?: number;
      /** Requests inside these bounds need no approval. */
      autoApprove?: {
        enabled?: boolean;
        maxReplicas?: number;
        queueAccounts?: string[];
        namespaces?: string[];
      };
    };
    approvals?: {
      /** Group entity refs whose members approve, e.g. `group:default/platform-team`. */
      approverGroups?: string[];
    };
    status?: {
      /** Seconds events read on demand are reused. Default 10. */
      eventsCacheTtlSeconds?: number;
      /** Hours of replica/depth history kept in memory. Default 24. */
      historyRetentionHours?: number;
    };
  };
}
