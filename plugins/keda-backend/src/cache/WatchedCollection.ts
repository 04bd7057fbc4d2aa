import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  CustomObjectsApi,
  KubeConfig,
  ListWatch,
  Watch,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';

/**
 * client-node's Watch with two repairs:
 *
 * - It throws (instead of calling `done`) when building the request fails,
 *   e.g. an EKS token cannot be minted or a CA file is missing. On a
 *   reconnect, ListWatch's un-awaited handler then rejects: an unhandled
 *   rejection and an informer that silently stops. Here the failure goes to
 *   `done`, an ordinary informer error the restart logic handles.
 * - It sets no timeout, so a half-open connection (a NAT or load balancer
 *   dropped it silently) would look like a quiet, healthy watch forever.
 *   Here the server is asked to end each watch after `timeoutSeconds` (a
 *   normal end: ListWatch re-watches from its resourceVersion, no re-list),
 *   and a watch that outlives that by `graceMs` is aborted as dead.
 */
class ReportingWatch extends Watch {
  constructor(
    kubeConfig: KubeConfig,
    private readonly timeoutSeconds: number,
    private readonly graceMs: number,
  ) {
    super(kubeConfig);
  }

  async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    let finished = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: any) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done(
        timedOut
          ? new Error(
              `the watch of ${path} neither ended nor failed ${this.timeoutSeconds}s after it asked the server to end it; connection presumed dead`,
            )
          : err,
      );
    };
    let controller: AbortController;
    try {
      controller = await super.watch(
        path,
        { ...queryParams, timeoutSeconds: this.timeoutSeconds },
        callback,
        finish,
      );
    } catch (err) {
      finish(err);
      return new AbortController();
    }
    if (!finished) {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
        // node-fetch reports the abort through the body; make sure `done` runs.
        finish(undefined);
      }, this.timeoutSeconds * 1000 + this.graceMs);
      timer.unref?.();
    }
    return controller;
  }
}

/** Where a collection lives: `/apis/<group>/<version>[/namespaces/<ns>]/<plural>`. */
export interface CollectionRef {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  labelSelector?: string;
}

/** Reconnect delays after a watch or list error. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** How long one watch request may last; see ReportingWatch. */
export interface WatchTimeoutOptions {
  timeoutSeconds: number;
  graceMs: number;
}

/** Five minutes per watch (kubectl and client-go use 5–10), 30 s grace. */
export const DEFAULT_WATCH_TIMEOUT: WatchTimeoutOptions = {
  timeoutSeconds: 300,
  graceMs: 30_000,
};

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  maxMs: 30_000,
};

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
  return `/apis/${ref.group}/${ref.version}${ns}/${ref.plural}`;
}

function describe(ref: CollectionRef): string {
  return `${ref.plural}.${ref.group}${
    ref.namespace ? ` in ${ref.namespace}` : ''
  }`;
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

  constructor(
    kubeConfig: KubeConfig,
    readonly ref: CollectionRef,
    private readonly logger: LoggerService,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
    /** Drops fields the cache never reads (e.g. a Deployment's pod template). */
    private readonly trim?: (object: T) => void,
    watchTimeout: WatchTimeoutOptions = DEFAULT_WATCH_TIMEOUT,
  ) {
    this.name = describe(ref);
    const api = kubeConfig.makeApiClient(CustomObjectsApi);
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = (await (ref.namespace
        ? api.listNamespacedCustomObject({
            group: ref.group,
            version: ref.version,
            plural: ref.plural,
            namespace: ref.namespace,
            labelSelector: ref.labelSelector,
          })
        : api.listClusterCustomObject({
            group: ref.group,
            version: ref.version,
            plural: ref.plural,
            labelSelector: ref.labelSelector,
          }))) as KubernetesListObject<T>;
      // A successful list is fresh data; a watch failing right after it
      // marks the collection stale again through the error callback.
      this.state = {
        synced: true,
        stale: false,
        notServed: false,
        lastSyncTime: new Date(),
      };
      return result;
    };
    this.informer = new ListWatch<T>(
      pathOf(ref),
      new ReportingWatch(
        kubeConfig,
        watchTimeout.timeoutSeconds,
        watchTimeout.graceMs,
      ),
      list,
      false,
      ref.labelSelector,
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

  private emit(obj: T, change: 'add' | 'update' | 'delete') {
    if (change !== 'delete') {
      // The informer keeps this very object: trimming it here bounds the
      // cache's memory. managedFields is often the largest part of an object.
      delete obj.metadata?.managedFields;
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
      if (this.state.error) {
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
      notServed ? this.backoff.maxMs : jittered,
    );
    this.retryTimer.unref?.();
  }
}
