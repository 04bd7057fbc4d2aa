import type { LoggerService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import type {
  EntityKedaStatus,
  KedaClusterCacheState,
  KedaClusterInfo,
  KedaEvent,
  KedaHistorySample,
  KedaProvenance,
  ScaledObjectStatus,
} from '@keda-self-service/plugin-keda-common';
import type { KedaClusterConfig } from '@keda-self-service/plugin-keda-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  ClusterWatchCache,
  type ClusterChange,
  type ClusterWatchMetrics,
} from '../cache/ClusterWatchCache';
import {
  type BackoffOptions,
  type WatchTimeoutOptions,
} from '../cache/WatchedCollection';
import {
  SCALED_OBJECT_NAME_LABEL,
  type ScaledObject,
} from '../kubernetes/types';
import {
  buildScaledObjectStatus,
  historyValues,
  type StatusClusterFacts,
} from '../status/buildScaledObjectStatus';
import {
  entityObjectSelector,
  selects,
  type EntityObjectSelector,
} from '../status/entitySelector';
import type { ScaledObjectKey, ScalingHistory } from '../status/history';
import type { EntityStatusSignals } from './EntityStatusSignals';

/**
 * Where provenance comes from beyond the ScaledObject's annotations: the
 * approval store plugs in here (request state, PR URL, requests not yet
 * applied). Optional; without it provenance is what the annotations say.
 *
 * @public
 */
export interface KedaProvenanceSource {
  enrich(provenance: KedaProvenance): Promise<KedaProvenance>;
  pendingFor(
    entityRef: string,
    visibleRequestIds: string[],
  ): Promise<KedaProvenance[]>;
}

export interface KedaStatusServiceOptions {
  clusters: KedaClusterConfig[];
  kubeConfigFor: (cluster: KedaClusterConfig) => KubeConfig;
  logger: LoggerService;
  /**
   * Replicas and queue depth over time, in the plugin database (shared by
   * all replicas, kept across restarts); fed here from watch events.
   */
  history: ScalingHistory;
  /** Signals open cards when their entity's status changes; optional. */
  statusSignals?: EntityStatusSignals;
  backoff?: BackoffOptions;
  /** Request timeouts and silent-watch detection (also bounds event reads). */
  watch?: Partial<WatchTimeoutOptions>;
  provenance?: KedaProvenanceSource;
  now?: () => number;
}

/**
 * An entity's status with its version: a weak ETag that changes when
 * anything the card shows changes (a ScaledObject, its HPA, scale target,
 * authentication, events, history or request, a cluster going stale or
 * recovering), not when only `generatedAt` or a healthy cluster's
 * `lastSyncTime` moves.
 */
export interface EntityKedaStatusView {
  status: EntityKedaStatus;
  etag: string;
  /** The status as JSON, serialized once per version of the ScaledObjects. */
  json(): string;
}

/** A built ScaledObject status and the inputs it was built from. */
interface BuiltStatus {
  so: ScaledObject;
  hpa: unknown;
  target: unknown;
  targetFound: boolean | undefined;
  triggerAuthChanges: number;
  eventsVersion: string;
  historyVersion: string;
  serial: number;
  status: ScaledObjectStatus;
}

interface ClusterEntry {
  config: KedaClusterConfig;
  facts: StatusClusterFacts;
  cache: ClusterWatchCache;
}

const key = (
  cluster: string,
  namespace: string | undefined,
  name: string | undefined,
): ScaledObjectKey => ({
  cluster,
  namespace: namespace ?? 'default',
  name: name ?? '',
});

/**
 * The status side of the keda backend: one watch cache per cluster, history
 * fed from watch events, events read on demand. `entityStatus` answers from
 * memory; only the events of the entity's ScaledObjects may cost a request,
 * at most once per TTL.
 */
