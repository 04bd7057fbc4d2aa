/**
 * Domain core of KEDA self-service autoscaling: pure functions and types
 * shared by the scaffolder actions, the keda backend and the frontend.
 *
 * @packageDocumentation
 */
export * from './permissions';
export * from './status';
export * from './queueUrl';
export * from './config';
export * from './constants';
export * from './kedaVersion';
export * from './names';
export * from './iam';
export * from './request';
export * from './guardrails';
export * from './health';
export * from './manifests';
export * from './plan';
export * from './summary';
export * from './requests';
export * from './templates';
export * from './planPreview';
