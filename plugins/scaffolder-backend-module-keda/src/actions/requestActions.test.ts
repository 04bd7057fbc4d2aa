import { mockServices } from '@backstage/backend-test-utils';
import { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { KedaPlanner } from '../lib/planner';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import {
  exampleInputs,
  ORDERS_SCALER_ROLE_ARN,
  ordersRequest,
  runAction,
  testConfig,
} from '../__testUtils__/fixtures';
import { startKedaBackendStub } from '../__testUtils__/kedaBackendStub';
import { createKedaRequestDecommissionAction } from './requestDecommission';
import { createKedaRequestGetAction } from './requestGet';
import { createKedaRequestProgressAction } from './requestProgress';
import { createKedaRequestRecordAction } from './requestRecord';

const EXTERNAL_ID = '0123456789abcdef0123456789abcdef';

describe('request actions against the keda backend contract', () => {
  const config = testConfig();
  let stub: Awaited<ReturnType<typeof startKedaBackendStub>>;
  let record: ReturnType<typeof createKedaRequestRecordAction>;
  let get: ReturnType<typeof createKedaRequestGetAction>;
  let progress: ReturnType<typeof createKedaRequestProgressAction>;
  let decommission: ReturnType<typeof createKedaRequestDecommissionAction>;

  beforeEach(async () => {
    stub = await startKedaBackendStub(config);
    const client = new KedaRequestsClient({
      discovery: {
        getBaseUrl: async (pluginId: string) => {
          expect(pluginId).toBe('keda');
          return stub.baseUrl;
        },
        getExternalBaseUrl: async () => stub.baseUrl,
      },
      auth: mockServices.auth(),
    });
    const planner = new KedaPlanner({
      config,
      aws: recordingAwsFactory().factory,
    });
    record = createKedaRequestRecordAction({ client, planner, config });
    get = createKedaRequestGetAction({ client });
    progress = createKedaRequestProgressAction({ client });
    decommission = createKedaRequestDecommissionAction({ client });
  });

  afterEach(() => stub.close());

  it('records the request as the task initiator and outputs id, state and page URL', async () => {
    const pullRequest = {
      url: 'http://github.test/platform/gitops/pull/1',
      number: 1,
      repoUrl: 'github.test?owner=platform&repo=gitops',
    };
    const { outputs } = await runAction(
      record,
      { request: ordersRequest, externalId: EXTERNAL_ID, pullRequest },
      { taskId: 'task-7' },
    );
    expect(outputs).toEqual({
      id: 'req-0001',
      state: 'provisioning',
      autoApproved: true,
      approvalReasons: [],
      url: 'http://localhost:3000/keda/requests/req-0001',
      created: true,
    });
    const [call] = stub.calls;
    expect(call).toMatchObject({
      method: 'POST',
      path: '/requests',
      body: {
        request: ordersRequest,
        externalId: EXTERNAL_ID,
        pullRequest,
        taskId: 'task-7',
      },
    });
    // a plugin request token on behalf of the initiator, for the keda plugin
    expect(call.authorization).toBe(
      'Bearer mock-service-token:{"obo":"user:default/mock","target":"keda"}',
    );
  });

  it('returns the same record when the task runs the step again', async () => {
    await runAction(
      record,
      { request: ordersRequest, externalId: EXTERNAL_ID },
      { taskId: 'task-8' },
    );
    const again = await runAction(
      record,
      { request: ordersRequest, externalId: EXTERNAL_ID },
      { taskId: 'task-8' },
    );
    expect(again.outputs).toMatchObject({ id: 'req-0001', created: false });
    expect(stub.records.size).toBe(1);
  });

  it('records a request that needs approval as pending with the reasons', async () => {
    const { outputs } = await runAction(record, {
      request: { ...ordersRequest, maxReplicas: 30 },
      externalId: EXTERNAL_ID,
    });
    expect(outputs).toMatchObject({
      state: 'pending',
      autoApproved: false,
      approvalReasons: [
        'maxReplicas 30 is above 20, the most that is approved automatically',
      ],
    });
  });

  it('calls nothing in dry run and answers from the local plan', async () => {
    const { outputs } = await runAction(
      record,
      {
        request: { ...ordersRequest, maxReplicas: 30 },
        externalId: EXTERNAL_ID,
      },
      { dryRun: true },
    );
    expect(stub.calls).toEqual([]);
    expect(outputs).toMatchObject({
      id: 'dry-run',
      state: 'pending',
      autoApproved: false,
    });
  });

  it('loads a record with the request and ExternalId for the provisioning template', async () => {
    await runAction(record, {
      request: ordersRequest,
      externalId: EXTERNAL_ID,
    });
    const { outputs } = await runAction(get, { id: 'req-0001' });
    expect(outputs).toMatchObject({
      id: 'req-0001',
      state: 'provisioning',
      entityRef: 'component:default/orders-worker',
      externalId: EXTERNAL_ID,
      scalerRoleArn: ORDERS_SCALER_ROLE_ARN,
      request: { ...ordersRequest, scaleOnInFlight: true },
    });
  });

  it('reports progress and surfaces the backend’s refusal of an illegal transition', async () => {
    await runAction(record, {
      request: ordersRequest,
      externalId: EXTERNAL_ID,
    });
    const scaler = ORDERS_SCALER_ROLE_ARN;
    const done = await runAction(
      progress,
      { id: 'req-0001', state: 'provisioned', roleArns: { scaler } },
      { taskId: 'task-9' },
    );
    expect(done.outputs).toEqual({ state: 'provisioned' });
    expect(stub.records.get('req-0001')!.provisioning).toEqual({
      taskId: 'task-9',
      roleArns: { scaler },
    });
    await expect(
      runAction(progress, { id: 'req-0001', state: 'failed', error: 'x' }),
    ).rejects.toThrow(
      'keda backend: POST /requests/req-0001/progress answered 409 Conflict: Request req-0001 is provisioned; cannot become failed',
    );
  });

  it('sends the role chain verification with the progress report', async () => {
    await runAction(record, {
      request: ordersRequest,
      externalId: EXTERNAL_ID,
    });
    const verification = {
      ok: true,
      checks: [
        {
          check: 'simulate-scaler-permissions',
          subject: ORDERS_SCALER_ROLE_ARN,
          outcome: 'pass',
          detail: 'sqs:GetQueueAttributes allowed',
        },
        {
          check: 'access-analyzer-validate-policy',
          subject: 'scaler trust policy',
          outcome: 'warning',
          detail: 'could not run: missing access-analyzer:ValidatePolicy',
        },
      ],
    };
    await runAction(
      progress,
      {
        id: 'req-0001',
        state: 'provisioned',
        roleArns: { scaler: ORDERS_SCALER_ROLE_ARN },
        verification,
      },
      { taskId: 'task-9' },
    );
    expect(stub.records.get('req-0001')!.provisioning?.verification).toEqual(
      verification,
    );
  });

  it('names the missing record', async () => {
    await expect(runAction(get, { id: 'req-9999' })).rejects.toThrow(
      'keda backend: GET /requests/req-9999 answered 404 Not Found: No request req-9999',
    );
  });

  it('decommissions the provisioned requests of exactly that workload', async () => {
    const billing = {
      ...ordersRequest,
      namespace: 'billing',
      workload: { kind: 'Deployment' as const, name: 'billing-worker' },
    };
    await runAction(
      record,
      { request: ordersRequest, externalId: EXTERNAL_ID },
      { taskId: 't1' },
    );
    await runAction(
      record,
      { request: billing, externalId: EXTERNAL_ID },
      { taskId: 't2' },
    );
    await runAction(
      record,
      {
        request: { ...ordersRequest, maxReplicas: 30 },
        externalId: EXTERNAL_ID,
      },
      { taskId: 't3' },
    );
    for (const id of ['req-0001', 'req-0002']) {
      await runAction(progress, {
        id,
        state: 'provisioned',
        roleArns: { scaler: 'arn' },
      });
    }
    const target = {
      entityRef: ordersRequest.entityRef,
      cluster: 'demo-eks',
      namespace: 'orders',
      workloadName: 'orders-worker',
      comment: 'removed',
    };

    expect(
      (await runAction(decommission, target, { dryRun: true })).outputs,
    ).toEqual({ decommissioned: [] });
    expect(stub.records.get('req-0001')!.state).toBe('provisioned');

    const { outputs } = await runAction(decommission, target);
    // req-0002 is another workload, req-0003 is still pending
    expect(outputs).toEqual({ decommissioned: ['req-0001'] });
    expect(stub.records.get('req-0001')!.decisions.at(-1)).toMatchObject({
      decision: 'decommissioned',
      comment: 'removed',
    });
    expect(stub.records.get('req-0002')!.state).toBe('provisioned');
    expect(stub.records.get('req-0003')!.state).toBe('pending');
    expect((await runAction(decommission, target)).outputs).toEqual({
      decommissioned: [],
    });
  });

  it('runs the examples', async () => {
    for (const { input } of exampleInputs(record)) {
      const { outputs } = await runAction(record, input);
      expect(outputs.id).toMatch(/^req-/);
    }
    for (const { input } of exampleInputs(progress)) {
      // the example ids do not exist in the stub: the backend's 404 comes back
      await expect(runAction(progress, input)).rejects.toThrow('404 Not Found');
      await expect(
        runAction(progress, input, { dryRun: true }),
      ).resolves.toEqual({
        outputs: { state: input.state },
      });
    }
    for (const { input } of exampleInputs(decommission)) {
      await expect(runAction(decommission, input)).resolves.toEqual({
        outputs: { decommissioned: [] },
      });
    }
    for (const { input } of exampleInputs(get)) {
      await expect(runAction(get, input)).rejects.toThrow(
        `No request ${input.id}`,
      );
    }
  });
});
