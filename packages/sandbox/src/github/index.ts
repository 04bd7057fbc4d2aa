export {
  startGitHubStandIn,
  DEFAULT_GITHUB_STAND_IN_TOKEN,
  DEFAULT_GITHUB_STAND_IN_USER,
} from './startGitHubStandIn';
export type { GitHubStandIn, GitHubStandInOptions } from './startGitHubStandIn';
export { GitHubApiError, GitHubState } from './gitHubState';
export type {
  MergeMethod,
  PullRequestMergedEvent,
  PullRequestRecord,
  RepositoryFileContent,
  RepositoryRecord,
} from './gitHubState';
export { GitObjectStore, EMPTY_TREE_SHA } from './gitObjects';
export { signWebhookBody } from './webhooks';
export type { WebhookDelivery, WebhookTarget } from './webhooks';
export type {
  PullRequestReviewRecord,
  RepositoryEvent,
  WebhookRecord,
} from './gitHubState';
