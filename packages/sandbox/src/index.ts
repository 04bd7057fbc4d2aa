/**
 * Local stand-ins for AWS, GitHub and an EKS cluster running KEDA, for the
 * start command and the tests. Nothing in plugins/ imports this package: the
 * plugins reach the stand-ins through ordinary configuration only.
 *
 * @packageDocumentation
 */
export { startSandbox, type Sandbox, type SandboxOptions } from './sandbox';
export {
  seedSandbox,
  DEMO,
  provisionerPolicy,
  parseRepoUrl,
  ensurePodIdentityNode,
} from './seed';
export {
  loadConfigFiles,
  readPortalFacts,
  type PortalFacts,
} from './portalConfig';
export * from './aws';
export * from './kubernetes';
export * from './keda';
export * from './github';
export * from './gitops';
export {
  SeededRandom,
  runs,
  seedFor,
  soak,
  reportReliability,
} from './reliability';
