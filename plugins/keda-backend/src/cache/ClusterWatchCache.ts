import type { LoggerService } from '@backstage/backend-plugin-api';
import type { KedaClusterCacheState } from '@keda-self-service/plugin-keda-common';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import {
  CACHED_SCALE_TARGET_KINDS,
  SCALED_OBJECT_NAME_LABEL,
  type CachedScaleTargetKind,
  type HorizontalPodAutoscaler,
  type ScaledObject,
  type ScaleTarget,
  type TriggerAuthentication,
} from '../kubernetes/types';
import {
  DEFAULT_BACKOFF,
  WatchedCollection,
  type BackoffOptions,
  type CollectionState,
  type WatchMetrics,
  type WatchTimeoutOptions,
} from './WatchedCollection';
import { ScaledObjectIndex } from './ScaledObjectIndex';
import { trimHpa, trimScaledObject, trimScaleTarget } from './trim';
import { EventsIndex, trimEvent, type EventSubject } from './EventsIndex';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { KedaEvent } from '@keda-self-service/plugin-keda-common';
import type { LabelRequirement } from '../kubernetes/labelSelector';

const KEDA = { group: 'keda.sh', version: 'v1alpha1' };
const TARGET_PLURALS: Record<CachedScaleTargetKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
};

/** A change the cache saw, for history recording. */
export type ClusterChange =
  | { kind: 'ScaledObject'; object: ScaledObject; deleted: boolean }
  | { kind: 'HorizontalPodAutoscaler'; object: HorizontalPodAutoscaler }
  | { kind: CachedScaleTargetKind; object: ScaleTarget };

export interface ClusterWatchCacheOptions {
  cluster: string;
  kubeConfig: KubeConfig;
  logger: LoggerService;
  backoff?: BackoffOptions;
  /** Request timeouts and silent-watch detection; defaults in DEFAULT_WATCH_TIMEOUT. */
  watch?: Partial<WatchTimeoutOptions>;
}

/** The watch metrics of a cluster's collections, summed, and how many there are. */
export interface ClusterWatchMetrics
  extends Omit<WatchMetrics, 'retryPending'> {
  cluster: string;
  /** Collections (the fixed four, two of events, and one per scale target kind and namespace). */
  collections: number;
  /** Collections waiting to restart after a failure. */
  retriesPending: number;
  /** Listeners registered on the cache (constant unless something leaks). */
  listeners: number;
}

function isCachedKind(kind: string): kind is CachedScaleTargetKind {
  return (CACHED_SCALE_TARGET_KINDS as readonly string[]).includes(kind);
}

/**
 * The watch cache of one cluster: every ScaledObject,
 * (Cluster)TriggerAuthentication and KEDA-owned HPA (label
 * `scaledobject.keda.sh/name`), plus the scale targets ScaledObjects point
 * at. Scale targets are watched per namespace and kind, only in namespaces
 * that hold a ScaledObject for that kind, so memory stays bounded by what
 * KEDA scales rather than by the cluster's size.
 */
export class ClusterWatchCache {
  readonly cluster: string;
  private readonly kubeConfig: KubeConfig;
  private readonly logger: LoggerService;
  private readonly backoff: BackoffOptions;
  private readonly watchTimeout: Partial<WatchTimeoutOptions>;
  private readonly scaledObjectsC: WatchedCollection<
    ScaledObject & KubernetesObject
  >;
  private readonly triggerAuthsC: WatchedCollection<
    TriggerAuthentication & KubernetesObject
  >;
  private readonly clusterTriggerAuthsC: WatchedCollection<
    TriggerAuthentication & KubernetesObject
  >;
  private readonly hpasC: WatchedCollection<
    HorizontalPodAutoscaler & KubernetesObject
  >;
  private readonly targets = new Map<
    string,
    WatchedCollection<ScaleTarget & KubernetesObject>
  >();
  private readonly listeners: Array<(change: ClusterChange) => void> = [];
  private readonly index = new ScaledObjectIndex();
  /**
   * Events about ScaledObjects and about HPAs, cluster-wide (field selector
   * on `involvedObject.kind`), so a status read needs no request. Not part
   * of the cluster's freshness: without events the status still holds.
   */
  private readonly eventsC: WatchedCollection<CoreV1Event & KubernetesObject>[];
  private readonly events = new EventsIndex();
  private triggerAuthChanges = 0;
  private started = false;

