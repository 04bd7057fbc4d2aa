import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  ListWatch,
  Observable,
  Watch,
  type ConfigurationOptions,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

/** Aborts a client-node API request after `ms` (a server that accepts and never answers). */
export function requestTimeout(ms: number): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(context));
        },
        post: (response: ResponseContext) =>
          new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** What one collection's watch did so far; see WatchedCollection.metrics(). */
export interface WatchMetrics {
  /** List requests (the first, and every re-list: after 410, a restart or a silent watch). */
  lists: number;
  /** Watch requests (the first, resumes and reconnects). */
  watches: number;
  /** Watch requests in flight now (at most one when nothing leaks). */
  openWatches: number;
  /** Watches given up as silent (no event or bookmark for `idleMs`). */
  silentWatches: number;
  /** Informer errors (each one a restart after backoff). */
  failures: number;
  /** Successful restarts after failures. */
  recoveries: number;
  /** A restart timer is pending. */
  retryPending: boolean;
  /** Objects cached. */
  objects: number;
}

/**
 * client-node's Watch with repairs:
 *
 * - It throws (instead of calling `done`) when building the request fails,
 *   e.g. an EKS token cannot be minted or a CA file is missing. On a
 *   reconnect, ListWatch's un-awaited handler then rejects: an unhandled
 *   rejection and an informer that silently stops. Here the failure goes to
 *   `done`, an ordinary informer error the restart logic handles.
 * - It sets no timeout, so a half-open connection (a NAT or load balancer
 *   dropped it silently, or a hung server) would look like a quiet, healthy
 *   watch forever:
 *   - the response headers must arrive within `requestTimeoutMs` (a
 *     server that accepts and never answers is an error: stale, retried);
 *   - the server is asked to end each watch after `timeoutSeconds` (a
 *     normal end: ListWatch re-watches from its resourceVersion, no
 *     re-list), and a watch that outlives that by `graceMs` is aborted as
 *     dead;
 *   - bookmarks are requested, and a watch that delivers nothing (no event,
 *     no bookmark) for `idleMs` is given up and the collection re-listed:
 *     a dead connection then shows as a list that fails (stale), a healthy
 *     quiet one as a list that succeeds.
 */
class ReportingWatch extends Watch {
  open = 0;
  started = 0;
  silent = 0;
  /** Called for every event and bookmark a watch delivers. */
  onActivity?: () => void;
  /** Bumped by abortAll(): a watch still connecting when it changes is given up. */
  private epoch = 0;
  private readonly live = new Set<AbortController>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: WatchTimeoutOptions,
  ) {
    // node-fetch's `timeout` bounds the wait for the response headers only;
    // the stream itself is bounded by the timers below.
    const withHeaderTimeout = Object.create(kubeConfig) as KubeConfig;
    withHeaderTimeout.applyToFetchOptions = async opts => ({
      ...(await kubeConfig.applyToFetchOptions(opts)),
      timeout: options.requestTimeoutMs,
    });
    super(withHeaderTimeout);
  }

  async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    const { timeoutSeconds, graceMs, idleMs } = this.options;
    let finished = false;
    let deadline: NodeJS.Timeout | undefined;
    let idle: NodeJS.Timeout | undefined;
    let controller: AbortController | undefined;
    const epoch = this.epoch;
    this.started++;
    this.open++;
    const finish = (err: any) => {
      if (finished) return;
      finished = true;
      this.open--;
      if (controller) this.live.delete(controller);
      clearTimeout(deadline);
      clearTimeout(idle);
      done(err);
    };
    const giveUp = (err: Error) => {
      // `done` first: node-fetch reports the abort synchronously through the
      // body, and that AbortError must not take the place of this reason.
      finish(err);
      controller?.abort();
    };
    const armIdle = () => {
      if (!idleMs || finished) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        this.silent++;
        // Code 410: ListWatch re-lists (no error event); if the server is
        // really gone, that list fails and the collection turns stale.
        giveUp(
          Object.assign(
            new Error(
              `the watch of ${path} delivered nothing for ${idleMs} ms; re-listing`,
            ),
            { statusCode: 410 },
          ),
        );
      }, idleMs);
      idle.unref?.();
    };
    try {
      controller = await super.watch(
        path,
        {
          ...queryParams,
          timeoutSeconds,
          ...(idleMs ? { allowWatchBookmarks: true } : {}),
        },
        (phase, apiObj, watchObj) => {
          armIdle();
          if (phase !== 'ERROR') this.onActivity?.();
          callback(phase, apiObj, watchObj);
        },
        finish,
      );
    } catch (err) {
      finish(err);
      return new AbortController();
    }
    if (!finished && epoch !== this.epoch) {
      // Stopped while connecting: ListWatch could not abort this one.
      giveUp(new Error('stopped'));
    }
    if (!finished) {
      this.live.add(controller);
      deadline = setTimeout(
        () =>
          giveUp(
            new Error(
              `the watch of ${path} neither ended nor failed ${timeoutSeconds}s after it asked the server to end it; connection presumed dead`,
            ),
          ),
        timeoutSeconds * 1000 + graceMs,
      );
      deadline.unref?.();
      armIdle();
    }
    return controller;
  }

  /** Aborts every watch, including one still waiting for its response. */
  abortAll() {
    this.epoch++;
    for (const c of this.live) c.abort();
  }
}

