export {
  componentQueues,
  KedaQueuePicker,
  kedaQueuePickerValidation,
} from './KedaQueuePicker';
export type {
  ComponentQueue,
  KedaQueuePickerUiOptions,
} from './KedaQueuePicker';
