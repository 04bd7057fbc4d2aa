import { recordingAwsFactory } from '../__testUtils__/awsClients';
import {
  ORDERS_SCALER_ROLE,
  ordersRequest,
  testConfig,
} from '../__testUtils__/fixtures';
import { KedaGuardrailError } from '@keda-self-service/plugin-keda-node';
import { KedaPlanner, withoutBlankFields } from './planner';

describe('withoutBlankFields', () => {
  it('drops the empty strings and nulls a form sends for untouched optional fields, keeping 0 and false', () => {
    expect(
      withoutBlankFields({
        serviceAccountName: '',
        awsEndpoint: null,
        minReplicas: 0,
        scaleOnDelayed: false,
        workload: { kind: '', name: 'orders-worker' },
        list: ['', 'a'],
      }),
    ).toEqual({
      minReplicas: 0,
      scaleOnDelayed: false,
      workload: { name: 'orders-worker' },
      list: ['', 'a'],
    });
  });
});

describe('KedaPlanner', () => {
  const planner = (keda?: object) =>
    new KedaPlanner({
      config: testConfig({ keda }),
      aws: recordingAwsFactory().factory,
    });

  it('plans a form submission with blank optional fields', async () => {
    const { plan } = await planner().plan({
      request: { ...ordersRequest, serviceAccountName: '', awsEndpoint: '' },
      dryRun: true,
    });
    expect(plan.request.serviceAccountName).toBeUndefined();
    expect(plan.scalerRole.name).toBe(ORDERS_SCALER_ROLE);
  });

  it('can return a plan with violations when asked, and lists them otherwise', async () => {
    const request = { ...ordersRequest, maxReplicas: 99 };
    const { plan } = await planner().plan({
      request,
      dryRun: true,
      allowViolations: true,
    });
    expect(plan.guardrails.violations.map(v => v.code)).toEqual([
      'max-replicas-above-ceiling',
    ]);
    const error = await planner()
      .plan({ request, dryRun: true })
      .catch(e => e);
    expect(error).toBeInstanceOf(KedaGuardrailError);
    expect(error.violations).toHaveLength(1);
  });

  it('adopts unmanaged roles only when keda.roles.adoptExistingRoles says so', () => {
    expect(planner().adoptExistingRoles()).toBe(false);
    expect(
      planner({
        roles: {
          path: '/keda/',
          namePrefix: 'keda-sqs-',
          adoptExistingRoles: true,
        },
      }).adoptExistingRoles(),
    ).toBe(true);
  });
});
