/**
 * The keda backend plugin: live KEDA scaling status from a watch cache.
 *
 * @packageDocumentation
 */
export { kedaPlugin as default } from './plugin';
export type { KedaProvenanceSource } from './service/KedaStatusService';
export {
  diagnose,
  type DiagnosisInput,
  type SqsTriggerFacts,
} from './status/diagnose';