/**
 * Where a collection lives: `/apis/<group>/<version>[/namespaces/<ns>]/<plural>`,
 * or for the core group (`group: ''`, only `events` here)
 * `/api/<version>/<plural>`.
 */
export interface CollectionRef {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Reconnect delays after a watch or list error. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** How long requests may take and watches may stay silent; see ReportingWatch. */
export interface WatchTimeoutOptions {
  /** Asked of the server for each watch. */
  timeoutSeconds: number;
  /** A watch not ended `graceMs` after its `timeoutSeconds` is aborted. */
  graceMs: number;
  /**
   * A watch that delivers nothing (no event, no bookmark) for this long is
   * given up and the collection re-listed. API servers send a bookmark
   * about once a minute; 0 turns this off.
   */
  idleMs: number;
  /** A list, or a watch's response headers, taking longer fails. */
  requestTimeoutMs: number;
}

/**
 * Five minutes per watch (kubectl and client-go use 5–10), 30 s grace; a
 * watch without a bookmark for 150 s (the API server sends one a minute)
 * is checked with a re-list; 30 s for a list or a watch's headers.
 */
export const DEFAULT_WATCH_TIMEOUT: WatchTimeoutOptions = {
  timeoutSeconds: 300,
  graceMs: 30_000,
  idleMs: 150_000,
  requestTimeoutMs: 30_000,
};

/**
 * Reconnect delays. The cap keeps the recovery within 5 s of an API
 * server's return (#16: at most `maxMs` until the next attempt, jittered
 * between half and all of it), and still spaces out the attempts of many
 * replicas during an outage.
 */
export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 250,
  maxMs: 2_500,
};

const LAST_APPLIED_ANNOTATION =
  'kubectl.kubernetes.io/last-applied-configuration';

/** A resource the server does not serve (404) is asked for again this rarely. */
export const NOT_SERVED_RETRY_MS = 30_000;

/** What the cache knows about its own freshness. */
export interface CollectionState {
  /** Listed successfully at least once. */
  synced: boolean;
  /** The watch is broken (reconnecting); data may be out of date. */
  stale: boolean;
  lastSyncTime?: Date;
  error?: string;
  /** The server does not serve this resource (404), e.g. a CRD not installed. */
  notServed: boolean;
}

export type ChangeListener<T> = (
  object: T,
  change: 'add' | 'update' | 'delete',
) => void;

function pathOf(ref: CollectionRef): string {
  const ns = ref.namespace
    ? `/namespaces/${encodeURIComponent(ref.namespace)}`
    : '';
  const api = ref.group ? `/apis/${ref.group}` : '/api';
  return `${api}/${ref.version}${ns}/${ref.plural}`;
}

function describe(ref: CollectionRef): string {
  return `${ref.plural}${ref.group ? `.${ref.group}` : ''}${
    ref.namespace ? ` in ${ref.namespace}` : ''
  }${ref.fieldSelector ? ` (${ref.fieldSelector})` : ''}`;
}

function errorMessage(err: unknown): string {
  const e = err as {
    statusCode?: number;
    code?: number | string;
    message?: string;
    body?: unknown;
  };
  const status = e?.statusCode ?? e?.code;
  const message = e?.message || String(err);
  return status && !message.includes(String(status))
    ? `${message} (HTTP ${status})`
    : message;
}

function isNotFound(err: unknown) {
  const e = err as { statusCode?: number; code?: number };
  return e?.statusCode === 404 || e?.code === 404;
}

/**
 * One Kubernetes collection kept current by a client-node informer (list,
 * then watch from the list's resourceVersion). client-node stops an
 * informer on any error; this class restarts it with exponential backoff and
 * records the outage, so readers can tell fresh data from the last known
 * state. Lists are raw JSON (via the custom objects API, which works for
 * any `/apis` group) so listed and watched objects have the same shape.
 */
export class WatchedCollection<T extends KubernetesObject> {
  private readonly informer: Informer<T> & ObjectCache<T>;
  private readonly name: string;
  private readonly listeners: ChangeListener<T>[] = [];
  // Not stale before the first list: `synced: false` says "not yet"; stale
  // means a watch that worked (or was tried) is broken now.
  private state: CollectionState = {
    synced: false,
    stale: false,
    notServed: false,
  };
  private stopped = true;
  private retryTimer?: NodeJS.Timeout;
  private attempt = 0;
  private errorsThisStart = 0;
  private readonly watch: ReportingWatch;
  private lists = 0;
  private failures = 0;
  private recoveries = 0;