export class KedaStatusService {
  private readonly clusters = new Map<string, ClusterEntry>();
  private readonly history: ScalingHistory;
  private readonly now: () => number;
  /** Statuses built per ScaledObject, reused while their inputs are the same objects. */
  private readonly built = new LRUCache<string, BuiltStatus>({ max: 20_000 });
  private builds = 0;
  /** The last answer per entity, reused while its version is the same. */
  private readonly views = new LRUCache<
    string,
    { etag: string; scaledObjectsJson?: string; status: EntityKedaStatus }
  >({ max: 5_000 });

  constructor(private readonly options: KedaStatusServiceOptions) {
    this.now = options.now ?? Date.now;
    this.history = options.history;
    for (const config of options.clusters) {
      const kubeConfig = options.kubeConfigFor(config);
      const cache = new ClusterWatchCache({
        cluster: config.name,
        kubeConfig,
        logger: options.logger,
        backoff: options.backoff,
        watch: options.watch,
      });
      const entry: ClusterEntry = {
        config,
        facts: {
          name: config.name,
          accountId: config.accountId,
          operatorRoleArn: config.operator.roleArn,
          identity: config.identity,
          operatorNamespace: config.operator.namespace,
          operatorServiceAccount: config.operator.serviceAccount,
        },
        cache,
      };
      cache.onChange(change => {
        const affected = this.affectedBy(entry, change);
        this.recordHistory(entry, change, affected);
        this.options.statusSignals?.changed(
          affected.flatMap(so => [
            so.metadata,
            entry.cache.scaleTargetFor(so)?.object?.metadata ?? {},
          ]),
        );
      });
      this.clusters.set(config.name, entry);
    }
  }

  start() {
    for (const { cache } of this.clusters.values()) cache.start();
  }

  async stop() {
    this.options.statusSignals?.stop();
    await Promise.all([...this.clusters.values()].map(c => c.cache.stop()));
  }

  /** Each cluster's watch counts (requests, failures, what is open). */
  cacheMetrics(): ClusterWatchMetrics[] {
    return [...this.clusters.values()].map(c => c.cache.metrics());
  }

  clusterStates(): KedaClusterCacheState[] {
    return [...this.clusters.values()].map(c => c.cache.state());
  }

  /**
   * `GET /clusters`: each cluster's cache state with the facts a person
   * picks it by (title, account, region), as configured.
   */
  clusterInfos(): KedaClusterInfo[] {
    return [...this.clusters.values()].map(({ config, cache }) => ({
      ...cache.state(),
      ...(config.title ? { title: config.title } : {}),
      ...(config.accountId ? { accountId: config.accountId } : {}),
      ...(config.region ? { region: config.region } : {}),
    }));
  }

  async entityStatus(entity: Entity): Promise<EntityKedaStatus> {
    return (await this.entityStatusView(entity)).status;
  }

  /** How many ScaledObject statuses were built so far (reuse shows as none). */
  get statusBuilds(): number {
    return this.builds;
  }

