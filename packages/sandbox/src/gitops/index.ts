export { createGitOpsLoop, GitOpsLoop } from './gitOpsLoop';
export type {
  ApplicationStatus,
  GitOpsApplication,
  GitOpsLoopOptions,
  MergeEvent,
  ResourceAction,
  ResourceSyncResult,
  SyncResult,
} from './gitOpsLoop';
export {
  ApplyError,
  KubernetesManifestApplier,
  LAST_APPLIED_ANNOTATION,
  TRACKING_ANNOTATION,
} from './applier';
export type {
  ApplyOutcome,
  DeleteOutcome,
  KubernetesApplierOptions,
  ManifestApplier,
  ObjectReference,
} from './applier';
export { renderManifests, objectKey } from './manifests';
export type {
  DesiredObject,
  KubernetesManifest,
  RenderError,
} from './manifests';
export { GitHubRepositoryReader } from './repositoryReader';
export type { RepositoryReader } from './repositoryReader';
export {
  createGitOpsStatusRouter,
  renderGitOpsStatusHtml,
  serveGitOpsStatus,
} from './statusPage';
