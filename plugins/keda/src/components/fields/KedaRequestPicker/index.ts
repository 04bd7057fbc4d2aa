export { KedaRequestPicker, requestOptionLabel } from './KedaRequestPicker';
export type {
  KedaRequestPickerProps,
  KedaRequestPickerUiOptions,
} from './KedaRequestPicker';
export { kedaRequestPickerFormField } from './formField';
