import type { Entity } from '@backstage/catalog-model';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import type { FieldExtensionComponentProps } from '@backstage/plugin-scaffolder-react';
import type {
  KedaClusterInfo,
  KedaPlanPreview,
} from '@keda-self-service/plugin-keda-common';
import { useState, type ComponentType } from 'react';
import { kedaApiRef } from '../../../../api';
import { ordersWorkerEntity } from '../../../../fixtures';

// Renders one field extension the way the scaffolder's form does: the
// field's value in state, `formContext.formData` holding the whole form.

export const ORDERS_QUEUE_URL =
  'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue';

/** orders-worker, depending on its queue and a database. */
export const ordersWorker: Entity = {
  ...ordersWorkerEntity,
  relations: [
    { type: 'dependsOn', targetRef: 'resource:default/orders-queue' },
    { type: 'dependsOn', targetRef: 'resource:default/orders-db' },
    { type: 'dependsOn', targetRef: 'component:default/orders-api' },
    { type: 'ownedBy', targetRef: 'group:default/orders-team' },
  ],
};

const resource = (
  name: string,
  type: string,
  metadata: Partial<Entity['metadata']> = {},
): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: { name, namespace: 'default', ...metadata },
  spec: { type, owner: 'orders-team' },
});

/** The example catalog's way: the URL in the description. */
export const ordersQueue = resource('orders-queue', 'sqs-queue', {
  description: ORDERS_QUEUE_URL,
});
export const ordersDb = resource('orders-db', 'database', {
  description: 'https://sqs.eu-west-1.amazonaws.com/222222222222/not-a-queue',
});
/** A queue another component depends on. */
export const billingQueue = resource('billing-queue', 'sqs-queue', {
  annotations: {
    'keda.backstage.io/sqs-queue-url':
      'https://sqs.eu-west-1.amazonaws.com/222222222222/billing-queue',
  },
});

export const CLUSTERS: KedaClusterInfo[] = [
  {
    cluster: 'demo-eks',
    synced: true,
    stale: false,
    accountId: '111111111111',
    region: 'eu-west-1',
  },
  {
    cluster: 'prod-us',
    title: 'Production US',
    synced: true,
    stale: false,
    accountId: '333333333333',
    region: 'us-east-1',
  },
];

export function formApi(
  overrides: {
    listClusters?: jest.Mock;
    previewPlan?: jest.Mock;
  } = {},
) {
  return {
    getStatus: jest.fn(),
    listClusters: overrides.listClusters ?? jest.fn(async () => CLUSTERS),
    previewPlan:
      overrides.previewPlan ??
      jest.fn(async (): Promise<KedaPlanPreview> => {
        throw new Error('previewPlan not expected');
      }),
  };
}

export interface HarnessOptions {
  /** the field's own initial value */
  value?: unknown;
  /** the rest of the form */
  formData?: Record<string, unknown>;
  field: string;
  uiOptions?: Record<string, unknown>;
  schema?: Record<string, unknown>;
  rawErrors?: string[];
  api?: ReturnType<typeof formApi>;
  entities?: Entity[];
}

/**
 * Renders `Field` with its value in state; returns the onChange spy and a
 * `setForm` to change the other fields (as typing in them would).
 */
export async function renderField(
  Field: ComponentType<FieldExtensionComponentProps<any, any>>,
  options: HarnessOptions,
): Promise<{
  api: ReturnType<typeof formApi>;
  onChange: jest.Mock;
  setForm: (values: Record<string, unknown>) => void;
}> {
  const onChange = jest.fn();
  let setForm: (values: Record<string, unknown>) => void = () => {};
  const Harness = () => {
    const [form, setFormState] = useState<Record<string, unknown>>({
      ...options.formData,
      ...(options.value !== undefined
        ? { [options.field]: options.value }
        : {}),
    });
    setForm = values => setFormState(current => ({ ...current, ...values }));
    const props = {
      name: options.field,
      formData: form[options.field],
      formContext: { formData: form },
      onChange: (value: unknown) => {
        onChange(value);
        setFormState(current => ({ ...current, [options.field]: value }));
      },
      schema: { type: 'string', ...options.schema },
      uiSchema: { 'ui:options': options.uiOptions ?? {} },
      idSchema: { $id: `root_${options.field}` },
      rawErrors: options.rawErrors,
      required: true,
      disabled: false,
      readonly: false,
      onBlur: () => {},
      onFocus: () => {},
      registry: {} as any,
      errorSchema: {},
    } as unknown as FieldExtensionComponentProps<any, any>;
    return <Field {...props} />;
  };
  const api = options.api ?? formApi();
  await renderInTestApp(<Harness />, {
    apis: [
      [kedaApiRef, api],
      catalogApiMock({
        entities: options.entities ?? [
          ordersWorker,
          ordersQueue,
          ordersDb,
          billingQueue,
        ],
      }),
    ],
  });
  return {
    api,
    onChange,
    setForm: (values: Record<string, unknown>) => setForm(values),
  };
}

/** A `FieldValidation` that records its errors. */
export function recordingValidation() {
  const errors: string[] = [];
  return {
    errors,
    validation: {
      addError: (message: string) => {
        errors.push(message);
        return undefined as any;
      },
      __errors: errors,
    } as any,
  };
}