  constructor(options: ClusterWatchCacheOptions) {
    this.cluster = options.cluster;
    this.kubeConfig = options.kubeConfig;
    this.logger = options.logger.child({ cluster: options.cluster });
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.watchTimeout = options.watch ?? {};
    const make = <T extends KubernetesObject>(
      plural: string,
      group = KEDA.group,
      version = KEDA.version,
      labelSelector?: string,
      trim?: (object: T) => void,
    ) =>
      new WatchedCollection<T>(
        this.kubeConfig,
        { group, version, plural, labelSelector },
        this.logger,
        this.backoff,
        trim,
        this.watchTimeout,
      );
    this.scaledObjectsC = make<ScaledObject>(
      'scaledobjects',
      KEDA.group,
      KEDA.version,
      undefined,
      trimScaledObject,
    );
    this.triggerAuthsC = make('triggerauthentications');
    this.clusterTriggerAuthsC = make('clustertriggerauthentications');
    this.hpasC = make(
      'horizontalpodautoscalers',
      'autoscaling',
      'v2',
      SCALED_OBJECT_NAME_LABEL,
      trimHpa,
    );

    this.scaledObjectsC.onChange((object, change) => {
      this.indexScaledObject(object, change === 'delete');
      this.reconcileScaleTargetWatches();
      this.emit({ kind: 'ScaledObject', object, deleted: change === 'delete' });
    });
    this.hpasC.onChange(object =>
      this.emit({ kind: 'HorizontalPodAutoscaler', object }),
    );
    this.eventsC = ['ScaledObject', 'HorizontalPodAutoscaler'].map(kind => {
      const collection = new WatchedCollection<CoreV1Event & KubernetesObject>(
        this.kubeConfig,
        {
          group: '',
          version: 'v1',
          plural: 'events',
          fieldSelector: `involvedObject.kind=${kind}`,
        },
        this.logger,
        this.backoff,
        trimEvent,
        this.watchTimeout,
      );
      collection.onChange((event, change) => {
        if (change === 'delete') this.events.remove(event);
        else this.events.put(event);
      });
      return collection;
    });
    const triggerAuthChanged = () => {
      this.triggerAuthChanges++;
    };
    this.triggerAuthsC.onChange(triggerAuthChanged);
    this.clusterTriggerAuthsC.onChange(triggerAuthChanged);
  }

  onChange(listener: (change: ClusterChange) => void) {
    this.listeners.push(listener);
  }

  start() {
    if (this.started) return;
    this.started = true;
    for (const c of [...this.fixedCollections(), ...this.eventsC]) c.start();
    this.reconcileScaleTargetWatches();
  }

  async stop() {
    this.started = false;
    await Promise.all(
      [
        ...this.fixedCollections(),
        ...this.eventsC,
        ...this.targets.values(),
      ].map(c => c.stop()),
    );
    for (const key of this.targets.keys()) {
      const [kind, namespace] = key.split('/');
      this.index.removeTargetsOf(kind, namespace);
    }
    this.targets.clear();
  }

  scaledObjects(): ReadonlyArray<ScaledObject> {
    return this.scaledObjectsC.list();
  }

  /** One cached ScaledObject. */
  scaledObject(namespace: string, name: string): ScaledObject | undefined {
    return this.scaledObjectsC.get(name, namespace);
  }

  /**
   * The ScaledObjects whose own labels or whose scale target's labels may
   * satisfy the requirements, found through the index (a superset: check
   * each one).
   */
  scaledObjectCandidates(requirements: LabelRequirement[]): ScaledObject[] {
    return this.index
      .candidates(requirements)
      .map(id => this.byId(id))
      .filter((so): so is ScaledObject => so !== undefined);
  }

  /** The events of the subjects (a ScaledObject and its HPA), newest first. */
  eventsFor(namespace: string, subjects: EventSubject[]): KedaEvent[] {
    return this.events.eventsFor(namespace, subjects);
  }

  /** Changes whenever an event of one of the subjects does. */
  eventsVersion(namespace: string, subjects: EventSubject[]): string {
    return this.events.version(namespace, subjects);
  }

  /** The ScaledObjects pointing at a workload. */
  scaledObjectsOfTarget(
    kind: string,
    namespace: string,
    name: string,
  ): ScaledObject[] {
    return this.index
      .scaledObjectsOf(kind, namespace, name)
      .map(id => this.byId(id))
      .filter((so): so is ScaledObject => so !== undefined);
  }

  /**
   * Bumped on every (Cluster)TriggerAuthentication change: part of the
   * version of every status built from them.
   */
  get triggerAuthenticationChanges(): number {
    return this.triggerAuthChanges;
  }

  triggerAuthentication(
    kind: 'TriggerAuthentication' | 'ClusterTriggerAuthentication',
    name: string,
    namespace: string,
  ): TriggerAuthentication | undefined {
    return kind === 'ClusterTriggerAuthentication'
      ? this.clusterTriggerAuthsC.get(name)
      : this.triggerAuthsC.get(name, namespace);
  }

  /** The HPA KEDA created for a ScaledObject (`status.hpaName`, else by label). */
  hpaFor(so: ScaledObject): HorizontalPodAutoscaler | undefined {
    const ns = so.metadata.namespace;
    const byName = so.status?.hpaName
      ? this.hpasC.get(so.status.hpaName, ns)
      : undefined;
    return (
      byName ??
      this.hpasC
        .list(ns)
        .find(
          h =>
            h.metadata?.labels?.[SCALED_OBJECT_NAME_LABEL] === so.metadata.name,
        )
    );
  }

