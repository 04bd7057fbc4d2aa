import {
  AccessAnalyzerClient,
  CheckAccessNotGrantedCommand,
  CheckNoPublicAccessCommand,
  ValidatePolicyCommand,
} from '@aws-sdk/client-accessanalyzer';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { ConfigReader } from '@backstage/config';
import { ConflictError, NotAllowedError } from '@backstage/errors';
import {
  startKubernetesStandIn,
  type KubernetesStandIn,
} from '@internal/sandbox';
import { mockClient } from 'aws-sdk-client-mock';
import { KedaPlanner } from '../lib/planner';
import {
  exampleInputs,
  fakePreflight,
  kedaConfigData,
  OIDC_ISSUER,
  OPERATOR_ROLE_ARN,
  ORDERS_SCALER_ROLE,
  ORDERS_SCALER_ROLE_ARN,
  ordersRequest,
  QUEUE_ACCOUNT,
  runAction,
  testConfig,
} from '../__testUtils__/fixtures';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import { createKedaPlanAction } from './plan';

const eksMock = mockClient(EKSClient);

function setup(
  overrides: Parameters<typeof testConfig>[0] = {},
  requests?: ReturnType<typeof fakePreflight>['api'],
) {
  const aws = recordingAwsFactory();
  const planner = new KedaPlanner({
    config: testConfig(overrides),
    aws: aws.factory,
    requests,
  });
  return { action: createKedaPlanAction({ planner }), aws };
}

const WORKLOAD_EXTERNAL_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

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
      scalerRoleName: ORDERS_SCALER_ROLE,
      scalerRoleArn: ORDERS_SCALER_ROLE_ARN,
      operatorRoleArn: OPERATOR_ROLE_ARN,
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
    const { outputs } = await runAction(
      action,
      { request: ordersRequest },
      { taskId: 'b3c167a8-task' },
    );
    expect(outputs.request.requestId).toBe('b3c167a8-task');
    expect(outputs.manifests[1].content).toContain(
      'keda.backstage.io/request-id: b3c167a8-task',
    );

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

describe('keda:plan asks the keda backend first (preflight)', () => {
  beforeEach(() => eksMock.reset());

  it('plans with the workload’s ExternalId and outputs the request it supersedes and the owner', async () => {
    const backend = fakePreflight({
      externalId: WORKLOAD_EXTERNAL_ID,
      owner: 'group:default/team-orders',
      supersedes: { id: 'req-0001', state: 'provisioned' },
    });
    const { action } = setup({}, backend.api);
    const { outputs } = await runAction(
      action,
      { request: ordersRequest },
      { taskId: 'task-2' },
    );
    expect(backend.calls).toEqual([
      {
        request: { ...ordersRequest, requestId: 'task-2' },
        externalId: undefined,
        user: 'user:default/mock',
      },
    ]);
    expect(outputs).toMatchObject({
      externalId: WORKLOAD_EXTERNAL_ID,
      autoApproved: true,
      approvalReasons: [],
      supersedes: 'req-0001',
      owner: 'group:default/team-orders',
    });
    expect(outputs.manifests[0].content).toContain(
      `externalID: ${WORKLOAD_EXTERNAL_ID}`,
    );
  });

  it('needs approval when the backend says so, with both lists of reasons once each', async () => {
    const changeOfApproved =
      'It changes request req-0001, which user:default/priya approved: a change to an approved request needs approval again';
    const backend = fakePreflight({
      autoApproved: false,
      approvalReasons: [
        'maxReplicas 30 is above 20, the most that is approved automatically',
        changeOfApproved,
      ],
    });
    const { action } = setup({}, backend.api);
    const { outputs } = await runAction(action, {
      request: { ...ordersRequest, maxReplicas: 30 },
    });
    expect(outputs.autoApproved).toBe(false);
    expect(outputs.approvalRequired).toBe(true);
    expect(outputs.approvalReasons).toEqual([
      'maxReplicas 30 is above 20, the most that is approved automatically',
      changeOfApproved,
    ]);
    // the pull request body says the same as the outputs
    expect(outputs.summary).toContain('Needs approval');
    expect(outputs.summary).toContain(changeOfApproved);

    const inside = setup(
      {},
      fakePreflight({
        autoApproved: false,
        approvalReasons: [changeOfApproved],
      }).api,
    );
    const changed = await runAction(inside.action, { request: ordersRequest });
    expect(changed.outputs).toMatchObject({
      autoApproved: false,
      approvalRequired: true,
      approvalReasons: [changeOfApproved],
    });
    expect(changed.outputs.summary).not.toContain('Auto-approved');
  });

  it('fails with the backend’s refusal before planning anything', async () => {
    for (const error of [
      new NotAllowedError(
        'keda backend: POST /requests/preflight answered 403 Forbidden: user:default/dana may not request autoscaling for component:default/billing-worker: it is owned by group:default/team-billing',
      ),
      new ConflictError(
        'keda backend: POST /requests/preflight answered 409 Conflict: component:default/orders-worker (demo-eks/orders/Deployment/orders-worker) already has request req-0003 in flight (pending, by user:default/dana)',
      ),
    ]) {
      // no OIDC issuer in config: planning would call eks:DescribeCluster
      const { action, aws } = setup(
        { oidcIssuer: null },
        fakePreflight(error).api,
      );
      await expect(
        runAction(action, { request: ordersRequest }),
      ).rejects.toThrow(error.message);
      expect(aws.accounts).toEqual([]);
      expect(eksMock.calls()).toHaveLength(0);
    }
  });

  it('reports invalid fields itself before asking the backend', async () => {
    const backend = fakePreflight();
    const { action } = setup({}, backend.api);
    await expect(
      runAction(action, { request: { ...ordersRequest, queueUrl: 'nope' } }),
    ).rejects.toThrow(/Invalid KEDA request: queueUrl/);
    expect(backend.calls).toEqual([]);
  });

  it('refuses a pinned ExternalId that is not the workload’s, naming both fields and the fix', async () => {
    const backend = fakePreflight({ externalId: WORKLOAD_EXTERNAL_ID });
    const { action } = setup({}, backend.api);
    await expect(
      runAction(action, {
        request: ordersRequest,
        externalId: '0123456789abcdef0123456789abcdef',
      }),
    ).rejects.toThrow(
      "externalId: the step's externalId differs from the ExternalId the keda backend keeps for demo-eks/orders/Deployment/orders-worker (preflight.externalId); a workload has one ExternalId. Remove externalId from the step input so the workload's own is used",
    );
    expect(backend.calls[0].externalId).toBe(
      '0123456789abcdef0123456789abcdef',
    );
  });

  it('does not ask the backend when it only locates the files (decommission)', async () => {
    const backend = fakePreflight(new Error('must not be called'));
    const { action } = setup({}, backend.api);
    const { outputs } = await runAction(action, {
      request: ordersRequest,
      locateOnly: true,
    });
    expect(backend.calls).toEqual([]);
    expect(outputs.scalerRoleArn).toBe(ORDERS_SCALER_ROLE_ARN);
  });

  it('does not ask the backend in dry run', async () => {
    const backend = fakePreflight(new Error('must not be called'));
    const { action } = setup({}, backend.api);
    const { outputs } = await runAction(
      action,
      { request: ordersRequest },
      { dryRun: true },
    );
    expect(backend.calls).toEqual([]);
    expect(outputs.autoApproved).toBe(true);
    expect(outputs.supersedes).toBeUndefined();
  });
});

