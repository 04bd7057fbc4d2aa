import type { LoggerService } from '@backstage/backend-plugin-api';
import type { SignalsService } from '@backstage/plugin-signals-node';
import { kedaStatusSignalChannel } from '@keda-self-service/plugin-keda-common';
import { selects, type EntityObjectSelector } from '../status/entitySelector';

/** Labels and namespace of a changed object (a ScaledObject or its target). */
export interface ChangedObjectMetadata {
  namespace?: string;
  labels?: Record<string, string>;
}

export interface EntityStatusSignalsOptions {
  signals: Pick<SignalsService, 'publish'>;
  logger: LoggerService;
  /**
   * An entity whose status nobody asked for this long is no longer
   * followed. Longer than the card's slowest fallback poll. Default 10 min.
   */
  followMs?: number;
  /** Changes of one entity closer than this make one signal. Default 1 s. */
  coalesceMs?: number;
  now?: () => number;
}

/**
 * Tells open status cards that their entity's KEDA status changed: a signal
 * on `keda:status:<entityRef>` (the ref only; the card refetches with its
 * own permissions) when a watch event touches a ScaledObject, its HPA or its
 * scale target that belongs to the entity.
 *
 * Only entities whose status was asked for recently are followed (the
 * selectors of the cards open on this replica), so a change costs a few
 * label matches, not a catalog lookup. Bursts (a Deployment rolling, the
 * HPA updating) make one signal per `coalesceMs`.
 */
export class EntityStatusSignals {
  private readonly followed = new Map<
    string,
    { selector: EntityObjectSelector; askedAt: number }
  >();
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly followMs: number;
  private readonly coalesceMs: number;
  private readonly now: () => number;

  constructor(private readonly options: EntityStatusSignalsOptions) {
    this.followMs = options.followMs ?? 10 * 60_000;
    this.coalesceMs = options.coalesceMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** Someone asked for the entity's status: follow it for a while. */
  follow(entityRef: string, selector: EntityObjectSelector) {
    this.followed.set(entityRef, { selector, askedAt: this.now() });
  }

  /** Objects changed in a watch: signal each followed entity they belong to. */
  changed(objects: ChangedObjectMetadata[]) {
    if (objects.length === 0) return;
    const now = this.now();
    for (const [entityRef, { selector, askedAt }] of this.followed) {
      if (now - askedAt > this.followMs) {
        this.followed.delete(entityRef);
        continue;
      }
      if (objects.some(o => selects(selector, o))) this.schedule(entityRef);
    }
  }

  /** Number of entities followed, for tests and metrics. */
  get size() {
    return this.followed.size;
  }

  stop() {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private schedule(entityRef: string) {
    if (this.pending.has(entityRef)) return;
    const timer = setTimeout(() => {
      this.pending.delete(entityRef);
      this.options.signals
        .publish({
          recipients: { type: 'broadcast' },
          channel: kedaStatusSignalChannel(entityRef),
          message: { entityRef },
        })
        .catch(e =>
          this.options.logger.warn(
            `Could not signal the KEDA status change of ${entityRef}: ${e}`,
          ),
        );
    }, this.coalesceMs);
    timer.unref?.();
    this.pending.set(entityRef, timer);
  }
}
