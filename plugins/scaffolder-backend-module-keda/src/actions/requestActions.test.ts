import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { KedaPlanner } from '../lib/planner';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import {
  exampleInputs,
  kedaConfigData,
  ORDERS_SCALER_ROLE_ARN,
  ordersRequest,
  QUEUE_ACCOUNT,
  runAction,
  scalerRoleNameOf,
} from '../__testUtils__/fixtures';
import {
  componentEntity,
  startKedaBackend,
  type KedaBackend,
} from '../__testUtils__/kedaBackend';
import { createKedaRequestDecommissionAction } from './requestDecommission';
import { createKedaRequestGetAction } from './requestGet';
import { createKedaRequestProgressAction } from './requestProgress';
import { createKedaRequestRecordAction } from './requestRecord';

const EXTERNAL_ID = '0123456789abcdef0123456789abcdef';

// The actions' HTTP client against the REAL keda backend plugin, started
// in-process (SQLite in memory, the mock permissions allow everything, so
// the mock initiator user:default/mock may record for any component).
describe('request actions against the keda backend', () => {
  const configData = {
    app: { baseUrl: 'http://localhost:3000' },
    keda: kedaConfigData(),
  };
  const config = new ConfigReader(configData);
  let keda: KedaBackend;
  let record: ReturnType<typeof createKedaRequestRecordAction>;
  let get: ReturnType<typeof createKedaRequestGetAction>;
  let progress: ReturnType<typeof createKedaRequestProgressAction>;
  let decommission: ReturnType<typeof createKedaRequestDecommissionAction>;

  beforeEach(async () => {
    keda = await startKedaBackend({
      config: configData,
      entities: [
        componentEntity('orders-worker', 'group:default/team-orders'),
        componentEntity('billing-worker', 'group:default/team-billing'),
      ],
    });
    const client = new KedaRequestsClient({
      discovery: {
        getBaseUrl: async (pluginId: string) => {
          expect(pluginId).toBe('keda');
          return keda.kedaBaseUrl;
        },
        getExternalBaseUrl: async () => keda.kedaBaseUrl,
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

  afterEach(() => keda?.stop());

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
      id: expect.any(String),
      state: 'provisioning',
      autoApproved: true,
      approvalReasons: [],
      url: `http://localhost:3000/keda/requests/${outputs.id}`,
      created: true,
    });
    const [call] = keda.calls();
    expect(call).toMatchObject({
      method: 'POST',
      path: '/requests',
      status: 201,
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
    // the backend recorded it for the initiator, with the pull request
    expect(await keda.record(outputs.id)).toMatchObject({
      id: outputs.id,
      requester: 'user:default/mock',
      owner: 'group:default/team-orders',
      state: 'provisioning',
      pullRequest,
      externalId: EXTERNAL_ID,
    });
  });

  it('returns the same record when the task runs the step again', async () => {
    const first = await runAction(
      record,
      { request: ordersRequest, externalId: EXTERNAL_ID },
      { taskId: 'task-8' },
    );
    const again = await runAction(
      record,
      { request: ordersRequest, externalId: EXTERNAL_ID },
      { taskId: 'task-8' },
    );
    expect(again.outputs).toMatchObject({
      id: first.outputs.id,
      created: false,
    });
    expect(keda.calls().map(c => c.status)).toEqual([201, 200]);
    expect(await keda.records()).toHaveLength(1);
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
    expect(keda.calls()).toEqual([]);
    expect(await keda.records()).toEqual([]);
    expect(outputs).toMatchObject({
      id: 'dry-run',
      state: 'pending',
      autoApproved: false,
    });
  });

  it('loads a record with the request and ExternalId for the provisioning template', async () => {
    const recorded = await runAction(record, {
      request: ordersRequest,
      externalId: EXTERNAL_ID,
    });
    const { outputs } = await runAction(get, { id: recorded.outputs.id });
    expect(outputs).toMatchObject({
      id: recorded.outputs.id,
      state: 'provisioning',
      entityRef: 'component:default/orders-worker',
      externalId: EXTERNAL_ID,
      scalerRoleArn: ORDERS_SCALER_ROLE_ARN,
      request: { ...ordersRequest, scaleOnInFlight: true },
    });
  });

  it('reports progress and surfaces the backend’s refusal of an illegal transition', async () => {
    // the auto-approved run that recorded the request reports on it
    const { outputs } = await runAction(
      record,
      { request: ordersRequest, externalId: EXTERNAL_ID },
      { taskId: 'task-9' },
    );
    const id = outputs.id;
    const scaler = ORDERS_SCALER_ROLE_ARN;
    // a report of another task is not taken
    await expect(
      runAction(
        progress,
        { id, state: 'provisioned', roleArns: { scaler } },
        { taskId: 'task-other' },
      ),
    ).rejects.toThrow(
      `keda backend: POST /requests/${id}/progress answered 409 Conflict: KEDA request '${id}' is provisioned by task task-9, not task-other; the report of the older task is ignored`,
    );
    const done = await runAction(
      progress,
      { id, state: 'provisioned', roleArns: { scaler } },
      { taskId: 'task-9' },
    );
    expect(done.outputs).toEqual({ state: 'provisioned' });
    const provisioned = await keda.record(id);
    expect(provisioned.state).toBe('provisioned');
    expect(provisioned.provisioning).toMatchObject({
      taskId: 'task-9',
      roleArns: { scaler },
    });
    expect(provisioned.provisioning?.error).toBeUndefined();
    await expect(
      runAction(progress, { id, state: 'failed', error: 'x' }),
    ).rejects.toThrow(
      new RegExp(
        `^keda backend: POST /requests/${id}/progress answered 409 Conflict: KEDA request '${id}' is provisioned .*; it cannot become failed from there`,
      ),
    );
    // a report naming another role than the plan's is refused
    const other = await runAction(
      record,
      {
        request: { ...ordersRequest, namespace: 'other' },
        externalId: EXTERNAL_ID,
      },
      { taskId: 'task-10' },
    );
    await expect(
      runAction(
        progress,
        { id: other.outputs.id, state: 'provisioned', roleArns: { scaler } },
        { taskId: 'task-10' },
      ),
    ).rejects.toThrow(
      `answered 400 Bad Request: roleArns.scaler: reported ${scaler} but the request's plan is`,
    );
  });

  it('sends the role chain verification with the progress report', async () => {
    const { outputs } = await runAction(
      record,
      { request: ordersRequest, externalId: EXTERNAL_ID },
      { taskId: 'task-9' },
    );
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
        id: outputs.id,
        state: 'provisioned',
        roleArns: { scaler: ORDERS_SCALER_ROLE_ARN },
        verification,
      },
      { taskId: 'task-9' },
    );
    expect((await keda.record(outputs.id)).provisioning?.verification).toEqual(
      verification,
    );
  });

  it('names the missing record', async () => {
    await expect(runAction(get, { id: 'req-9999' })).rejects.toThrow(
      "keda backend: GET /requests/req-9999 answered 404 Not Found: KEDA request 'req-9999' does not exist",
    );
  });

  it('decommissions the provisioned requests of exactly that workload', async () => {
    const billing = {
      ...ordersRequest,
      namespace: 'billing',
      workload: { kind: 'Deployment' as const, name: 'billing-worker' },
    };
    const provisioned = async (
      request: typeof ordersRequest,
      taskId: string,
    ) => {
      const { outputs } = await runAction(
        record,
        { request, externalId: EXTERNAL_ID },
        { taskId },
      );
      await runAction(
        progress,
        {
          id: outputs.id,
          state: 'provisioned',
          roleArns: {
            scaler: `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/${scalerRoleNameOf(
              request,
            )}`,
          },
        },
        { taskId },
      );
      return outputs.id as string;
    };
    const orders = await provisioned(ordersRequest, 't1');
    const billingId = await provisioned(billing, 't2');
    const change = await runAction(
      record,
      {
        request: { ...ordersRequest, maxReplicas: 30 },
        externalId: EXTERNAL_ID,
      },
      { taskId: 't3' },
    );
    expect(change.outputs.state).toBe('pending');
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
    expect((await keda.record(orders)).state).toBe('provisioned');

    const { outputs } = await runAction(decommission, target);
    // billing is another workload, the change is still pending
    expect(outputs).toEqual({ decommissioned: [orders] });
    expect((await keda.record(orders)).decisions.at(-1)).toMatchObject({
      actor: 'user:default/mock',
      decision: 'decommissioned',
      comment: 'removed',
    });
    expect((await keda.record(billingId)).state).toBe('provisioned');
    expect((await keda.record(change.outputs.id)).state).toBe('pending');
    expect((await runAction(decommission, target)).outputs).toEqual({
      decommissioned: [],
    });
  });

  it('refuses a second request for a workload while one is in flight', async () => {
    const first = await runAction(
      record,
      { request: ordersRequest, externalId: EXTERNAL_ID },
      { taskId: 't1' },
    );
    await expect(
      runAction(
        record,
        {
          request: { ...ordersRequest, maxReplicas: 30 },
          externalId: EXTERNAL_ID,
        },
        { taskId: 't2' },
      ),
    ).rejects.toThrow(
      `answered 409 Conflict: component:default/orders-worker (demo-eks/orders/Deployment/orders-worker) already has request ${first.outputs.id} in flight (provisioning, by user:default/mock)`,
    );
    expect(await keda.records()).toHaveLength(1);
  });

  it('runs the examples', async () => {
    const recorded: string[] = [];
    for (const { input } of exampleInputs(record)) {
      const { outputs } = await runAction(record, input);
      expect((await keda.record(outputs.id)).id).toBe(outputs.id);
      recorded.push(outputs.id);
    }
    for (const example of exampleInputs(progress)) {
      // `verification: ${{ steps.scalerRole.output.verification }}` is
      // rendered by the scaffolder; the backend validates the body against
      // its OpenAPI document before it looks the request up
      const input: JsonObject =
        typeof example.input.verification === 'string'
          ? { ...example.input, verification: { ok: true, checks: [] } }
          : example.input;
      // the example ids do not exist in the backend: its 404 comes back
      await expect(runAction(progress, input)).rejects.toThrow(
        `answered 404 Not Found: KEDA request '${input.id}' does not exist`,
      );
      await expect(
        runAction(progress, input, { dryRun: true }),
      ).resolves.toEqual({
        outputs: { state: input.state },
      });
    }
    for (const { input } of exampleInputs(decommission)) {
      // the example's req-0001 is the request the record example recorded
      // (still provisioning, so nothing current to decommission)
      const named =
        input.requestId === 'req-0001'
          ? { ...input, requestId: recorded[0] }
          : input;
      await expect(runAction(decommission, named)).resolves.toEqual({
        outputs: { decommissioned: [] },
      });
    }
    for (const { input } of exampleInputs(get)) {
      await expect(runAction(get, input)).rejects.toThrow(
        `KEDA request '${input.id}' does not exist`,
      );
    }
  });
});