  /**
   * The entity's status and its version. Constant work per read: the
   * entity's ScaledObjects come from the cache's label index, each one's
   * status is rebuilt only when one of its inputs changed, events and
   * history are served from memory (refreshed in the background), and
   * the serialized answer is reused while its version stays.
   */
  async entityStatusView(entity: Entity): Promise<EntityKedaStatusView> {
    const entityRef = stringifyEntityRef(entity);
    const selector = entityObjectSelector(entity);
    const matched: Array<{ entry: ClusterEntry; so: ScaledObject }> = [];
    if (selector) {
      // Someone looks at this entity: tell them when its status changes.
      this.options.statusSignals?.follow(entityRef, selector);
      for (const entry of this.clusters.values()) {
        for (const so of this.selectedIn(entry, selector)) {
          matched.push({ entry, so });
        }
      }
    }

    // History, from memory once read (refreshed in the background),
    // before the snapshot so every cached object below and the cluster
    // states come from the same instant.
    const histories = await Promise.all(
      matched.map(({ entry, so }) =>
        this.history.getVersioned(
          key(entry.config.name, so.metadata.namespace, so.metadata.name),
        ),
      ),
    );

    const built = matched.map(({ entry, so }, i) => {
      // The watch may have delivered a newer version during the await.
      const current =
        entry.cache.scaledObject(
          so.metadata.namespace ?? 'default',
          so.metadata.name ?? '',
        ) ?? so;
      return this.builtStatus(entry, current, histories[i]);
    });
    built.sort((a, b) =>
      `${a.status.cluster}/${a.status.namespace}/${a.status.name}`.localeCompare(
        `${b.status.cluster}/${b.status.namespace}/${b.status.name}`,
      ),
    );

    let scaledObjects = built.map(b => b.status);
    let pendingRequests: KedaProvenance[] | undefined;
    if (this.options.provenance) {
      const provenance = this.options.provenance;
      // Copies: the built statuses are shared between reads.
      scaledObjects = await Promise.all(
        scaledObjects.map(async s =>
          s.provenance
            ? { ...s, provenance: await provenance.enrich(s.provenance) }
            : s,
        ),
      );
      const visible = scaledObjects.flatMap(s =>
        s.provenance?.requestId ? [s.provenance.requestId] : [],
      );
      pendingRequests = await provenance.pendingFor(entityRef, visible);
    }
    const clusters = this.clusterStates();

    const etag = versionTag([
      entityRef,
      ...built.map(b => String(b.serial)),
      JSON.stringify(scaledObjects.map(s => s.provenance ?? null)),
      JSON.stringify(pendingRequests ?? null),
      // A healthy cluster's lastSyncTime moves with every event: only a
      // stale one's (frozen) is part of what the card shows.
      JSON.stringify(
        clusters.map(c => [
          c.cluster,
          c.synced,
          c.stale,
          c.error ?? null,
          c.stale ? c.lastSyncTime ?? null : null,
        ]),
      ),
    ]);
    let view = this.views.get(entityRef);
    if (!view || view.etag !== etag) {
      view = {
        etag,
        status: {
          entityRef,
          scaledObjects,
          clusters,
          ...(pendingRequests ? { pendingRequests } : {}),
          generatedAt: new Date(this.now()).toISOString(),
        },
      };
      this.views.set(entityRef, view);
    }
    const cached = view;
    // The same ScaledObjects, with the cluster states of now.
    const status: EntityKedaStatus = { ...cached.status, clusters };
    return {
      status,
      etag,
      json: () => {
        cached.scaledObjectsJson ??= JSON.stringify(
          cached.status.scaledObjects,
        );
        const { scaledObjects: _, ...rest } = status;
        const head = JSON.stringify(rest);
        // `{"scaledObjects":[…],…rest}`: the large part serialized once.
        return `{"scaledObjects":${cached.scaledObjectsJson}${
          head === '{}' ? '}' : `,${head.slice(1)}`
        }`;
      },
    };
  }

  /** The cached ScaledObjects an entity's selector picks in one cluster. */
  private selectedIn(
    entry: ClusterEntry,
    selector: EntityObjectSelector,
  ): ScaledObject[] {
    return entry.cache
      .scaledObjectCandidates(selector.requirements)
      .filter(so => {
        if (selects(selector, so.metadata)) return true;
        // Objects labelled on the workload only (the Kubernetes plugin's
        // usual setup) still find their ScaledObject.
        const target = entry.cache.scaleTargetFor(so);
        return (
          target?.object !== undefined &&
          selects(selector, target.object.metadata ?? {})
        );
      });
  }

