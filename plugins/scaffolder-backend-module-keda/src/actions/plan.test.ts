import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { KedaPlanner } from '../lib/planner';
import {
  exampleInputs,
  OIDC_ISSUER,
  ordersRequest,
  QUEUE_ACCOUNT,
  runAction,
  testConfig,
} from '../__testUtils__/fixtures';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import { createKedaPlanAction } from './plan';

const eksMock = mockClient(EKSClient);

function setup(overrides: Parameters<typeof testConfig>[0] = {}) {
  const aws = recordingAwsFactory();
  const planner = new KedaPlanner({
    config: testConfig(overrides),
    aws: aws.factory,
  });
  return { action: createKedaPlanAction({ planner }), aws };
}

describe('keda:plan', () => {
  beforeEach(() => eksMock.reset());

  it('outputs the auto-approved plan: roles, documents, manifests and a fresh ExternalId', async () => {
    const { action, aws } = setup();
    const { outputs } = await runAction(action, { request: ordersRequest });

    expect(outputs).toMatchObject({
      autoApproved: true,
      approvalRequired: false,
      approvalReasons: [],
      clusterAccountId: '111111111111',
      queueAccountId: QUEUE_ACCOUNT,
      region: 'eu-west-1',
      queueArn: 'arn:aws:sqs:eu-west-1:222222222222:orders-queue',
      scalerRoleName: 'keda-sqs-demo-eks-orders-orders-worker',
      scalerRoleArn:
        'arn:aws:iam::222222222222:role/keda/keda-sqs-demo-eks-orders-orders-worker',
      operatorRoleArn: 'arn:aws:iam::111111111111:role/keda-operator',
      oidcIssuerSource: 'config',
      manifestDirectory: 'clusters/demo-eks/orders/orders-worker',
      gitopsRepoUrl: 'github.com?owner=platform&repo=gitops',
      branchName: 'keda/demo-eks/orders/orders-worker',
    });
    expect(outputs.externalId).toMatch(/^[0-9a-f]{32}$/);
    expect(outputs.manifests.map((f: { path: string }) => f.path)).toEqual([
      'clusters/demo-eks/orders/orders-worker/triggerauthentication.yaml',
      'clusters/demo-eks/orders/orders-worker/scaledobject.yaml',
      'clusters/demo-eks/orders/orders-worker/kustomization.yaml',
      'clusters/demo-eks/orders/orders-worker/iam-plan.json',
    ]);
    expect(outputs.manifests[0].content).toContain(
      `externalID: ${outputs.externalId}`,
    );
    expect(outputs.plan.scalerRole.trustPolicy.Statement[0].Condition).toEqual({
      StringEquals: { 'sts:ExternalId': outputs.externalId },
    });
    expect(outputs.summary).toContain('Auto-approved');
    expect(outputs.request).toMatchObject({
      ...ordersRequest,
      scaleOnInFlight: true,
    });
    // the issuer came from config: no AWS client was even created
    expect(aws.accounts).toEqual([]);
  });

  it('names the request after the task so the manifests carry the id the request is recorded under', async () => {
    const { action } = setup();
    const { outputs } = await runAction(action, { request: ordersRequest }, { taskId: 'b3c167a8-task' });
    expect(outputs.request.requestId).toBe('b3c167a8-task');
    expect(outputs.manifests[1].content).toContain('keda.backstage.io/request-id: b3c167a8-task');

    const named = await runAction(
      action,
      { request: { ...ordersRequest, requestId: 'chosen-id' } },
      { taskId: 'b3c167a8-task' },
    );
    expect(named.outputs.request.requestId).toBe('chosen-id');
  });

  it('generates a fresh ExternalId per run and keeps a pinned one', async () => {
    const { action } = setup();
    const first = await runAction(action, { request: ordersRequest });
    const second = await runAction(action, { request: ordersRequest });
    expect(first.outputs.externalId).not.toEqual(second.outputs.externalId);

    const pinned = await runAction(action, {
      request: ordersRequest,
      externalId: 'pinned-external-id-0001',
    });
    expect(pinned.outputs.externalId).toBe('pinned-external-id-0001');
  });

  it('reports why approval is needed without failing', async () => {
    const { action } = setup();
    const { outputs } = await runAction(action, {
      request: { ...ordersRequest, maxReplicas: 30 },
    });
    expect(outputs.autoApproved).toBe(false);
    expect(outputs.approvalReasons).toEqual([
      'maxReplicas 30 is above 20, the most that is approved automatically',
    ]);
  });

  it('fails listing every blocking problem at once', async () => {
    const { action } = setup();
    await expect(
      runAction(action, {
        request: {
          ...ordersRequest,
          maxReplicas: 80,
          queueUrl:
            'https://sqs.eu-west-1.amazonaws.com/999999999999/orders-queue',
        },
      }),
    ).rejects.toThrow(
      'The KEDA request breaks 2 guardrails: queueUrl: Queue account 999999999999 is not one KEDA may read from; allowed accounts: 222222222222, 333333333333. Ask the platform team to add it to keda.guardrails.allowedQueueAccounts; maxReplicas: maxReplicas 80 is above the platform ceiling of 50',
    );
  });

  it('fails naming every invalid field of the request', async () => {
    const { action } = setup();
    await expect(
      runAction(action, {
        request: {
          ...ordersRequest,
          minReplicas: 5,
          maxReplicas: 2,
          queueUrl: 'not a url',
        },
      }),
    ).rejects.toThrow(
      /Invalid KEDA request: queueUrl: .*; minReplicas: minReplicas \(5\) must not exceed maxReplicas \(2\)/,
    );
  });

  it('names the configured clusters when the request names another', async () => {
    const { action } = setup();
    await expect(
      runAction(action, { request: { ...ordersRequest, cluster: 'prod' } }),
    ).rejects.toThrow(
      'cluster: "prod" is not a configured cluster; choose one of demo-eks',
    );
  });

  it('discovers the OIDC issuer with eks:DescribeCluster in the cluster account when config has none', async () => {
    eksMock
      .on(DescribeClusterCommand, { name: 'demo-eks' })
      .resolves({ cluster: { identity: { oidc: { issuer: OIDC_ISSUER } } } });
    const { action, aws } = setup({ oidcIssuer: null });
    const { outputs } = await runAction(action, { request: ordersRequest });

    expect(outputs.oidcIssuerSource).toBe('eks:DescribeCluster');
    expect(aws.accounts).toEqual(['111111111111']);
    expect(
      outputs.plan.operatorRole.trustPolicy.Statement[0].Principal.Federated,
    ).toBe(
      'arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
    );
  });

  it('makes no AWS call in dry run, even without a configured OIDC issuer', async () => {
    const { action, aws } = setup({ oidcIssuer: null });
    const { outputs } = await runAction(
      action,
      { request: ordersRequest },
      { dryRun: true },
    );

    expect(eksMock.calls()).toHaveLength(0);
    expect(aws.accounts).toEqual([]);
    expect(outputs.oidcIssuerSource).toBe('dry-run placeholder');
    expect(outputs.manifests).toHaveLength(4);
    expect(outputs.autoApproved).toBe(true);
  });

  it.each(exampleInputs(createKedaPlanAction({ planner: {} as KedaPlanner })))(
    'runs the example: $description',
    async ({ input }) => {
      const { action } = setup();
      const { outputs } = await runAction(action, input, { dryRun: true });
      expect(outputs.scalerRoleArn).toMatch(
        /^arn:aws:iam::222222222222:role\/keda\/keda-sqs-demo-eks-/,
      );
      expect(outputs.manifests.length).toBeGreaterThanOrEqual(4);
      // aws-eks has no ExternalId; otherwise a pinned one is kept
      const legacy =
        (input.request as { providerMode?: string }).providerMode === 'aws-eks';
      const freshId = /^[0-9a-f]{32}$/;
      const expectedId = legacy ? undefined : input.externalId ?? freshId;
      expect(
        expectedId instanceof RegExp
          ? freshId.test(outputs.externalId)
          : outputs.externalId,
      ).toBe(expectedId instanceof RegExp ? true : expectedId);
    },
  );
});