  /**
   * The scale target of a ScaledObject. `undefined` when its kind is not
   * cached or its namespace's watch has not listed yet (unknown, not missing).
   */
  scaleTargetFor(
    so: ScaledObject,
  ): { found: boolean; object?: ScaleTarget } | undefined {
    const kind = so.spec.scaleTargetRef.kind ?? 'Deployment';
    if (!isCachedKind(kind)) return undefined;
    const collection = this.targets.get(`${kind}/${so.metadata.namespace}`);
    if (
      !collection ||
      !collection.getState().synced ||
      collection.getState().notServed
    ) {
      return undefined;
    }
    const object = collection.get(
      so.spec.scaleTargetRef.name,
      so.metadata.namespace,
    );
    return { found: object !== undefined, object };
  }

  state(): KedaClusterCacheState {
    const states: CollectionState[] = [
      ...this.fixedCollections().map(c => c.getState()),
      // A kind the server does not serve (no StatefulSets) is not an outage.
      ...[...this.targets.values()]
        .map(c => c.getState())
        .filter(s => !s.notServed),
    ];
    const times = states
      .map(s => s.lastSyncTime?.getTime())
      .filter((t): t is number => t !== undefined);
    const error = states.find(s => s.error && s.stale)?.error;
    return {
      cluster: this.cluster,
      synced: states.every(s => s.synced),
      stale: states.some(s => s.stale),
      // The oldest collection's last sync bounds how old any answer may be.
      lastSyncTime:
        times.length === states.length && times.length
          ? new Date(Math.min(...times)).toISOString()
          : undefined,
      error,
    };
  }

  metrics(): ClusterWatchMetrics {
    const all = [
      ...this.fixedCollections(),
      ...this.eventsC,
      ...this.targets.values(),
    ].map(c => c.metrics());
    const sum = (f: (m: WatchMetrics) => number) =>
      all.reduce((n, m) => n + f(m), 0);
    return {
      cluster: this.cluster,
      collections: all.length,
      lists: sum(m => m.lists),
      watches: sum(m => m.watches),
      openWatches: sum(m => m.openWatches),
      silentWatches: sum(m => m.silentWatches),
      failures: sum(m => m.failures),
      recoveries: sum(m => m.recoveries),
      retriesPending: sum(m => (m.retryPending ? 1 : 0)),
      objects: sum(m => m.objects),
      listeners: this.listeners.length,
    };
  }

  private fixedCollections() {
    return [
      this.scaledObjectsC,
      this.triggerAuthsC,
      this.clusterTriggerAuthsC,
      this.hpasC,
    ] as WatchedCollection<any>[];
  }

  private byId(id: string): ScaledObject | undefined {
    const slash = id.indexOf('/');
    return this.scaledObjectsC.get(id.slice(slash + 1), id.slice(0, slash));
  }

  private indexScaledObject(so: ScaledObject, deleted: boolean) {
    const namespace = so.metadata?.namespace ?? 'default';
    const name = so.metadata?.name ?? '';
    if (deleted) {
      this.index.removeScaledObject(namespace, name);
      return;
    }
    this.index.putScaledObject({
      namespace,
      name,
      labels: so.metadata?.labels,
      targetKind: so.spec?.scaleTargetRef?.kind ?? 'Deployment',
      targetName: so.spec?.scaleTargetRef?.name ?? '',
    });
  }

  private emit(change: ClusterChange) {
    for (const listener of this.listeners) listener(change);
  }

  /** Starts/stops per-namespace scale target watches to follow the ScaledObjects. */
  private reconcileScaleTargetWatches() {
    if (!this.started) return;
    const wanted = new Set(
      this.index.kindNamespaces().filter(key => {
        const [kind, namespace] = key.split('/');
        return isCachedKind(kind) && namespace;
      }),
    );
    for (const key of wanted) {
      if (this.targets.has(key)) continue;
      const [kind, namespace] = key.split('/') as [
        CachedScaleTargetKind,
        string,
      ];
      const collection = new WatchedCollection<ScaleTarget & KubernetesObject>(
        this.kubeConfig,
        {
          group: 'apps',
          version: 'v1',
          plural: TARGET_PLURALS[kind],
          namespace,
        },
        this.logger,
        this.backoff,
        trimScaleTarget,
        this.watchTimeout,
      );
      collection.onChange((object, change) => {
        const name = object.metadata?.name ?? '';
        if (change === 'delete') this.index.removeTarget(kind, namespace, name);
        else
          this.index.putTarget({
            kind,
            namespace,
            name,
            labels: object.metadata?.labels,
          });
        this.emit({ kind, object });
      });
      this.targets.set(key, collection);
      collection.start();
    }
    for (const [key, collection] of this.targets) {
      if (!wanted.has(key)) {
        this.targets.delete(key);
        const [kind, namespace] = key.split('/');
        this.index.removeTargetsOf(kind, namespace);
        void collection.stop();
      }
    }
  }
}
