/*
 * A small Argo CD: each application watches paths of a GitHub repository
 * branch. When a pull request is merged into that branch (or on a manual
 * sync), the loop renders the manifests at the merge commit, applies them
 * (read → create or patch), prunes what it applied before and git no longer
 * declares, and records the result. Results are also reported back to
 * GitHub as a commit status and, on failure, a pull request comment, so the
 * pull request page shows whether the change reached the cluster.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  ApplyError,
  KubernetesApplierOptions,
  KubernetesManifestApplier,
  ManifestApplier,
  ObjectReference,
} from './applier';
import {
  DesiredObject,
  isClusterScoped,
  objectKey,
  renderManifests,
} from './manifests';
import {
  GitHubReaderOptions,
  GitHubRepositoryReader,
  RepositoryReader,
} from './repositoryReader';

export interface GitOpsApplication {
  /** Unique name; part of the tracking id on every applied object. */
  name: string;
  owner: string;
  repo: string;
  /** Branch to follow; default: the repository's default branch. */
  branch?: string;
  /** Repository paths to render, e.g. `clusters/sandbox`. */
  paths: string[];
  /** Namespace for namespaced objects that name none; default `default`. */
  destinationNamespace?: string;
}

export type ResourceAction =
  | 'created'
  | 'configured'
  | 'unchanged'
  | 'pruned'
  | 'prune-skipped'
  | 'failed';

export interface ResourceSyncResult {
  key: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** File the object came from (absent for pruned objects). */
  source?: string;
  action: ResourceAction;
  message?: string;
}

export interface SyncResult {
  application: string;
  owner: string;
  repo: string;
  branch?: string;
  /** Commit that was synced (absent if it could not be resolved). */
  revision?: string;
  phase: 'Succeeded' | 'Failed';
  startedAt: string;
  finishedAt: string;
  trigger:
    | { kind: 'merge'; pullNumber: number; mergedBy: string }
    | { kind: 'manual' }
    | { kind: 'refresh' };
  resources: ResourceSyncResult[];
  /** One line per problem: file, object and what the API server said. */
  errors: string[];
}

interface ManagedObject {
  key: string;
  ref: ObjectReference;
}

export interface ApplicationStatus {
  application: GitOpsApplication;
  lastSync?: SyncResult;
  /** Newest first, at most 20. */
  history: SyncResult[];
  /** Objects the loop applied and will prune when git drops them. */
  managed: ManagedObject[];
}

interface PersistedGitOpsState {
  version: 1;
  applications: Record<
    string,
    { history: SyncResult[]; managed: ManagedObject[] }
  >;
}

/** The merge event of the GitHub stand-in (structurally). */
export interface MergeEvent {
  owner: string;
  repo: string;
  pullNumber: number;
  baseRef: string;
  defaultBranch: string;
  mergeCommitSha: string;
  mergedBy: string;
}

export interface GitOpsLoopOptions {
  applications: GitOpsApplication[];
  /** Where manifests come from: a GitHub API (stand-in or real) or a reader. */
  github: GitHubReaderOptions | { reader: RepositoryReader };
  /** Where they go: a Kubernetes API server or any applier (tests). */
  kubernetes: KubernetesApplierOptions | { applier: ManifestApplier };
  /**
   * Post a commit status (`gitops/<app>`) on the synced commit and, when a
   * merge's sync fails, a comment on the pull request. Default true with
   * `github.apiBaseUrl`; needs a token allowed to write.
   */
  reportToGitHub?: boolean;
  /** Link for the commit status, e.g. the status page of serveGitOpsStatus. */
  statusPageUrl?: string;
  /** JSON file keeping history and managed objects across restarts. */
  stateFile?: string;
  logger?: { info(message: string): void; warn(message: string): void };
  clock?: () => Date;
}

const HISTORY_LIMIT = 20;

/**
 * Apply order, after Argo CD's kind order: namespaces and configuration
 * before workloads; a ScaledObject's TriggerAuthentication and target
 * Deployment before the ScaledObject. Unknown kinds go last, by name.
 */
const KIND_ORDER = [
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'Ingress',
  'ClusterTriggerAuthentication',
  'TriggerAuthentication',
  'ScaledObject',
  'ScaledJob',
];

function kindRank(kind: string): number {
  const index = KIND_ORDER.indexOf(kind);
  return index < 0 ? KIND_ORDER.length : index;
}

function byApplyOrder(
  a: { kind: string; key: string },
  b: { kind: string; key: string },
): number {
  return kindRank(a.kind) - kindRank(b.kind) || a.key.localeCompare(b.key);
}

