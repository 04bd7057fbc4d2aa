/*
 * One HTTP server that plays github.com for the sandbox: REST at /api/v3,
 * GraphQL at /api/graphql (GitHub Enterprise Server layout, so Backstage's
 * `integrations.github[].apiBaseUrl` points here unchanged) and HTML pages at
 * the github.com paths.
 */
import express from 'express';
import { AddressInfo } from 'node:net';
import { Server } from 'node:http';
import { createGraphqlRouter } from './graphqlApi';
import {
  GitHubApiError,
  GitHubState,
  MergeMethod,
  PullRequestMergedEvent,
  PullRequestRecord,
  RepositoryFileContent,
  RepositoryRecord,
} from './gitHubState';
import { pullRequestJson, StandInUrls } from './representations';
import { createRestApiRouter } from './restApi';
import { createWebPagesRouter } from './webPages';
import { WebhookDelivery, WebhookDispatcher, WebhookTarget } from './webhooks';

/** Token the sandbox configuration uses unless told otherwise. */
export const DEFAULT_GITHUB_STAND_IN_TOKEN = 'sandbox-github-token';
export const DEFAULT_GITHUB_STAND_IN_USER = 'backstage-scaffolder';

export interface GitHubStandInOptions {
  /** Interface to bind; default 127.0.0.1 (never expose the stand-in). */
  host?: string;
  /** Default 4567; 0 picks a free port (tests). */
  port?: number;
  /** JSON file the whole state is persisted to after every change. */
  stateFile?: string;
  /** token → login of the user the token authenticates. */
  tokens?: Record<string, string>;
  /** Login the web page's Merge button merges as. */
  webUser?: string;
  /**
   * Called after a pull request was merged (REST, web page or programmatic),
   * before the merge request answers; failures are logged, never undo the
   * merge (a webhook receiver's failure does not either).
   */
  onMerge?: (event: PullRequestMergedEvent) => Promise<void>;
  /**
   * Receivers of every repository's `push`, `pull_request` and
   * `issue_comment` events (like organisation webhooks). Repository hooks
   * can also be created through `POST /repos/{owner}/{repo}/hooks`.
   */
  webhooks?: WebhookTarget[];
  /** Where onMerge and webhook failures go; default console.warn. */
  logger?: { warn(message: string): void };
  /** Clock for commit and pull request timestamps (deterministic tests). */
  clock?: () => Date;
}

export interface GitHubStandIn {
  /** Web root, e.g. http://127.0.0.1:4567 (pull request pages live here). */
  url: string;
  /** REST root for Octokit / `integrations.github[].apiBaseUrl`. */
  apiBaseUrl: string;
  /** `host[:port]` for `integrations.github[].host` and repo URLs. */
  host: string;
  /** The state behind the server, for in-process inspection. */
  state: GitHubState;
  createRepo(
    owner: string,
    name: string,
    options?: {
      defaultBranch?: string;
      description?: string;
      files?: Record<string, RepositoryFileContent>;
    },
  ): RepositoryRecord;
  mergePullRequest(
    owner: string,
    repo: string,
    pullNumber: number,
    options?: { mergeMethod?: MergeMethod; mergedBy?: string; sha?: string },
  ): Promise<PullRequestMergedEvent>;
  listPullRequests(
    owner: string,
    repo: string,
    filter?: {
      state?: 'open' | 'closed' | 'all';
      head?: string;
      base?: string;
    },
  ): Array<ReturnType<typeof pullRequestJson>>;
  /** File content at a ref (default branch by default), or undefined. */
  getFile(
    owner: string,
    repo: string,
    path: string,
    ref?: string,
  ): string | undefined;
  /** Latest webhook deliveries, newest first (at most 100). */
  webhookDeliveries(): WebhookDelivery[];
  /** Resolves once every queued webhook delivery has finished. */
  whenWebhooksDelivered(): Promise<void>;
  /** Forget every repository (and persist the empty state). */
  reset(): void;
  close(): Promise<void>;
}

