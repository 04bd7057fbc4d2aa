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
} from '@internal/plugin-keda-common';
import type { KedaClusterConfig } from '@internal/plugin-keda-node';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  ClusterWatchCache,
  type ClusterChange,
  type ClusterWatchMetrics,
} from '../cache/ClusterWatchCache';
import { EventsReader } from '../cache/EventsReader';
import {
  DEFAULT_WATCH_TIMEOUT,
  requestTimeout,
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
import { entityObjectSelector, selects } from '../status/entitySelector';
import type { ScaledObjectKey, ScalingHistory } from '../status/history';
import type { EntityStatusSignals } from './EntityStatusSignals';

/**
 * Where provenance comes from beyond the ScaledObject's annotations: the
 * approval store plugs in here (request state, PR URL, requests not yet
 * applied). Optional; without it provenance is what the annotations say.
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
  eventsCacheTtlMs: number;
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

interface ClusterEntry {
  config: KedaClusterConfig;
  facts: StatusClusterFacts;
  cache: ClusterWatchCache;
  events: CoreV1Api;
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
  private readonly events: EventsReader;
  private readonly now: () => number;

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
        events: kubeConfig.makeApiClient(CoreV1Api),
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
    this.events = new EventsReader({
      ttlMs: options.eventsCacheTtlMs,
      now: this.now,
      listEvents: async (cluster, namespace, fieldSelector) => {
        const api = this.clusters.get(cluster)!.events;
        const list = await api.listNamespacedEvent(
          { namespace, fieldSelector },
          requestTimeout(
            options.watch?.requestTimeoutMs ??
              DEFAULT_WATCH_TIMEOUT.requestTimeoutMs,
          ),
        );
        return list.items;
      },
      onError: (error, eventsKey) =>
        options.logger.warn(`Could not read events for ${eventsKey}: ${error}`),
    });
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
    const entityRef = stringifyEntityRef(entity);
    const selector = entityObjectSelector(entity);
    const matched: Array<{ entry: ClusterEntry; so: ScaledObject }> = [];
    if (selector) {
      // Someone looks at this entity: tell them when its status changes.
      this.options.statusSignals?.follow(entityRef, selector);
      for (const entry of this.clusters.values()) {
        for (const so of entry.cache.scaledObjects()) {
          const target = entry.cache.scaleTargetFor(so);
          if (
            selects(selector, so.metadata) ||
            // Objects labelled on the workload only (the Kubernetes plugin's
            // usual setup) still find their ScaledObject.
            (target?.object !== undefined &&
              selects(selector, target.object.metadata ?? {}))
          ) {
            matched.push({ entry, so });
          }
        }
      }
    }

    // The only I/O: events, read before the snapshot so every cached
    // object below and the cluster states come from the same instant.
    const [events, histories] = await Promise.all([
      Promise.all(
        matched.map(({ entry, so }) =>
          this.events.read(
            entry.config.name,
            so.metadata.namespace ?? 'default',
            [
              {
                kind: 'ScaledObject',
                name: so.metadata.name!,
                uid: so.metadata.uid,
              },
              {
                kind: 'HorizontalPodAutoscaler',
                name: so.status?.hpaName ?? `keda-hpa-${so.metadata.name}`,
                uid: entry.cache.hpaFor(so)?.metadata?.uid,
              },
            ],
          ),
        ),
      ),
      // The sparkline, from the plugin database: the same on every replica.
      Promise.all(
        matched.map(({ entry, so }) =>
          this.history.get(
            key(entry.config.name, so.metadata.namespace, so.metadata.name),
          ),
        ),
      ),
    ]);

    const scaledObjects: ScaledObjectStatus[] = matched.map(
      ({ entry, so }, i) => {
        const namespace = so.metadata.namespace ?? 'default';
        // The watch may have delivered a newer version during the await.
        const current =
          entry.cache
            .scaledObjects()
            .find(
              o =>
                o.metadata.namespace === namespace &&
                o.metadata.name === so.metadata.name,
            ) ?? so;
        return this.statusOf(entry, current, events[i], histories[i]);
      },
    );
    const clusters = this.clusterStates();
    scaledObjects.sort((a, b) =>
      `${a.cluster}/${a.namespace}/${a.name}`.localeCompare(
        `${b.cluster}/${b.namespace}/${b.name}`,
      ),
    );

    let pendingRequests: KedaProvenance[] | undefined;
    if (this.options.provenance) {
      for (const s of scaledObjects) {
        if (s.provenance)
          s.provenance = await this.options.provenance.enrich(s.provenance);
      }
      const visible = scaledObjects.flatMap(s =>
        s.provenance?.requestId ? [s.provenance.requestId] : [],
      );
      pendingRequests = await this.options.provenance.pendingFor(
        entityRef,
        visible,
      );
    }

    return {
      entityRef,
      scaledObjects,
      clusters,
      ...(pendingRequests ? { pendingRequests } : {}),
      generatedAt: new Date(this.now()).toISOString(),
    };
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
    const ns = change.object.metadata?.namespace;
    if (change.kind === 'ScaledObject') return [change.object];
    if (change.kind === 'HorizontalPodAutoscaler') {
      const owner = change.object.metadata?.labels?.[SCALED_OBJECT_NAME_LABEL];
      return entry.cache
        .scaledObjects()
        .filter(
          so => so.metadata.namespace === ns && so.metadata.name === owner,
        );
    }
    return entry.cache
      .scaledObjects()
      .filter(
        so =>
          so.metadata.namespace === ns &&
          so.spec.scaleTargetRef.name === change.object.metadata?.name &&
          (so.spec.scaleTargetRef.kind ?? 'Deployment') === change.kind,
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
