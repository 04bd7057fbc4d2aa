export {
  clusterFacts,
  KedaClusterPicker,
  kedaClusterPickerValidation,
} from './KedaClusterPicker';