  /** A ScaledObject's status, rebuilt only when an input is not the same. */
  private builtStatus(
    entry: ClusterEntry,
    so: ScaledObject,
    history: { samples: KedaHistorySample[]; version: string },
  ): BuiltStatus {
    const namespace = so.metadata.namespace ?? 'default';
    const id = `${entry.config.name}/${namespace}/${so.metadata.name}`;
    const hpa = entry.cache.hpaFor(so);
    // Events about the ScaledObject and its HPA, from the events watch.
    const subjects = [
      { kind: 'ScaledObject', name: so.metadata.name!, uid: so.metadata.uid },
      {
        kind: 'HorizontalPodAutoscaler',
        name: so.status?.hpaName ?? `keda-hpa-${so.metadata.name}`,
        uid: hpa?.metadata?.uid,
      },
    ];
    const eventsVersion = entry.cache.eventsVersion(namespace, subjects);
    const target = entry.cache.scaleTargetFor(so);
    const triggerAuthChanges = entry.cache.triggerAuthenticationChanges;
    const previous = this.built.get(id);
    if (
      previous &&
      previous.so === so &&
      previous.hpa === hpa &&
      previous.target === target?.object &&
      previous.targetFound === target?.found &&
      previous.triggerAuthChanges === triggerAuthChanges &&
      previous.eventsVersion === eventsVersion &&
      previous.historyVersion === history.version
    ) {
      return previous;
    }
    this.builds++;
    const next: BuiltStatus = {
      so,
      hpa,
      target: target?.object,
      targetFound: target?.found,
      triggerAuthChanges,
      eventsVersion,
      historyVersion: history.version,
      serial: this.builds,
      status: this.statusOf(
        entry,
        so,
        entry.cache.eventsFor(namespace, subjects),
        history.samples,
      ),
    };
    this.built.set(id, next);
    return next;
  }

  private statusOf(
    entry: ClusterEntry,
    so: ScaledObject,
    events: KedaEvent[],
    history: KedaHistorySample[],
  ) {
    const namespace = so.metadata.namespace ?? 'default';
    return buildScaledObjectStatus({
      cluster: entry.facts,
      scaledObject: so,
      hpa: entry.cache.hpaFor(so),
      scaleTarget: entry.cache.scaleTargetFor(so),
      findTriggerAuthentication: (kind, name) =>
        entry.cache.triggerAuthentication(kind, name, namespace),
      events,
      history,
    });
  }

  /** The ScaledObjects a watch change concerns (a deleted one included). */
  private affectedBy(
    entry: ClusterEntry,
    change: ClusterChange,
  ): ScaledObject[] {
    const ns = change.object.metadata?.namespace ?? 'default';
    if (change.kind === 'ScaledObject') return [change.object];
    if (change.kind === 'HorizontalPodAutoscaler') {
      const owner = change.object.metadata?.labels?.[SCALED_OBJECT_NAME_LABEL];
      const so = owner ? entry.cache.scaledObject(ns, owner) : undefined;
      return so ? [so] : [];
    }
    return entry.cache.scaledObjectsOfTarget(
      change.kind,
      ns,
      change.object.metadata?.name ?? '',
    );
  }

  /** Records the replicas and depth of the ScaledObjects a change affects. */
  private recordHistory(
    entry: ClusterEntry,
    change: ClusterChange,
    affected: ScaledObject[],
  ) {
    if (change.kind === 'ScaledObject' && change.deleted) {
      const gone = key(
        entry.config.name,
        change.object.metadata.namespace,
        change.object.metadata.name,
      );
      this.history
        .forget(gone)
        .catch(e => this.historyFailed('forget the history of', gone, e));
      return;
    }
    for (const so of affected) {
      const hpa = entry.cache.hpaFor(so);
      const status = buildScaledObjectStatus({
        cluster: entry.facts,
        scaledObject: so,
        hpa,
        scaleTarget: entry.cache.scaleTargetFor(so),
        findTriggerAuthentication: () => undefined,
        events: [],
        history: [],
      });
      const values = historyValues(status);
      if (values.replicas !== undefined || values.queueDepth !== undefined) {
        const series = key(
          entry.config.name,
          so.metadata.namespace,
          so.metadata.name,
        );
        this.history
          .record(series, values)
          .catch(e => this.historyFailed('record the history of', series, e));
      }
    }
  }

  /** A lost sample is a gap in a sparkline, not a reason to stop watching. */
  private historyFailed(what: string, so: ScaledObjectKey, error: unknown) {
    this.options.logger.warn(
      `Could not ${what} ScaledObject ${so.cluster}/${so.namespace}/${so.name}: ${error}`,
    );
  }
}

/** A weak ETag over the parts of an answer. */
function versionTag(parts: string[]): string {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part).update('\0');
  return `W/"${hash.digest('base64url').slice(0, 22)}"`;
}
