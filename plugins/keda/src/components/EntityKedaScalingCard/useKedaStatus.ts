import { isError } from '@backstage/errors';
import { useApi, useApiHolder } from '@backstage/frontend-plugin-api';
import { signalApiRef } from '@backstage/plugin-signals-react';
import {
  kedaStatusSignalChannel,
  type EntityKedaStatus,
} from '@keda-self-service/plugin-keda-common';
import { useCallback, useEffect, useRef, useState } from 'react';
import { kedaApiRef } from '../../api';

/** What the card renders from: the latest good answer and the latest error. */
export interface KedaStatusState {
  /** The last successful answer; kept while refetching and after a failed refetch. */
  value?: EntityKedaStatus;
  /** The error of the most recent attempt; cleared by the next success. */
  error?: Error;
  /** True until the first attempt for this entity has finished. */
  loading: boolean;
  /** When `value` was received (epoch ms). */
  receivedAt?: number;
}

function documentHidden(): boolean {
  return (
    typeof document !== 'undefined' && document.visibilityState === 'hidden'
  );
}

/**
 * With signals, the card polls only this often, as a fallback: changes
 * arrive as `keda:status:<entityRef>` signals.
 */
export const SIGNALLED_FALLBACK_INTERVAL_MS = 60_000;

/**
 * Fetches the entity's KEDA status and refreshes it while the document is
 * visible: at once when the backend signals a change of the entity's status
 * (`keda:status:<entityRef>`, with the signals plugin installed), and every
 * `intervalMs` as a fallback (at least SIGNALLED_FALLBACK_INTERVAL_MS when
 * signals arrive; `intervalMs` without them).
 *
 * - The next fetch is scheduled after the previous one settles, so a slow
 *   backend never sees overlapping requests from one card.
 * - Previous data stays on screen while refetching (no spinner, no layout
 *   jump); a failed refetch keeps the data and reports the error beside it.
 * - Hidden tab: no timer runs; becoming visible fetches at once.
 */
export function useKedaStatus(
  entityRef: string,
  intervalMs: number,
): KedaStatusState & { retry: () => void } {
  const kedaApi = useApi(kedaApiRef);
  const signals = useApiHolder().get(signalApiRef);
  const [state, setState] = useState<KedaStatusState & { entityRef: string }>({
    loading: true,
    entityRef,
  });
  const fetchNowRef = useRef<() => void>(() => {});

  useEffect(() => {
    let disposed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight: AbortController | undefined;

    setState(previous =>
      previous.entityRef === entityRef
        ? previous
        : { loading: true, entityRef },
    );

    const schedule = () => {
      clearTimeout(timer);
      timer = undefined;
      if (!disposed && !documentHidden()) {
        timer = setTimeout(
          fetchNow,
          signals
            ? Math.max(intervalMs, SIGNALLED_FALLBACK_INTERVAL_MS)
            : intervalMs,
        );
      }
    };

    async function fetchNow() {
      clearTimeout(timer);
      inFlight?.abort();
      const controller = new AbortController();
      inFlight = controller;
      try {
        const value = await kedaApi.getStatus(entityRef, {
          signal: controller.signal,
        });
        if (disposed || controller.signal.aborted) return;
        setState({
          value,
          error: undefined,
          loading: false,
          receivedAt: Date.now(),
          entityRef,
        });
      } catch (e) {
        if (disposed || controller.signal.aborted) return;
        // Duck-typed: errors from another realm (iframes, test envs) fail
        // `instanceof Error` but are still errors.
        const error: Error = isError(e) ? (e as Error) : new Error(String(e));
        setState(previous => ({
          ...previous,
          error,
          loading: false,
          entityRef,
        }));
      }
      schedule();
    }

    const onVisibilityChange = () => {
      if (documentHidden()) {
        clearTimeout(timer);
        timer = undefined;
      } else {
        fetchNow();
      }
    };

    fetchNowRef.current = fetchNow;
    document.addEventListener('visibilitychange', onVisibilityChange);
    // A hidden tab fetches when it becomes visible again anyway.
    const subscription = signals?.subscribe(
      kedaStatusSignalChannel(entityRef),
      () => {
        if (!documentHidden()) fetchNow();
      },
    );
    fetchNow();

    return () => {
      disposed = true;
      subscription?.unsubscribe();
      clearTimeout(timer);
      inFlight?.abort();
      document.removeEventListener('visibilitychange', onVisibilityChange);
    };
  }, [kedaApi, signals, entityRef, intervalMs]);

  const retry = useCallback(() => {
    fetchNowRef.current();
  }, []);
  const { entityRef: stateRef, ...rest } = state;
  // Between an entity change and the effect's reset, never show the old
  // entity's data under the new entity's name.
  if (stateRef !== entityRef) return { loading: true, retry };
  return { ...rest, retry };
}
