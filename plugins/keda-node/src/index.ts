/**
 * Node.js helpers shared by the keda backend and the scaffolder module:
 * the typed `keda.*` config reader and Kubernetes access.
 *
 * @packageDocumentation
 */
export * from './config';
export * from './kubernetes';
export * from './aws';
