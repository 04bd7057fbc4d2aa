import { ConfigReader } from '@backstage/config';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import type { TemplateAction } from '@backstage/plugin-scaffolder-node';
import type { JsonObject } from '@backstage/types';
import {
  scalerRoleName,
  type KedaRequestInput,
  type KedaRequestPreflight,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  readKedaConfig,
} from '@keda-self-service/plugin-keda-node';
import yaml from 'yaml';

export const CLUSTER_ACCOUNT = '111111111111';
export const QUEUE_ACCOUNT = '222222222222';
export const OTHER_ACCOUNT = '333333333333';
export const OIDC_ISSUER =
  'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

/** `keda.*` as the example portal (app-config.yaml) configures it, with overrides. */
export function kedaConfigData(
  overrides: { oidcIssuer?: string | null; keda?: object } = {},
) {
  const oidcIssuer =
    overrides.oidcIssuer === null
      ? undefined
      : overrides.oidcIssuer ?? OIDC_ISSUER;
  return {
    clusters: [
      {
        name: 'demo-eks',
        url: 'http://127.0.0.1:6443',
        serviceAccountToken: 'token',
        accountId: CLUSTER_ACCOUNT,
        region: 'eu-west-1',
        ...(oidcIssuer ? { oidcIssuer } : {}),
        kedaVersion: '2.20.2',
        gitops: { repoUrl: 'github.com?owner=platform&repo=gitops' },
      },
    ],
    roles: {
      path: '/keda/',
      namePrefix: 'keda-sqs-',
      tags: { 'cost-center': 'platform' },
    },
    guardrails: {
      allowedQueueAccounts: [QUEUE_ACCOUNT, OTHER_ACCOUNT],
      maxReplicas: 50,
      autoApprove: { maxReplicas: 20, queueAccounts: [QUEUE_ACCOUNT] },
    },
    approvals: { approverGroups: ['group:default/platform-team'] },
    ...overrides.keda,
  };
}

export function testConfig(
  overrides: Parameters<typeof kedaConfigData>[0] = {},
  extra: object = {},
) {
  return new ConfigReader({
    app: { baseUrl: 'http://localhost:3000' },
    keda: kedaConfigData(overrides),
    ...extra,
  });
}

export const ordersRequest = {
  entityRef: 'component:default/orders-worker',
  cluster: 'demo-eks',
  namespace: 'orders',
  workload: { kind: 'Deployment' as const, name: 'orders-worker' },
  kubernetesId: 'orders-worker',
  queueUrl: `https://sqs.eu-west-1.amazonaws.com/${QUEUE_ACCOUNT}/orders-queue`,
  minReplicas: 0,
  maxReplicas: 10,
  queueLength: 5,
};

/**
 * The scaler role name keda-common derives for a workload under the test
 * config (`keda-sqs-` prefix; readable part plus a hash of the workload key).
 */
export function scalerRoleNameOf(
  request: {
    namespace: string;
    workload: { kind?: string; name: string };
  },
  cluster = 'demo-eks',
): string {
  return scalerRoleName({
    namePrefix: 'keda-sqs-',
    cluster,
    namespace: request.namespace,
    workloadKind: request.workload.kind ?? 'Deployment',
    workloadName: request.workload.name,
  });
}

export const ORDERS_SCALER_ROLE = scalerRoleNameOf(ordersRequest);
export const ORDERS_SCALER_ROLE_ARN = `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/${ORDERS_SCALER_ROLE}`;

/** The operator role name of cluster demo-eks under the test config. */
export const OPERATOR_ROLE = clusterSpecOf(
  readKedaConfig(testConfig()).clusters[0],
).operator.roleName;
export const OPERATOR_ROLE_ARN = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${OPERATOR_ROLE}`;

/**
 * A stand-in for the keda backend's preflight (the planner's `requests`
 * option): answers `answer` (auto-approved, no reasons by default) or
 * throws it, and records what it was asked.
 */
export function fakePreflight(
  answer: Partial<KedaRequestPreflight> | Error = {},
) {
  const calls: Array<{
    request: KedaRequestInput;
    externalId?: string;
    user?: string;
  }> = [];
  const api = {
    async preflight(
      request: KedaRequestInput,
      credentials: { principal: unknown },
      options: { externalId?: string } = {},
    ): Promise<KedaRequestPreflight> {
      calls.push({
        request,
        externalId: options.externalId,
        user: (credentials.principal as { userEntityRef?: string })
          .userEntityRef,
      });
      if (answer instanceof Error) throw answer;
      return { autoApproved: true, approvalReasons: [], ...answer };
    },
  };
  return { api, calls };
}

export interface RunResult {
  outputs: Record<string, any>;
}

/**
 * Runs an action's handler with a mock context. `createMockActionContext`
 * drops `isDryRun` and `signal`, so they are spread on afterwards; the
 * checkpoint records its keys so tests can assert them.
 */
export async function runAction(
  action: TemplateAction<any, any, any>,
  input: JsonObject,
  options: {
    dryRun?: boolean;
    workspacePath?: string;
    userRef?: string;
    taskId?: string;
    checkpoints?: string[];
  } = {},
): Promise<RunResult> {
  const outputs: Record<string, any> = {};
  const ctx = createMockActionContext({
    input,
    workspacePath: options.workspacePath,
    user: { ref: options.userRef ?? 'user:default/dana' },
    task: { id: options.taskId ?? 'task-0001' },
  });
  await action.handler({
    ...ctx,
    isDryRun: options.dryRun ?? false,
    signal: new AbortController().signal,
    output: (name: string, value: unknown) => {
      outputs[name] = value;
    },
    checkpoint: async ({
      key,
      fn,
    }: {
      key: string;
      fn: () => Promise<any>;
    }) => {
      options.checkpoints?.push(key);
      return fn();
    },
  } as any);
  return { outputs };
}

/** The `input` of every step of every example of an action. */
export function exampleInputs(action: TemplateAction<any, any, any>) {
  return (action.examples ?? []).flatMap(example =>
    (
      yaml.parse(example.example).steps as Array<{
        action: string;
        input: JsonObject;
      }>
    ).map(step => {
      expect(step.action).toBe(action.id);
      return { description: example.description, input: step.input };
    }),
  );
}
