/*
 * Webhook deliveries as GitHub makes them: a JSON POST per subscribed hook
 * with `X-GitHub-Event`, `X-GitHub-Delivery` and, when the hook has a
 * secret, `X-Hub-Signature-256: sha256=<HMAC of the body>` — so a receiver
 * such as Backstage's GitHub events module verifies them unchanged.
 * Deliveries are asynchronous (GitHub never waits for the receiver) and
 * ordered per receiver;
 * `whenIdle()` lets tests and shutdown wait for them.
 */
import { createHmac, randomUUID } from 'node:crypto';
import {
  GitHubState,
  RepositoryEvent,
  RepositoryRecord,
  ZERO_SHA,
} from './gitHubState';
import {
  changedFiles,
  commentJson,
  pullRequestJson,
  repositoryJson,
  reviewJson,
  StandInUrls,
  userJson,
} from './representations';

/** A hook configured on the stand-in itself (like an organisation hook). */
export interface WebhookTarget {
  url: string;
  secret?: string;
  /** Event names (`push`, `pull_request`, `issue_comment`) or '*'; default '*'. */
  events?: string[];
}

export interface WebhookDelivery {
  id: string;
  event: string;
  action?: string;
  url: string;
  repository: string;
  /** HTTP status of the receiver's answer, if it answered. */
  status?: number;
  error?: string;
  deliveredAt: string;
}

export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** GitHub's webhook payload for a repository event. */
export function webhookPayload(
  urls: StandInUrls,
  state: GitHubState,
  event: RepositoryEvent,
): { name: string; action?: string; payload: Record<string, unknown> } {
  const repository = repositoryJson(urls, event.repository);
  const sender = userJson(urls, event.actor);
  if (event.type === 'push') {
    return {
      name: 'push',
      payload: pushPayload(urls, state, event, repository, sender),
    };
  }
  if (event.type === 'pull_request_review') {
    return {
      name: 'pull_request_review',
      action: event.action,
      payload: {
        action: event.action,
        review: reviewJson(
          urls,
          event.repository,
          event.pull.number,
          event.review,
        ),
        pull_request: pullRequestJson(
          urls,
          state,
          event.repository,
          event.pull,
        ),
        repository,
        sender,
      },
    };
  }
  if (event.type === 'issue_comment') {
    const pull = pullRequestJson(urls, state, event.repository, event.pull);
    return {
      name: 'issue_comment',
      action: event.action,
      payload: {
        action: event.action,
        // Pull requests are issues; GitHub marks them with `pull_request`.
        issue: {
          number: pull.number,
          title: pull.title,
          state: pull.state,
          html_url: pull.html_url,
          user: pull.user,
          pull_request: { url: pull.url, html_url: pull.html_url },
        },
        comment: commentJson(urls, event.repository, event.comment),
        repository,
        sender,
      },
    };
  }
  return {
    name: 'pull_request',
    action: event.action,
    payload: {
      action: event.action,
      number: event.pull.number,
      pull_request: pullRequestJson(urls, state, event.repository, event.pull),
      ...(event.requestedReviewer
        ? { requested_reviewer: userJson(urls, event.requestedReviewer) }
        : {}),
      ...(event.requestedTeam
        ? {
            requested_team: {
              slug: event.requestedTeam,
              name: event.requestedTeam,
            },
          }
        : {}),
      repository,
      sender,
    },
  };
}

