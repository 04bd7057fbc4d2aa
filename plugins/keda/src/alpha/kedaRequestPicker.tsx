import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';

/**
 * `scaffolder-form-field:keda/request-picker` — the `KedaRequestPicker`
 * template field (an entity's current KEDA requests; answers the id).
 *
 * @alpha
 */
export const kedaRequestPickerField = FormFieldBlueprint.make({
  name: 'request-picker',
  params: {
    field: () =>
      import('../components/fields/KedaRequestPicker').then(
        m => m.kedaRequestPickerFormField,
      ),
  },
});