describe('keda:plan with providerMode aws-eks reads the workload ServiceAccount', () => {
  let k8s: KubernetesStandIn;
  const eksRequest = {
    ...ordersRequest,
    providerMode: 'aws-eks',
    serviceAccountName: 'orders-worker',
  };
  const WORKLOAD_ROLE = 'arn:aws:iam::111111111111:role/orders-worker-app';

  beforeAll(async () => {
    k8s = await startKubernetesStandIn({
      port: 0,
      namespaces: ['default', 'orders'],
      simulatePods: false,
    });
  });
  afterAll(() => k8s.close());
  beforeEach(() => k8s.reset());

  function eksSetup(url = k8s.url) {
    const keda = kedaConfigData();
    Object.assign(keda.clusters[0], { url, serviceAccountToken: k8s.token });
    const planner = new KedaPlanner({
      config: new ConfigReader({ keda }),
      aws: recordingAwsFactory().factory,
    });
    return createKedaPlanAction({ planner });
  }
  const serviceAccount = (roleArn?: string) =>
    k8s.store.create('serviceaccounts', 'orders', {
      metadata: {
        name: 'orders-worker',
        ...(roleArn
          ? { annotations: { 'eks.amazonaws.com/role-arn': roleArn } }
          : {}),
      },
    });

  it('fails when the ServiceAccount already names another IRSA role, explaining the choice', async () => {
    serviceAccount(WORKLOAD_ROLE);
    const error = await runAction(eksSetup(), { request: eksRequest }).catch(
      e => e,
    );
    expect(error.name).toBe('InputError');
    expect(error.message).toContain(
      `providerMode: the workload already has an IRSA role ${WORKLOAD_ROLE} (annotation eks.amazonaws.com/role-arn of ServiceAccount orders/orders-worker on "demo-eks")`,
    );
    expect(error.message).toContain(
      'use providerMode: aws (recommended; KEDA assumes the scaler role itself and the ServiceAccount stays untouched)',
    );
    expect(error.message).toContain(
      `have an approver add sqs:GetQueueAttributes on arn:aws:sqs:eu-west-1:222222222222:orders-queue to the workload's own role ${WORKLOAD_ROLE}`,
    );
  });

  it('proceeds when the ServiceAccount names the scaler role already, or does not exist', async () => {
    serviceAccount(ORDERS_SCALER_ROLE_ARN);
    const annotated = await runAction(eksSetup(), { request: eksRequest });
    expect(annotated.outputs.manifestPaths).toContain(
      'clusters/demo-eks/orders/orders-worker/serviceaccount.yaml',
    );
    k8s.reset();
    const missing = await runAction(eksSetup(), { request: eksRequest });
    expect(missing.outputs.warnings.join('\n')).not.toContain('ServiceAccount');
  });

  it('warns and continues when the cluster cannot be asked', async () => {
    const { outputs } = await runAction(eksSetup('http://127.0.0.1:1'), {
      request: eksRequest,
    });
    expect(outputs.warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'Could not read ServiceAccount orders/orders-worker on cluster "demo-eks"',
        ),
      ]),
    );
    expect(outputs.summary).toContain('Could not read ServiceAccount');
  });

  it('does not read the cluster in dry run', async () => {
    serviceAccount(WORKLOAD_ROLE);
    const { outputs } = await runAction(
      eksSetup(),
      { request: eksRequest },
      { dryRun: true },
    );
    expect(outputs.scalerRoleArn).toBe(ORDERS_SCALER_ROLE_ARN);
  });
});

