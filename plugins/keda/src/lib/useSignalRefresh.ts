import { useApiHolder } from '@backstage/frontend-plugin-api';
import { signalApiRef, type SignalApi } from '@backstage/plugin-signals-react';
import { useEffect, useRef } from 'react';

/** A signal's message: a JSON object (`JsonObject` of @backstage/types). */
type SignalMessage = Parameters<Parameters<SignalApi['subscribe']>[1]>[0];

function documentHidden(): boolean {
  return (
    typeof document !== 'undefined' && document.visibilityState === 'hidden'
  );
}

/**
 * Calls `onChange` when the backend announces a change on a signals
 * `channel` (with the message), or, when the app has no signal API (the
 * signals plugin is not installed), every `fallbackIntervalMs` while the
 * document is visible (without a message), so a page follows changes either
 * way.
 *
 * Every message is delivered: the hook subscribes to the signal API itself
 * rather than through `useSignal`, which keeps only the last message of a
 * render. `enabled: false` stops both (e.g. once nothing can change).
 *
 * @returns whether changes arrive as signals (false: polling)
 */
export function useSignalRefresh<
  TMessage extends SignalMessage = SignalMessage,
>(
  channel: string,
  onChange: (message?: TMessage) => void,
  options: { fallbackIntervalMs: number; enabled?: boolean },
): boolean {
  const signals = useApiHolder().get(signalApiRef);
  const { fallbackIntervalMs, enabled = true } = options;
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  useEffect(() => {
    if (!enabled) return undefined;
    if (signals) {
      const subscription = signals.subscribe<TMessage>(channel, message =>
        onChangeRef.current(message),
      );
      return () => subscription.unsubscribe();
    }
    const timer = setInterval(() => {
      if (!documentHidden()) onChangeRef.current();
    }, fallbackIntervalMs);
    return () => clearInterval(timer);
  }, [signals, channel, fallbackIntervalMs, enabled]);

  return !!signals;
}