export async function startGitHubStandIn(
  options: GitHubStandInOptions = {},
): Promise<GitHubStandIn> {
  const host = options.host ?? '127.0.0.1';
  const tokens = options.tokens ?? {
    [DEFAULT_GITHUB_STAND_IN_TOKEN]: DEFAULT_GITHUB_STAND_IN_USER,
  };
  const webUser = options.webUser ?? 'platform-reviewer';
  const logger = options.logger ?? {
    warn: (message: string) => console.warn(message),
  };
  let urls: StandInUrls = { webUrl: '', apiBaseUrl: '' };
  const webhooks: WebhookDispatcher = new WebhookDispatcher({
    urls: () => urls,
    targets: options.webhooks ?? [],
    clock: options.clock ?? (() => new Date()),
    logger,
  });
  const state = new GitHubState({
    stateFile: options.stateFile,
    clock: options.clock,
    onEvent: event => {
      try {
        webhooks.dispatch(state, event);
      } catch (error) {
        // A payload that cannot be built must not fail the API call.
        logger.warn(
          `GitHub stand-in: could not build the ${
            event.type
          } webhook payload: ${(error as Error)?.stack ?? error}`,
        );
      }
    },
  });

  const afterMerge = async (event: PullRequestMergedEvent) => {
    if (!options.onMerge) return;
    try {
      await options.onMerge(event);
    } catch (error) {
      logger.warn(
        `GitHub stand-in: onMerge for ${event.owner}/${event.repo}#${
          event.pullNumber
        } failed: ${(error as Error)?.stack ?? error}`,
      );
    }
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(
    '/api/v3',
    createRestApiRouter({ state, urls: () => urls, tokens, afterMerge }),
  );
  app.use(
    '/api/graphql',
    createGraphqlRouter({ state, urls: () => urls, tokens }),
  );
  app.use(createWebPagesRouter({ state, webUser, afterMerge }));

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port ?? 4567, host, () =>
      resolve(listening),
    );
    listening.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  urls = {
    webUrl: `http://${hostPort}`,
    apiBaseUrl: `http://${hostPort}/api/v3`,
  };

  return {
    url: urls.webUrl,
    apiBaseUrl: urls.apiBaseUrl,
    host: hostPort,
    state,
    createRepo: (owner, name, repoOptions = {}) =>
      state.createRepository(owner, name, repoOptions),
    async mergePullRequest(owner, repo, pullNumber, mergeOptions = {}) {
      const repository = state.repository(owner, repo);
      const { event } = state.mergePullRequest(
        repository,
        pullNumber,
        { mergeMethod: mergeOptions.mergeMethod, sha: mergeOptions.sha },
        mergeOptions.mergedBy ?? webUser,
      );
      await afterMerge(event);
      return event;
    },
    listPullRequests(owner, repo, filter = {}) {
      const repository = state.repository(owner, repo);
      return state
        .listPullRequests(repository, {
          state: filter.state ?? 'all',
          head: filter.head,
          base: filter.base,
        })
        .map((pull: PullRequestRecord) =>
          pullRequestJson(urls, state, repository, pull),
        );
    },
    getFile(owner, repo, path, ref) {
      const repository = state.repository(owner, repo);
      const commit = state.resolveCommitish(
        repository,
        ref ?? repository.defaultBranch,
      );
      if (!commit)
        throw new GitHubApiError(404, `No ref '${ref}' in ${owner}/${repo}`);
      const store = state.objects(repository);
      const found = store.lookupPath(store.commit(commit).tree, path);
      return found?.type === 'blob'
        ? store.blobContent(found.sha).toString('utf8')
        : undefined;
    },
    webhookDeliveries: () => [...webhooks.deliveries],
    whenWebhooksDelivered: () => webhooks.whenIdle(),
    reset: () => state.reset(),
    async close() {
      await webhooks.whenIdle();
      await new Promise<void>((resolve, reject) => {
        server.close(error => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