  constructor(
    kubeConfig: KubeConfig,
    readonly ref: CollectionRef,
    private readonly logger: LoggerService,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
    /** Drops fields the cache never reads (e.g. a Deployment's pod template). */
    private readonly trim?: (object: T) => void,
    watchTimeout: Partial<WatchTimeoutOptions> = {},
  ) {
    this.name = describe(ref);
    const timeouts = { ...DEFAULT_WATCH_TIMEOUT, ...watchTimeout };
    if (!ref.group && (ref.plural !== 'events' || ref.namespace)) {
      throw new Error(
        `WatchedCollection lists only cluster-wide events of the core group, not ${this.name}`,
      );
    }
    const api = kubeConfig.makeApiClient(CustomObjectsApi);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const { labelSelector, fieldSelector } = ref;
    const list = async (): Promise<KubernetesListObject<T>> => {
      this.lists++;
      const options = requestTimeout(timeouts.requestTimeoutMs);
      const group = {
        group: ref.group,
        version: ref.version,
        plural: ref.plural,
      };
      let answer: Promise<unknown>;
      if (!ref.group) {
        answer = core.listEventForAllNamespaces(
          { labelSelector, fieldSelector },
          options,
        );
      } else if (ref.namespace) {
        answer = api.listNamespacedCustomObject(
          { ...group, namespace: ref.namespace, labelSelector, fieldSelector },
          options,
        );
      } else {
        answer = api.listClusterCustomObject(
          { ...group, labelSelector, fieldSelector },
          options,
        );
      }
      const result = (await answer) as KubernetesListObject<T>;
      this.state = {
        synced: true,
        stale: false,
        notServed: false,
        lastSyncTime: new Date(),
      };
      return result;
    };
    this.watch = new ReportingWatch(kubeConfig, timeouts);
    // The collection is as fresh as the watch's last event or bookmark, not
    // its last list: a healthy quiet watch must not look stale.
    this.watch.onActivity = () => {
      if (!this.state.stale) this.state.lastSyncTime = new Date();
    };
    this.informer = new ListWatch<T>(
      pathOf(ref),
      this.watch,
      list,
      false,
      ref.labelSelector,
      ref.fieldSelector,
    );
    this.informer.on('add', obj => this.emit(obj, 'add'));
    this.informer.on('update', obj => this.emit(obj, 'update'));
    this.informer.on('delete', obj => this.emit(obj, 'delete'));
    this.informer.on('error', err => this.onError(err));
  }

  onChange(listener: ChangeListener<T>) {
    this.listeners.push(listener);
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.informer.stop();
    this.watch.abortAll();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): ReadonlyArray<T> {
    return this.informer.list(namespace);
  }

  getState(): CollectionState {
    return { ...this.state };
  }

  /** Counts for reliability checks and operators: requests, failures, what is open. */
  metrics(): WatchMetrics {
    return {
      lists: this.lists,
      watches: this.watch.started,
      openWatches: this.watch.open,
      silentWatches: this.watch.silent,
      failures: this.failures,
      recoveries: this.recoveries,
      retryPending: this.retryTimer !== undefined,
      objects: this.informer.list().length,
    };
  }

  private emit(obj: T, change: 'add' | 'update' | 'delete') {
    if (change !== 'delete') {
      // The informer keeps this very object: trimming it here bounds the
      // cache's memory. managedFields is often the largest part of an object.
      delete obj.metadata?.managedFields;
      // `kubectl apply` (and GitOps tools using it) keep a copy of the whole
      // object here: never read, often the other large part.
      delete obj.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
      this.trim?.(obj);
    }
    for (const listener of this.listeners) {
      try {
        listener(obj, change);
      } catch (e) {
        this.logger.warn(`KEDA cache listener failed for ${this.name}: ${e}`);
      }
    }
  }

  private async run() {
    this.errorsThisStart = 0;
    try {
      // Resolves once the list succeeded and the watch is connected, or
      // after the error callback ran.
      await this.informer.start();
    } catch (e) {
      this.onError(e);
      return;
    }
    if (this.errorsThisStart === 0 && !this.stopped) {
      // A restart after failures (the list may already have cleared the error).
      if (this.attempt > 0) {
        this.recoveries++;
        this.logger.info(`KEDA cache watching ${this.name} again`);
      }
      this.attempt = 0;
      this.state = {
        ...this.state,
        stale: false,
        error: undefined,
        lastSyncTime: new Date(),
      };
    }
  }

  private onError(err: unknown) {
    this.errorsThisStart++;
    if (this.stopped) return;
    this.failures++;
    const message = errorMessage(err);
    const notServed = isNotFound(err);
    if (!this.state.stale || this.state.error !== message) {
      this.logger.warn(
        `KEDA cache lost ${this.name}: ${message}; reconnecting with backoff`,
      );
    }
    this.state = { ...this.state, stale: true, error: message, notServed };
    const delay = Math.min(
      this.backoff.maxMs,
      this.backoff.initialMs * 2 ** Math.min(this.attempt, 16),
    );
    this.attempt++;
    // Jitter spreads the reconnects of many replicas after an API outage.
    const jittered = delay / 2 + Math.random() * (delay / 2);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        if (!this.stopped) void this.run();
      },
      notServed ? Math.max(this.backoff.maxMs, NOT_SERVED_RETRY_MS) : jittered,
    );
    this.retryTimer.unref?.();
  }
}
