import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';

// `scaffolder-form-field:keda/…` — the KEDA template's form fields, attached
// to the scaffolder's form-fields API.

/** `ui:field: KedaClusterPicker` — the configured clusters with account and region. @alpha */
export const kedaClusterPickerField = FormFieldBlueprint.make({
  name: 'cluster-picker',
  params: {
    field: () =>
      import('../components/fields/common/formFields').then(
        m => m.kedaClusterPickerFormField,
      ),
  },
});

/** `ui:field: KedaQueuePicker` — the component's SQS queues, any URL typed. @alpha */
export const kedaQueuePickerField = FormFieldBlueprint.make({
  name: 'queue-picker',
  params: {
    field: () =>
      import('../components/fields/common/formFields').then(
        m => m.kedaQueuePickerFormField,
      ),
  },
});

/** `ui:field: KedaPlanPreview` — the live dry-run plan. @alpha */
export const kedaPlanPreviewField = FormFieldBlueprint.make({
  name: 'plan-preview',
  params: {
    field: () =>
      import('../components/fields/common/formFields').then(
        m => m.kedaPlanPreviewFormField,
      ),
  },
});
