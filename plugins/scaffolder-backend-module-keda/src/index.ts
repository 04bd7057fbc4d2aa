/**
 * Scaffolder actions for KEDA SQS autoscaling: plan, write manifests,
 * provision IAM roles, record requests, mark pull requests ready.
 *
 * @packageDocumentation
 */
export { scaffolderModuleKeda as default } from './module';
export * from './actions';
export { KedaPlanner } from './lib/planner';
export type {
  ServiceAccountInfo,
  ServiceAccountReader,
} from './lib/serviceAccounts';
export { KedaRequestsClient } from './lib/kedaRequestsClient';