describe('keda:plan verifies the planned IAM documents before provisioning', () => {
  const analyzerMock = mockClient(AccessAnalyzerClient);
  beforeEach(() => {
    eksMock.reset();
    analyzerMock.reset();
    analyzerMock.on(ValidatePolicyCommand).resolves({ findings: [] });
    analyzerMock.on(CheckAccessNotGrantedCommand).resolves({ result: 'PASS' });
    analyzerMock.on(CheckNoPublicAccessCommand).resolves({ result: 'PASS' });
  });
  function withAws() {
    const aws = recordingAwsFactory();
    const planner = new KedaPlanner({ config: testConfig(), aws: aws.factory });
    return { action: createKedaPlanAction({ planner, aws: aws.factory }), aws };
  }
  type Check = { check: string; outcome: string; detail: string };

  it('runs Access Analyzer (queue account credentials) and the trust evaluation, and outputs every check', async () => {
    const { action, aws } = withAws();
    const { outputs } = await runAction(action, { request: ordersRequest });
    const checks = outputs.verification.checks as Check[];
    expect(outputs.verification.ok).toBe(true);
    expect(checks.filter(c => c.outcome !== 'pass')).toEqual([]);
    expect(new Set(checks.map(c => c.check))).toEqual(
      new Set([
        'access-analyzer-validate-policy',
        'access-analyzer-access-not-granted',
        'access-analyzer-no-public-access',
        'evaluate-scaler-trust',
        'evaluate-operator-trust',
      ]),
    );
    expect(aws.accounts).toEqual([QUEUE_ACCOUNT]);
    expect(analyzerMock.calls()).toHaveLength(8);
    // documents only: nothing exists yet, nothing is simulated
    expect(checks.some(c => c.check.startsWith('simulate-'))).toBe(false);
  });

  it('fails the step, before anything is provisioned, when a check fails', async () => {
    const { action } = withAws();
    analyzerMock.on(CheckNoPublicAccessCommand).resolves({
      result: 'FAIL',
      message: 'The resource policy grants public access',
      reasons: [{ description: 'statement 0' }],
    });
    await expect(runAction(action, { request: ordersRequest })).rejects.toThrow(
      /^The planned IAM documents fail verification, so nothing is provisioned: access-analyzer-no-public-access \(scaler role trust policy .*\): FAIL: The resource policy grants public access \(statement 0\)/,
    );
  });

  it('warns that Access Analyzer did not run in dry run, and still evaluates the trusts', async () => {
    const { action, aws } = withAws();
    const { outputs } = await runAction(
      action,
      { request: ordersRequest },
      { dryRun: true },
    );
    const checks = outputs.verification.checks as Check[];
    expect(checks.filter(c => c.outcome === 'warning')).toEqual([
      expect.objectContaining({
        check: 'access-analyzer-validate-policy',
        detail: expect.stringContaining('not run: dry run (no AWS calls)'),
      }),
    ]);
    expect(checks.filter(c => c.check === 'evaluate-scaler-trust')).not.toEqual(
      [],
    );
    expect(analyzerMock.calls()).toHaveLength(0);
    expect(aws.accounts).toEqual([]);
  });

  it('warns, naming the action, when the queue account credentials lack access-analyzer permissions', async () => {
    const { action } = withAws();
    analyzerMock.on(ValidatePolicyCommand).rejects(
      Object.assign(
        new Error('not authorized to perform: access-analyzer:ValidatePolicy'),
        {
          name: 'AccessDeniedException',
        },
      ),
    );
    const { outputs } = await runAction(action, { request: ordersRequest });
    const warnings = (outputs.verification.checks as Check[]).filter(
      c => c.outcome === 'warning',
    );
    expect(warnings).toHaveLength(4);
    expect(warnings[0].detail).toContain(
      `the credentials of account ${QUEUE_ACCOUNT} lack access-analyzer:ValidatePolicy`,
    );
    expect(outputs.verification.ok).toBe(true);
  });

  it('does not verify when it only locates the files (decommission)', async () => {
    const { action } = withAws();
    const { outputs } = await runAction(action, {
      request: ordersRequest,
      locateOnly: true,
    });
    expect(outputs.verification).toBeUndefined();
    expect(analyzerMock.calls()).toHaveLength(0);
  });
});
