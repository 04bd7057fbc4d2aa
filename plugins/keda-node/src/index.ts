/**
 * Node.js helpers shared by the keda backend and the scaffolder module:
 * the typed `keda.*` config reader, the cluster service, AWS and Kubernetes
 * access.
 *
 * @packageDocumentation
 */
export * from './config';
export * from './configService';
export * from './clusters';
export * from './kubernetes';
export * from './aws';
