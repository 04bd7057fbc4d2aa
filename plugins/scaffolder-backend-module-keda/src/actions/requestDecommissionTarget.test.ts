import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { KedaPlanner } from '../lib/planner';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import {
  exampleInputs,
  kedaConfigData,
  ORDERS_SCALER_ROLE_ARN,
  ordersRequest,
  runAction,
} from '../__testUtils__/fixtures';
import {
  componentEntity,
  startKedaBackend,
  type KedaBackend,
} from '../__testUtils__/kedaBackend';
import { createKedaRequestDecommissionAction } from './requestDecommission';
import { createKedaRequestDecommissionTargetAction } from './requestDecommissionTarget';
import { createKedaRequestProgressAction } from './requestProgress';
import { createKedaRequestRecordAction } from './requestRecord';

const EXTERNAL_ID = '0123456789abcdef0123456789abcdef';

// Decommission by request id: the template's first step resolves the
// request on record, the last one closes it. Against the real keda backend
// plugin, as in requestActions.test.ts.
describe('decommission by request id', () => {
  const configData = {
    app: { baseUrl: 'http://localhost:3000' },
    keda: kedaConfigData(),
  };
  const config = new ConfigReader(configData);
  let keda: KedaBackend;
  let tasks = 0;
  let record: ReturnType<typeof createKedaRequestRecordAction>;
  let progress: ReturnType<typeof createKedaRequestProgressAction>;
  let target: ReturnType<typeof createKedaRequestDecommissionTargetAction>;
  let decommission: ReturnType<typeof createKedaRequestDecommissionAction>;

  const billing = {
    ...ordersRequest,
    entityRef: 'component:default/billing-worker',
    namespace: 'billing',
    workload: { kind: 'Deployment' as const, name: 'billing-worker' },
    kubernetesId: 'billing-worker',
    queueUrl: ordersRequest.queueUrl.replace('orders-queue', 'billing-queue'),
  };

  /**
   * Records a request (auto-approved, so its own run provisions) and moves
   * it to `state` (provisioned by default) as that run would report it.
   */
  async function recorded(
    request: typeof ordersRequest & { requestId?: string },
    state: 'provisioned' | 'failed' | 'provisioning' = 'provisioned',
  ): Promise<string> {
    const taskId = `t-${++tasks}`;
    const { outputs } = await runAction(
      record,
      { request, externalId: EXTERNAL_ID },
      { taskId },
    );
    if (state !== 'provisioning') {
      // the backend takes only the role its plan names
      const planned = (await keda.record(outputs.id)).plan.scalerRole.arn;
      await runAction(
        progress,
        {
          id: outputs.id,
          state,
          ...(state === 'provisioned'
            ? { roleArns: { scaler: planned } }
            : { error: 'AccessDenied' }),
        },
        { taskId },
      );
    }
    return outputs.id;
  }

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
        getBaseUrl: async () => keda.kedaBaseUrl,
        getExternalBaseUrl: async () => keda.kedaBaseUrl,
      },
      auth: mockServices.auth(),
    });
    const planner = new KedaPlanner({
      config,
      aws: recordingAwsFactory().factory,
    });
    record = createKedaRequestRecordAction({ client, planner, config });
    progress = createKedaRequestProgressAction({ client });
    target = createKedaRequestDecommissionTargetAction({ client });
    decommission = createKedaRequestDecommissionAction({ client });
  });

  afterEach(() => keda?.stop());

  it('resolves cluster, namespace, workload, queue and role from the recorded request', async () => {
    const id = await recorded(ordersRequest);
    const { outputs } = await runAction(target, {
      entityRef: ordersRequest.entityRef,
      requestId: id,
    });
    expect(outputs).toEqual({
      requestId: id,
      state: 'provisioned',
      cluster: 'demo-eks',
      namespace: 'orders',
      workloadKind: 'Deployment',
      workloadName: 'orders-worker',
      queueUrl: ordersRequest.queueUrl,
      scalerRoleArn: ORDERS_SCALER_ROLE_ARN,
      request: expect.objectContaining(ordersRequest),
    });
  });

  it("without an id picks the entity's only current workload, ignoring other entities", async () => {
    await recorded(billing);
    const id = await recorded(ordersRequest, 'failed');
    const { outputs } = await runAction(target, {
      entityRef: ordersRequest.entityRef,
      requestId: '',
    });
    expect(outputs).toMatchObject({ requestId: id, state: 'failed' });
  });

  it('accepts a queue URL that matches the record (earlier form)', async () => {
    const id = await recorded(ordersRequest);
    const { outputs } = await runAction(target, {
      entityRef: ordersRequest.entityRef,
      cluster: 'demo-eks',
      queueUrl: ordersRequest.queueUrl,
    });
    expect(outputs.requestId).toBe(id);
  });

  it('refuses a queue URL that differs from the record, naming both', async () => {
    const id = await recorded(ordersRequest);
    const other = ordersRequest.queueUrl.replace('orders-queue', 'other');
    await expect(
      runAction(target, {
        entityRef: ordersRequest.entityRef,
        requestId: id,
        queueUrl: other,
      }),
    ).rejects.toThrow(
      `The request on record does not match the form: queueUrl '${other}' is not the recorded '${ordersRequest.queueUrl}'`,
    );
    await expect(
      runAction(target, {
        entityRef: ordersRequest.entityRef,
        queueUrl: other,
      }),
    ).rejects.toThrow(
      /None of component:default\/orders-worker's current requests matches the form/,
    );
  });

  it("refuses another entity's request, one still in flight, an unknown id and an entity without any", async () => {
    const billingId = await recorded(billing);
    const inFlight = await recorded(ordersRequest, 'provisioning');
    await expect(
      runAction(target, {
        entityRef: ordersRequest.entityRef,
        requestId: billingId,
      }),
    ).rejects.toThrow(
      `requestId: request ${billingId} belongs to component:default/billing-worker, not component:default/orders-worker`,
    );
    await expect(
      runAction(target, {
        entityRef: ordersRequest.entityRef,
        requestId: inFlight,
      }),
    ).rejects.toThrow(
      `requestId: request ${inFlight} is provisioning, only a provisioned or failed request can be decommissioned; wait until provisioning has finished`,
    );
    await expect(
      runAction(target, {
        entityRef: ordersRequest.entityRef,
        requestId: 'req-9999',
      }),
    ).rejects.toThrow('requestId: there is no KEDA request req-9999');
    await expect(
      runAction(target, { entityRef: ordersRequest.entityRef }),
    ).rejects.toThrow(
      'component: component:default/orders-worker has no current KEDA request',
    );
  });

  it('asks which when the entity has current requests for two workloads', async () => {
    await recorded(ordersRequest);
    await recorded({
      ...ordersRequest,
      workload: { kind: 'Deployment', name: 'orders-replay' },
    });
    await expect(
      runAction(target, { entityRef: ordersRequest.entityRef }),
    ).rejects.toThrow(/^requestId: .* has current requests for 2 workloads/);
  });

  it('closes the chosen request and leaves other workloads and entities alone; a re-run converges', async () => {
    const ordersId = await recorded(ordersRequest);
    const replayId = await recorded({
      ...ordersRequest,
      workload: { kind: 'Deployment', name: 'orders-replay' },
    });
    const billingId = await recorded(billing);
    const input = {
      requestId: ordersId,
      entityRef: ordersRequest.entityRef,
      comment: 'removed',
    };

    expect(
      (await runAction(decommission, input, { dryRun: true })).outputs,
    ).toEqual({ decommissioned: [] });
    expect((await keda.record(ordersId)).state).toBe('provisioned');

    expect((await runAction(decommission, input)).outputs).toEqual({
      decommissioned: [ordersId],
    });
    expect((await keda.record(ordersId)).decisions.at(-1)).toMatchObject({
      actor: 'user:default/mock',
      decision: 'decommissioned',
      comment: 'removed',
    });
    expect((await keda.record(replayId)).state).toBe('provisioned');
    expect((await keda.record(billingId)).state).toBe('provisioned');
    expect((await runAction(decommission, input)).outputs).toEqual({
      decommissioned: [],
    });
  });

  it('refuses a request id of another entity and a call naming neither id nor workload', async () => {
    const billingId = await recorded(billing);
    await expect(
      runAction(decommission, {
        requestId: billingId,
        entityRef: ordersRequest.entityRef,
      }),
    ).rejects.toThrow(
      `requestId: request ${billingId} belongs to component:default/billing-worker, not component:default/orders-worker`,
    );
    await expect(
      runAction(decommission, { entityRef: ordersRequest.entityRef }),
    ).rejects.toThrow(
      'Give requestId (the request whose autoscaling was removed), or all of entityRef, cluster, namespace and workloadName; missing cluster, namespace, workloadName',
    );
    expect((await keda.record(billingId)).state).toBe('provisioned');
  });

  it('runs the examples against a recorded request', async () => {
    // recorded under the id the examples name (request.requestId)
    const id = await recorded({ ...ordersRequest, requestId: 'req-0001' });
    expect(id).toBe('req-0001');
    for (const { input } of exampleInputs(target)) {
      expect((await runAction(target, input)).outputs.requestId).toBe(id);
    }
    const [byId, byWorkload] = exampleInputs(decommission);
    expect((await runAction(decommission, byId.input)).outputs).toEqual({
      decommissioned: [id],
    });
    expect((await runAction(decommission, byWorkload.input)).outputs).toEqual({
      decommissioned: [],
    });
  });
});
