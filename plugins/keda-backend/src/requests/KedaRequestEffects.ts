import { NotFoundError } from '@backstage/errors';
import {
  kedaRequestPagePath,
  KEDA_REQUESTS_SIGNAL_CHANNEL,
  type KedaRequestRecord,
  type KedaRequestSignal,
} from '@keda-self-service/plugin-keda-common';
import type { Request } from 'express';
import type { KedaRequestServiceOptions } from './KedaRequestService';
import type { KedaRequestTransition } from './KedaRequestStore';

/** What notifications and titles call a request: its entity and cluster. */
export function subjectOf(record: KedaRequestRecord) {
  return `${record.entityRef} on ${record.cluster}`;
}

/**
 * The store as the approval flow changes it, and what follows every change:
 * the signal on `keda:requests`, the audit event, the notifications.
 */
export class KedaRequestEffects {
  constructor(
    private readonly options: Pick<
      KedaRequestServiceOptions,
      'store' | 'signals' | 'notifications' | 'auditor' | 'logger'
    >,
  ) {}

  /**
   * Announces that requests changed. Only the ids go out, to everyone
   * signed in: a page refetches with its own permissions, so nothing of a
   * request reaches someone who may not read it. Best effort.
   */
  async announce(...ids: Array<string | undefined>) {
    const { signals, logger } = this.options;
    if (!signals) return;
    for (const requestId of new Set(ids.filter((id): id is string => !!id))) {
      try {
        await signals.publish<KedaRequestSignal>({
          recipients: { type: 'broadcast' },
          channel: KEDA_REQUESTS_SIGNAL_CHANNEL,
          message: { requestId },
        });
      } catch (e) {
        logger.warn(
          `Could not signal the change of KEDA request ${requestId}: ${e}`,
        );
      }
    }
  }

  /**
   * Every state change goes through here: the store's conditional update,
   * then the signal (for the request and the one it superseded).
   */
  async transition(change: KedaRequestTransition): Promise<KedaRequestRecord> {
    const record = await this.options.store.transition(change);
    await this.announce(record.id, change.supersede?.id);
    return record;
  }

  async audit<T>(
    eventId: string,
    meta: Record<string, string | boolean | undefined>,
    request: Request | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const clean = Object.fromEntries(
      Object.entries(meta).filter(([, v]) => v !== undefined),
    ) as Record<string, string | boolean>;
    const event = await this.options.auditor.createEvent({
      eventId,
      severityLevel: 'medium',
      request,
      meta: clean,
    });
    try {
      const result = await fn();
      const record = result as unknown as Partial<KedaRequestRecord>;
      await event.success({
        meta: record?.state ? { state: record.state } : {},
      });
      return result;
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  }

  /** Notifications are best effort: a decision stands even if mail is down. */
  async notify(
    recipients: { entityRef: string[]; excludeEntityRef?: string },
    record: KedaRequestRecord,
    title: string,
    description: string,
    severity: 'normal' | 'high' = 'normal',
  ) {
    const { notifications, logger } = this.options;
    if (!notifications || recipients.entityRef.length === 0) return;
    try {
      await notifications.send({
        recipients: { type: 'entity', ...recipients },
        payload: {
          title,
          description,
          link: kedaRequestPagePath(record.id),
          severity,
          topic: `keda-request:${record.id}`,
          scope: `keda-request:${record.id}`,
        },
      });
    } catch (e) {
      logger.warn(
        `Could not send the notification "${title}" for KEDA request ${record.id}: ${e}`,
      );
    }
  }

  async getOrThrow(id: string): Promise<KedaRequestRecord> {
    const record = await this.options.store.get(id);
    if (!record) throw new NotFoundError(`KEDA request '${id}' does not exist`);
    return record;
  }
}
