import { ResponseError } from '@backstage/errors';
import type { KedaPlanPreview as Preview } from '@keda-self-service/plugin-keda-common';
import { act, screen, waitFor } from '@testing-library/react';
import {
  formApi,
  ORDERS_QUEUE_URL,
  ordersWorker,
  recordingValidation,
  renderField,
} from '../common/__testUtils__/fieldHarness';
import { KedaPlanPreview, kedaPlanPreviewValidation } from './KedaPlanPreview';

jest.setTimeout(90_000);

const FORM = {
  component: 'component:default/orders-worker',
  cluster: 'demo-eks',
  queueUrl: ORDERS_QUEUE_URL,
  workloadKind: 'Deployment',
  namespace: '',
  workloadName: '',
  minReplicas: 1,
  maxReplicas: 6,
};

/** What the backend answers, built from the request it was sent. */
function preview(request: any, overrides: Partial<Preview> = {}): Preview {
  return {
    request: { ...request, queueLength: request.queueLength ?? 5 },
    cluster: {
      name: request.cluster,
      accountId: '111111111111',
      region: 'eu-west-1',
    },
    queue: {
      url: request.queueUrl,
      arn: 'arn:aws:sqs:eu-west-1:222222222222:orders-queue',
      name: 'orders-queue',
      accountId: '222222222222',
      region: 'eu-west-1',
    },
    crossAccount: true,
    scalerRole: {
      name: 'keda-sqs-demo-eks-orders-orders-worker-1a2b3c4d',
      arn: 'arn:aws:iam::222222222222:role/keda/keda-sqs-demo-eks-orders-orders-worker-1a2b3c4d',
      externalIdRequired: true,
    },
    operatorRole: {
      name: 'keda-operator',
      arn: 'arn:aws:iam::111111111111:role/keda-operator',
    },
    manifestDirectory: 'clusters/demo-eks/orders/orders-worker',
    violations: [],
    autoApproved: true,
    approvalReasons: [],
    warnings: [],
    owner: 'group:default/orders-team',
    ...overrides,
  };
}

const answering = (overrides: Partial<Preview> = {}) =>
  jest.fn(async (request: any) => preview(request, overrides));

const fast = { debounceMs: 10 };

