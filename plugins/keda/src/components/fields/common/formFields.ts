import { createFormField } from '@backstage/plugin-scaffolder-react/alpha';
import {
  KedaClusterPicker,
  kedaClusterPickerValidation,
} from '../KedaClusterPicker';
import { KedaPlanPreview, kedaPlanPreviewValidation } from '../KedaPlanPreview';
import { KedaQueuePicker, kedaQueuePickerValidation } from '../KedaQueuePicker';

// The KEDA template's field extensions for the new frontend system
// (loaded lazily by the FormFieldBlueprint extensions in src/alpha).

/** `ui:field: KedaClusterPicker` */
export const kedaClusterPickerFormField = createFormField({
  name: 'KedaClusterPicker',
  component: KedaClusterPicker,
  validation: kedaClusterPickerValidation,
});

/** `ui:field: KedaQueuePicker` */
export const kedaQueuePickerFormField = createFormField({
  name: 'KedaQueuePicker',
  component: KedaQueuePicker,
  validation: kedaQueuePickerValidation,
});

/** `ui:field: KedaPlanPreview` */
export const kedaPlanPreviewFormField = createFormField({
  name: 'KedaPlanPreview',
  component: KedaPlanPreview,
  validation: kedaPlanPreviewValidation,
});
