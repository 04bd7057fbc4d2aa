/*
 * Shared by the crash-between-effects suite (#16 item 3) and its child
 * process (crashRunner.ts): the portal config the child runs with, the
 * workloads and the messages the two exchange over the IPC channel.
 */
import type { Entity } from '@backstage/catalog-model';
import { APPROVER_GROUP } from '../../requests/__testUtils__/requests';

export const CLUSTER_ACCOUNT = '111111111111';
export const QUEUE_ACCOUNT = '222222222222';
export const CLUSTER = 'prod-eu';
export const NAMESPACE = 'shop';
export const OPERATOR_ROLE = 'keda-operator-prod-eu';
export const OIDC_ISSUER =
  'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE';
export const GITOPS = { owner: 'acme', repo: 'gitops' };
export const REQUESTER = 'user:default/jane.doe';
export const OWNER = 'group:default/team-orders';

/** Where the child finds everything (written by the test as JSON). */
export interface CrashRunnerSetup {
  /** directory of the on-disk SQLite database and the task states */
  dataDir: string;
  awsUrl: string;
  github: { host: string; apiBaseUrl: string; token: string };
  /**
   * Base URL the scaffolder steps reach the keda backend at (the test's
   * pass-through in front of the child's own keda plugin).
   */
  kedaBaseUrl: string;
  accounts: Array<{
    accountId: string;
    accessKeyId: string;
    secretAccessKey: string;
  }>;
  components: string[];
}

export function portalConfigData(setup: CrashRunnerSetup) {
  return {
    app: { baseUrl: 'http://localhost:3000' },
    backend: { baseUrl: 'http://127.0.0.1' },
    integrations: {
      github: [
        {
          host: setup.github.host,
          apiBaseUrl: setup.github.apiBaseUrl,
          token: setup.github.token,
        },
      ],
    },
    aws: { accounts: setup.accounts },
    keda: {
      clusters: [
        {
          name: CLUSTER,
          url: 'https://127.0.0.1:6443',
          serviceAccountToken: 'unused',
          accountId: CLUSTER_ACCOUNT,
          region: 'eu-west-1',
          oidcIssuer: OIDC_ISSUER,
          kedaVersion: '2.20.2',
          gitops: {
            repoUrl: `${setup.github.host}?owner=${GITOPS.owner}&repo=${GITOPS.repo}`,
          },
        },
      ],
      roles: { path: '/keda/', namePrefix: 'keda-sqs-' },
      guardrails: {
        allowedQueueAccounts: [QUEUE_ACCOUNT],
        maxReplicas: 50,
        autoApprove: { maxReplicas: 10, queueAccounts: [QUEUE_ACCOUNT] },
      },
      approvals: { approverGroups: [APPROVER_GROUP] },
    },
  };
}

export function componentEntity(name: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-id': name,
        'backstage.io/kubernetes-namespace': NAMESPACE,
      },
    },
    spec: { type: 'service', owner: OWNER, lifecycle: 'production' },
  };
}

/** The template's parameters for a workload, as the form sends them. */
export function autoscalingValues(component: string, queue: string) {
  return {
    component: `component:default/${component}`,
    cluster: CLUSTER,
    queueUrl: `https://sqs.eu-west-1.amazonaws.com/${QUEUE_ACCOUNT}/${queue}`,
    workloadKind: 'Deployment' as const,
    minReplicas: 0,
    maxReplicas: 5,
    queueLength: 5,
    activationQueueLength: 0,
    pollingInterval: 30,
    cooldownPeriod: 300,
    scaleOnInFlight: true,
    scaleOnDelayed: false,
    providerMode: 'aws' as const,
  };
}

export type AutoscalingValues = ReturnType<typeof autoscalingValues>;

/** The steps of keda-sqs-autoscaling, in order. */
export const AUTOSCALING_STEPS = [
  'fetch-component',
  'plan',
  'write',
  'provision',
  'publish',
  'record',
  'provisioned',
] as const;

export type ParentMessage =
  | { type: 'run'; taskId: string; values: AutoscalingValues }
  | { type: 'reconcile' }
  /** resume: run the tasks the dead process left running (after the test looked at the world) */
  | { type: 'resume' };

export type ChildMessage =
  | { type: 'ready'; baseUrl: string; recovered: string[] }
  | { type: 'step'; taskId: string; step: string }
  | {
      type: 'done';
      taskId: string;
      ok: boolean;
      error?: string;
      outputs?: Record<string, unknown>;
    }
  | { type: 'reconciled' };