function describe(ref: ObjectReference): string {
  return `${ref.kind} ${
    ref.metadata.namespace ? `${ref.metadata.namespace}/` : ''
  }${ref.metadata.name}`;
}

export class GitOpsLoop {
  private readonly applications = new Map<string, GitOpsApplication>();
  private readonly state: PersistedGitOpsState['applications'] = {};
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly reader: RepositoryReader;
  private readonly applier: ManifestApplier;
  private readonly reporter?: GitHubRepositoryReader;
  private readonly clock: () => Date;
  private readonly logger: NonNullable<GitOpsLoopOptions['logger']>;
  private refreshTimer?: ReturnType<typeof setInterval>;
  private refreshing?: Promise<SyncResult[]>;

  constructor(private readonly options: GitOpsLoopOptions) {
    for (const application of options.applications) {
      if (this.applications.has(application.name)) {
        throw new Error(
          `GitOps application '${application.name}' is configured twice; application names must be unique`,
        );
      }
      if (application.paths.length === 0) {
        throw new Error(
          `GitOps application '${application.name}' has no paths; set paths, e.g. ['clusters/sandbox']`,
        );
      }
      this.applications.set(application.name, application);
    }
    if ('reader' in options.github) {
      this.reader = options.github.reader;
    } else {
      const reader = new GitHubRepositoryReader(options.github);
      this.reader = reader;
      if (options.reportToGitHub !== false) this.reporter = reader;
    }
    this.applier =
      'applier' in options.kubernetes
        ? options.kubernetes.applier
        : new KubernetesManifestApplier(options.kubernetes);
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger ?? {
      info: () => {},
      warn: message => console.warn(message),
    };
    this.load();
  }

  // --- persistence -----------------------------------------------------