function pushPayload(
  urls: StandInUrls,
  state: GitHubState,
  event: Extract<RepositoryEvent, { type: 'push' }>,
  repository: ReturnType<typeof repositoryJson>,
  sender: ReturnType<typeof userJson>,
) {
  const store = state.objects(event.repository);
  const web = `${urls.webUrl}/${event.repository.owner}/${event.repository.name}`;
  const shas =
    event.after === ZERO_SHA
      ? []
      : store
          .commitsBetween(
            event.before === ZERO_SHA ? undefined : event.before,
            event.after,
          )
          .reverse();
  const commits = shas.slice(-20).map(sha => {
    const commit = store.commit(sha);
    const before = commit.parents[0]
      ? store.flattenTree(store.commit(commit.parents[0]).tree)
      : new Map();
    const changes = changedFiles(before, store.flattenTree(commit.tree));
    return {
      id: sha,
      tree_id: commit.tree,
      message: commit.message,
      timestamp: commit.committer.date,
      url: `${web}/commit/${sha}`,
      author: { name: commit.author.name, email: commit.author.email },
      committer: { name: commit.committer.name, email: commit.committer.email },
      added: changes.filter(c => c.status === 'added').map(c => c.filename),
      removed: changes.filter(c => c.status === 'removed').map(c => c.filename),
      modified: changes
        .filter(c => c.status === 'modified')
        .map(c => c.filename),
    };
  });
  return {
    ref: event.ref,
    before: event.before,
    after: event.after,
    created: event.before === ZERO_SHA,
    deleted: event.after === ZERO_SHA,
    forced: event.forced,
    base_ref: null,
    compare: `${web}/compare/${event.before.slice(0, 12)}...${event.after.slice(
      0,
      12,
    )}`,
    commits,
    head_commit: commits[commits.length - 1] ?? null,
    repository,
    pusher: {
      name: event.actor,
      email: `${event.actor}@users.noreply.github.invalid`,
    },
    sender,
  };
}

export class WebhookDispatcher {
  private readonly inFlight = new Set<Promise<void>>();
  /** Per receiver URL, the last queued delivery: each receiver gets events in order. */
  private readonly queues = new Map<string, Promise<void>>();
  readonly deliveries: WebhookDelivery[] = [];

  constructor(
    private readonly options: {
      urls: () => StandInUrls;
      targets: WebhookTarget[];
      clock: () => Date;
      logger: { warn(message: string): void };
    },
  ) {}

  private targetsFor(
    repository: RepositoryRecord,
    eventName: string,
  ): WebhookTarget[] {
    const wants = (events: string[] | undefined) =>
      !events || events.includes('*') || events.includes(eventName);
    return [
      ...this.options.targets.filter(t => wants(t.events)),
      ...(repository.hooks ?? []).filter(h => h.active && wants(h.events)),
    ];
  }

  /** Queues deliveries for an event; never throws, never waits. */
  dispatch(state: GitHubState, event: RepositoryEvent) {
    const { name, action, payload } = webhookPayload(
      this.options.urls(),
      state,
      event,
    );
    const body = JSON.stringify(payload);
    for (const target of this.targetsFor(event.repository, name)) {
      const previous = this.queues.get(target.url) ?? Promise.resolve();
      const delivery = previous.then(() =>
        this.deliver(
          target,
          name,
          action,
          body,
          `${event.repository.owner}/${event.repository.name}`,
        ),
      );
      this.queues.set(target.url, delivery);
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
    }
  }

  private async deliver(
    target: WebhookTarget,
    name: string,
    action: string | undefined,
    body: string,
    repository: string,
  ) {
    const id = randomUUID();
    const record: WebhookDelivery = {
      id,
      event: name,
      action,
      url: target.url,
      repository,
      deliveredAt: this.options.clock().toISOString(),
    };
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/stand-in',
          'x-github-event': name,
          'x-github-delivery': id,
          'x-github-hook-installation-target-type': 'repository',
          ...(target.secret
            ? { 'x-hub-signature-256': signWebhookBody(target.secret, body) }
            : {}),
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      record.status = response.status;
      await response.arrayBuffer();
      if (!response.ok)
        this.options.logger.warn(
          `GitHub stand-in: webhook ${name} to ${target.url} answered ${response.status}`,
        );
    } catch (error) {
      record.error = (error as Error).message;
      this.options.logger.warn(
        `GitHub stand-in: webhook ${name} to ${target.url} failed: ${record.error}`,
      );
    }
    this.deliveries.unshift(record);
    this.deliveries.splice(100);
  }

  /** Resolves when every queued delivery has finished. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