describe('KedaPlanPreview', () => {
  it("plans the form's request, defaulting namespace and workload from the component, and shows roles and no approval", async () => {
    const previewPlan = answering();
    await renderField(KedaPlanPreview, {
      field: 'planPreview',
      value: {},
      formData: FORM,
      uiOptions: fast,
      schema: { type: 'object', title: 'What the run will create' },
      api: formApi({ previewPlan }),
    });
    expect(await screen.findByText('No approval needed')).toBeInTheDocument();
    expect(previewPlan).toHaveBeenCalledTimes(1);
    // As the template's plan step builds it: namespace and workload from the
    // component's Kubernetes annotations, blank fields left to the defaults.
    expect(previewPlan.mock.calls[0][0]).toEqual({
      entityRef: 'component:default/orders-worker',
      cluster: 'demo-eks',
      queueUrl: ORDERS_QUEUE_URL,
      namespace: 'orders',
      workload: { kind: 'Deployment', name: 'orders-worker' },
      kubernetesId: 'orders-worker',
      minReplicas: 1,
      maxReplicas: 6,
    });
    expect(
      screen.getByText('keda-sqs-demo-eks-orders-orders-worker-1a2b3c4d'),
    ).toBeInTheDocument();
    expect(screen.getByText('keda-operator')).toBeInTheDocument();
    expect(
      screen.getByText(/orders-queue — account 222222222222, eu-west-1/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/demo-eks — account 111111111111, eu-west-1/),
    ).toBeInTheDocument();
  });

  it('asks once the person stops typing, with the last values', async () => {
    const previewPlan = answering();
    const { setForm } = await renderField(KedaPlanPreview, {
      field: 'planPreview',
      value: {},
      formData: FORM,
      uiOptions: { debounceMs: 300 },
      schema: { type: 'object' },
      api: formApi({ previewPlan }),
    });
    await waitFor(() => expect(previewPlan).toHaveBeenCalledTimes(1));
    // Three quick changes, as keystrokes: one more request, for the last.
    act(() => setForm({ maxReplicas: 7 }));
    act(() => setForm({ maxReplicas: 70 }));
    act(() => setForm({ maxReplicas: 8 }));
    await waitFor(() => expect(previewPlan).toHaveBeenCalledTimes(2));
    expect(previewPlan.mock.calls[1][0].maxReplicas).toBe(8);
    expect(previewPlan).toHaveBeenCalledTimes(2);
  });

  it('says why approval is needed', async () => {
    await renderField(KedaPlanPreview, {
      field: 'planPreview',
      value: {},
      formData: { ...FORM, maxReplicas: 20 },
      uiOptions: fast,
      schema: { type: 'object' },
      api: formApi({
        previewPlan: answering({
          autoApproved: false,
          approvalReasons: [
            'maxReplicas 20 is above the auto-approve limit of 10',
          ],
        }),
      }),
    });
    expect(
      await screen.findByText('Needs approval by the platform team'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('maxReplicas 20 is above the auto-approve limit of 10'),
    ).toBeInTheDocument();
  });

  it('shows guardrail violations as blocking, with their field', async () => {
    await renderField(KedaPlanPreview, {
      field: 'planPreview',
      value: {},
      formData: FORM,
      uiOptions: fast,
      schema: { type: 'object' },
      api: formApi({
        previewPlan: answering({
          autoApproved: false,
          violations: [
            {
              code: 'queue-account-not-allowed',
              field: 'queueUrl',
              message: 'Queue account 444444444444 is not allowed',
            },
          ],
        }),
      }),
    });
    expect(
      await screen.findByText('Blocked by the guardrails'),
    ).toBeInTheDocument();
    expect(screen.getByText('queueUrl:')).toBeInTheDocument();
    expect(
      screen.getByText('Queue account 444444444444 is not allowed'),
    ).toBeInTheDocument();
    expect(screen.queryByText('No approval needed')).not.toBeInTheDocument();
  });

  it('does not ask the backend while the request is invalid, and says which field', async () => {
    const previewPlan = answering();
    await renderField(KedaPlanPreview, {
      field: 'planPreview',
      value: {},
      formData: { ...FORM, queueUrl: 'sqs.eu-west-1.amazonaws.com/orders' },
      uiOptions: fast,
      schema: { type: 'object' },
      api: formApi({ previewPlan }),
    });
    expect(await screen.findByText('Not planned yet')).toBeInTheDocument();
    expect(screen.getByText('queueUrl:')).toBeInTheDocument();
    expect(previewPlan).not.toHaveBeenCalled();
  });

  it('says when the component is not in the catalog, without asking the backend', async () => {
    const previewPlan = answering();
    await renderField(KedaPlanPreview, {
      field: 'planPreview',
      value: {},
      formData: { ...FORM, component: 'component:default/orders-wroker' },
      uiOptions: fast,
      schema: { type: 'object' },
      api: formApi({ previewPlan }),
    });
    expect(await screen.findByText('Not planned yet')).toBeInTheDocument();
    expect(
      screen.getByText(
        'component:default/orders-wroker is not in the catalog, or you may not read it; pick the component from the list',
      ),
    ).toBeInTheDocument();
    expect(previewPlan).not.toHaveBeenCalled();
  });

  it("shows the backend's refusal (another team's component)", async () => {
    const refusal = await ResponseError.fromResponse(
      new Response(
        JSON.stringify({
          error: {
            name: 'NotAllowedError',
            message:
              'user:default/dana may not request autoscaling for component:default/billing-worker: it is owned by group:default/billing-team',
          },
          response: { statusCode: 403 },
        }),
        { status: 403, headers: { 'Content-Type': 'application/json' } },
      ),
    );
    await renderField(KedaPlanPreview, {
      field: 'planPreview',
      value: {},
      formData: FORM,
      uiOptions: fast,
      schema: { type: 'object' },
      api: formApi({
        previewPlan: jest.fn(async () => {
          throw refusal;
        }),
      }),
    });
    expect(
      await screen.findByText('The run would be refused'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/owned by group:default\/billing-team \(HTTP 403\)/),
    ).toBeInTheDocument();
  });
});

describe('kedaPlanPreviewValidation', () => {
  const holder = (previewPlan: jest.Mock) => {
    const api = formApi({ previewPlan });
    return {
      get: (ref: { id: string }) =>
        ref.id === 'plugin.catalog.service'
          ? ({ getEntityByRef: async () => ordersWorker } as any)
          : (api as any),
    };
  };

  it('lets a plan without violations through', async () => {
    const { errors, validation } = recordingValidation();
    await kedaPlanPreviewValidation({}, validation, {
      apiHolder: holder(answering()),
      formData: FORM,
      schema: {},
    });
    expect(errors).toEqual([]);
  });

  it('stops at the violations the run would fail with', async () => {
    const { errors, validation } = recordingValidation();
    await kedaPlanPreviewValidation({}, validation, {
      apiHolder: holder(
        answering({
          violations: [
            {
              code: 'max-replicas',
              field: 'maxReplicas',
              message: 'maxReplicas 60 is above the limit of 50',
            },
          ],
        }),
      ),
      formData: { ...FORM, maxReplicas: 60 },
      schema: {},
    });
    expect(errors).toEqual([
      'maxReplicas: maxReplicas 60 is above the limit of 50',
    ]);
  });

  it('stops at an invalid request, naming the field, without asking the backend', async () => {
    const previewPlan = answering();
    const { errors, validation } = recordingValidation();
    await kedaPlanPreviewValidation({}, validation, {
      apiHolder: holder(previewPlan),
      formData: { ...FORM, minReplicas: 9, maxReplicas: 6 },
      schema: {},
    });
    expect(errors).toEqual([
      'minReplicas: minReplicas (9) must not exceed maxReplicas (6)',
    ]);
    expect(previewPlan).not.toHaveBeenCalled();
  });

  it('leaves the decision to the run when the backend cannot be reached', async () => {
    const { errors, validation } = recordingValidation();
    await kedaPlanPreviewValidation({}, validation, {
      apiHolder: holder(
        jest.fn(async () => {
          throw new TypeError('Failed to fetch');
        }),
      ),
      formData: FORM,
      schema: {},
    });
    expect(errors).toEqual([]);
  });
});