  private load() {
    if (!this.options.stateFile) return;
    let persisted: PersistedGitOpsState;
    try {
      persisted = JSON.parse(readFileSync(this.options.stateFile, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(
        `GitOps state file ${this.options.stateFile} is unreadable (${
          (error as Error).message
        }); delete it to start over`,
      );
    }
    Object.assign(this.state, persisted.applications);
  }

  private save() {
    if (!this.options.stateFile) return;
    const data: PersistedGitOpsState = { version: 1, applications: this.state };
    mkdirSync(dirname(this.options.stateFile), { recursive: true });
    const temporary = `${this.options.stateFile}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(data, null, 2));
    renameSync(temporary, this.options.stateFile);
  }

  private record(name: string) {
    if (!this.state[name]) this.state[name] = { history: [], managed: [] };
    return this.state[name];
  }

  // --- status ------------------------------------------------------------

  status(name: string): ApplicationStatus {
    const application = this.applications.get(name);
    if (!application) {
      throw new Error(
        `No GitOps application named '${name}'; configured: ${
          [...this.applications.keys()].join(', ') || 'none'
        }`,
      );
    }
    const record = this.record(name);
    return {
      application,
      lastSync: record.history[0],
      history: record.history,
      managed: record.managed,
    };
  }

  statuses(): ApplicationStatus[] {
    return [...this.applications.keys()].map(name => this.status(name));
  }

  /** Statuses of the applications following a repository. */
  statusesOf(owner: string, repo: string): ApplicationStatus[] {
    return this.statuses().filter(
      s =>
        s.application.owner.toLowerCase() === owner.toLowerCase() &&
        s.application.repo.toLowerCase() === repo.toLowerCase(),
    );
  }

  // --- syncing -------------------------------------------------------------

  /** Serialises syncs per application: merges arriving together queue up. */
  private enqueue<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.queues.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Syncs one application at `revision` (default: its branch head). */
  sync(
    name: string,
    options: { revision?: string; trigger?: SyncResult['trigger'] } = {},
  ): Promise<SyncResult> {
    const application = this.status(name).application;
    return this.enqueue(name, async () => {
      const result = await this.runSync(
        application,
        options.revision,
        options.trigger ?? { kind: 'manual' },
      );
      await this.report(result);
      return result;
    });
  }

  /**
   * Argo CD's periodic refresh: syncs each application whose branch head
   * moved since its last sync — a push that bypassed pull requests, or a
   * merge that happened while the loop was not listening. A failed sync is
   * not retried at the same head (that needs a new commit or a manual sync).
   */
  refresh(): Promise<SyncResult[]> {
    if (!this.refreshing) {
      this.refreshing = this.refreshOnce().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async refreshOnce(): Promise<SyncResult[]> {
    const results: SyncResult[] = [];
    for (const application of this.applications.values()) {
      try {
        const { owner, repo } = application;
        const branch =
          application.branch ?? (await this.reader.defaultBranch(owner, repo));
        const head = await this.reader.branchHead(owner, repo, branch);
        if (this.record(application.name).history[0]?.revision === head)
          continue;
        results.push(
          await this.sync(application.name, {
            revision: head,
            trigger: { kind: 'refresh' },
          }),
        );
      } catch (error) {
        this.logger.warn(
          `GitOps: refresh of ${application.name} could not read its branch: ${
            (error as Error).message
          }`,
        );
      }
    }
    return results;
  }

  /** Refreshes every `intervalMs` (Argo CD's default is 3 minutes). */
  start(intervalMs = 180_000) {
    if (this.refreshTimer) return;
    this.refreshTimer = setInterval(() => void this.refresh(), intervalMs);
    // The sandbox process should exit when everything else is done.
    this.refreshTimer.unref?.();
  }

  /** Stops refreshing and waits for a refresh in progress. */
  async stop() {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    await this.refreshing;
  }

  syncAll(): Promise<SyncResult[]> {
    return Promise.all(
      [...this.applications.keys()].map(name => this.sync(name)),
    );
  }

  /**
   * The GitHub stand-in's `onMerge`: syncs every application that follows
   * the merged-into branch of that repository, then reports to GitHub.
   */
  async handleMerge(event: MergeEvent): Promise<SyncResult[]> {
    const affected: GitOpsApplication[] = [];
    for (const application of this.applications.values()) {
      const sameRepo =
        application.owner.toLowerCase() === event.owner.toLowerCase() &&
        application.repo.toLowerCase() === event.repo.toLowerCase();
      if (
        sameRepo &&
        (application.branch ?? event.defaultBranch) === event.baseRef
      )
        affected.push(application);
    }
    const results = await Promise.all(
      affected.map(application =>
        this.sync(application.name, {
          revision: event.mergeCommitSha,
          trigger: {
            kind: 'merge',
            pullNumber: event.pullNumber,
            mergedBy: event.mergedBy,
          },
        }),
      ),
    );
    return results;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private async runSync(
    application: GitOpsApplication,
    revision: string | undefined,
    trigger: SyncResult['trigger'],
  ): Promise<SyncResult> {
    const result: SyncResult = {
      application: application.name,
      owner: application.owner,
      repo: application.repo,
      branch: application.branch,
      revision,
      phase: 'Succeeded',
      startedAt: this.now(),
      finishedAt: '',
      trigger,
      resources: [],
      errors: [],
    };
    const record = this.record(application.name);
    const finish = () => {
      result.phase = result.errors.length > 0 ? 'Failed' : 'Succeeded';
      result.finishedAt = this.now();
      record.history = [result, ...record.history].slice(0, HISTORY_LIMIT);
      this.save();
      const summary =
        result.errors.length > 0
          ? `failed: ${result.errors.join('; ')}`
          : 'succeeded';
      (result.errors.length > 0 ? this.logger.warn : this.logger.info)(
        `GitOps sync of ${application.name} at ${
          result.revision ?? '?'
        } ${summary}`,
      );
      return result;
    };

    let files: Map<string, string>;
    try {
      result.branch =
        application.branch ??
        (await this.reader.defaultBranch(application.owner, application.repo));
      result.revision =
        revision ??
        (await this.reader.branchHead(
          application.owner,
          application.repo,
          result.branch,
        ));
      files = await this.reader.snapshot(
        application.owner,
        application.repo,
        result.revision,
      );
    } catch (error) {
      result.errors.push(
        `Could not read ${application.owner}/${application.repo}@${
          result.revision ?? result.branch ?? 'default branch'
        }: ${(error as Error).message}`,
      );
      return finish();
    }

    const rendered = renderManifests(files, application.paths);
    if (rendered.errors.length > 0) {
      // Like Argo CD: manifests that do not render are not half-applied.
      result.errors.push(
        ...rendered.errors.map(e => `${e.source}: ${e.message}`),
      );
      return finish();
    }

    const desired = rendered.objects
      .map(item => this.withDefaultNamespace(application, item))
      .map(item => ({
        ...item,
        key: objectKey(item.object),
        kind: item.object.kind,
      }))
      .sort(byApplyOrder);
    const previouslyManaged = new Map(record.managed.map(m => [m.key, m]));
    const managed = new Map<string, ManagedObject>();

    for (const item of desired) {
      const ref: ObjectReference = {
        apiVersion: item.object.apiVersion,
        kind: item.object.kind,
        metadata: {
          name: item.object.metadata.name,
          namespace: item.object.metadata.namespace,
        },
      };
      const base = {
        key: item.key,
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        namespace: ref.metadata.namespace,
        name: ref.metadata.name,
        source: item.source,
      };
      try {
        const action = await this.applier.apply(
          item.object,
          `${application.name}:${item.key}`,
        );
        result.resources.push({ ...base, action });
        managed.set(item.key, { key: item.key, ref });
      } catch (error) {
        const message =
          error instanceof ApplyError || error instanceof Error
            ? error.message
            : String(error);
        const status =
          error instanceof ApplyError && error.status
            ? ` (HTTP ${error.status})`
            : '';
        result.resources.push({ ...base, action: 'failed', message });
        result.errors.push(
          `${item.source}: ${describe(ref)} was rejected${status}: ${message}`,
        );
        // It may still exist from an earlier sync; keep pruning it later.
        const earlier = previouslyManaged.get(item.key);
        if (earlier) managed.set(item.key, earlier);
      }
    }

    const toPrune = [...previouslyManaged.values()]
      .filter(m => !managed.has(m.key) && !desired.some(d => d.key === m.key))
      .map(m => ({ ...m, kind: m.ref.kind }))
      .sort(byApplyOrder)
      .reverse();
    for (const item of toPrune) {
      const base = {
        key: item.key,
        apiVersion: item.ref.apiVersion,
        kind: item.ref.kind,
        namespace: item.ref.metadata.namespace,
        name: item.ref.metadata.name,
      };
      try {
        const outcome = await this.applier.delete(
          item.ref,
          `${application.name}:${item.key}`,
        );
        if (outcome === 'not-owned') {
          result.resources.push({
            ...base,
            action: 'prune-skipped',
            message:
              'the live object is not tracked by this application any more; left in place',
          });
        } else {
          result.resources.push({
            ...base,
            action: 'pruned',
            message: outcome === 'absent' ? 'was already gone' : undefined,
          });
        }
      } catch (error) {
        const message = (error as Error).message;
        result.resources.push({ ...base, action: 'failed', message });
        result.errors.push(`prune ${describe(item.ref)} failed: ${message}`);
        managed.set(item.key, { key: item.key, ref: item.ref });
      }
    }

    record.managed = [...managed.values()];
    return finish();
  }

  private withDefaultNamespace(
    application: GitOpsApplication,
    item: DesiredObject,
  ): DesiredObject {
    if (item.object.metadata.namespace || isClusterScoped(item.object.kind))
      return item;
    return {
      ...item,
      object: {
        ...item.object,
        metadata: {
          ...item.object.metadata,
          namespace: application.destinationNamespace ?? 'default',
        },
      },
    };
  }

  /** Commit status on the synced commit; a comment on the PR if it failed. */
  private async report(result: SyncResult) {
    if (!this.reporter || !result.revision) return;
    const octokit = this.reporter.octokit;
    const counts = new Map<string, number>();
    for (const resource of result.resources)
      counts.set(resource.action, (counts.get(resource.action) ?? 0) + 1);
    const summary =
      [...counts].map(([action, n]) => `${n} ${action}`).join(', ') ||
      'nothing to apply';
    try {
      await octokit.repos.createCommitStatus({
        owner: result.owner,
        repo: result.repo,
        sha: result.revision,
        state: result.phase === 'Succeeded' ? 'success' : 'failure',
        context: `gitops/${result.application}`,
        description:
          result.phase === 'Succeeded'
            ? `Synced: ${summary}`
            : `Sync failed: ${result.errors[0]}`,
        ...(this.options.statusPageUrl
          ? { target_url: this.options.statusPageUrl }
          : {}),
      });
      if (result.phase === 'Failed' && result.trigger.kind === 'merge') {
        await octokit.issues.createComment({
          owner: result.owner,
          repo: result.repo,
          issue_number: result.trigger.pullNumber,
          body: [
            `GitOps sync of **${
              result.application
            }** at \`${result.revision.slice(0, 7)}\` failed (${summary}):`,
            '',
            ...result.errors.map(error => `- ${error}`),
            '',
            'Fix the manifests in a follow-up pull request; objects that applied cleanly stay applied.',
          ].join('\n'),
        });
      }
    } catch (error) {
      this.logger.warn(
        `GitOps: reporting ${result.application} to GitHub failed: ${
          (error as Error).message
        }`,
      );
    }
  }
}

/** Creates the loop; wire `handleMerge` to the GitHub stand-in's onMerge. */
export function createGitOpsLoop(options: GitOpsLoopOptions): GitOpsLoop {
  return new GitOpsLoop(options);
}
