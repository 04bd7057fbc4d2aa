import { createScaffolderFieldExtension } from '@backstage/plugin-scaffolder-react';
import {
  KedaClusterPicker,
  kedaClusterPickerValidation,
} from './components/fields/KedaClusterPicker';
import {
  KedaPlanPreview,
  kedaPlanPreviewValidation,
} from './components/fields/KedaPlanPreview';
import {
  KedaQueuePicker,
  kedaQueuePickerValidation,
} from './components/fields/KedaQueuePicker';
import { kedaPlugin } from './plugin';

// The KEDA template's field extensions for apps on the legacy frontend
// system: put them inside <ScaffolderFieldExtensions> of the scaffolder
// route. New-system apps get them from this package's `/alpha` entry point.

/**
 * `ui:field: KedaClusterPicker` for legacy apps.
 * @public
 */
export const KedaClusterPickerFieldExtension = kedaPlugin.provide(
  createScaffolderFieldExtension({
    name: 'KedaClusterPicker',
    component: KedaClusterPicker,
    validation: kedaClusterPickerValidation,
  }),
);

/**
 * `ui:field: KedaQueuePicker` for legacy apps.
 * @public
 */
export const KedaQueuePickerFieldExtension = kedaPlugin.provide(
  createScaffolderFieldExtension({
    name: 'KedaQueuePicker',
    component: KedaQueuePicker,
    validation: kedaQueuePickerValidation,
  }),
);

/**
 * `ui:field: KedaPlanPreview` for legacy apps.
 * @public
 */
export const KedaPlanPreviewFieldExtension = kedaPlugin.provide(
  createScaffolderFieldExtension({
    name: 'KedaPlanPreview',
    component: KedaPlanPreview,
    validation: kedaPlanPreviewValidation,
  }),
);
