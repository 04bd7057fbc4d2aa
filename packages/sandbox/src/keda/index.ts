export {
  startKedaLoop,
  type KedaLoop,
  type KedaLoopOptions,
  type KedaLoopStats,
} from './controller';
export {
  decideScaling,
  computeHpa,
  formatQuantity,
  pauseState,
  type ScalingDecision,
  type ScalingInput,
  type TriggerReading,
} from './scaling';
export { parseSqsTriggerMetadata, type SqsTriggerMetadata } from './sqsTrigger';
export { KedaAwsIdentity, describeAwsError } from './awsIdentity';
