import { KEDA_REQUEST_PICKER_FIELD } from '@keda-self-service/plugin-keda-common';
import { createFormField } from '@backstage/plugin-scaffolder-react/alpha';
import { KedaRequestPicker } from './KedaRequestPicker';

/** The picker as a form field of the new frontend system's scaffolder. */
export const kedaRequestPickerFormField = createFormField({
  name: KEDA_REQUEST_PICKER_FIELD,
  component: KedaRequestPicker,
});
