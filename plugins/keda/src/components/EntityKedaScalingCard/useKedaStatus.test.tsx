import { TestApiProvider } from '@backstage/frontend-test-utils';
import type { EntityKedaStatus } from '@keda-self-service/plugin-keda-common';
import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { signalApiRef, type SignalApi } from '@backstage/plugin-signals-react';
import { KedaApi, kedaApiRef } from '../../api';
import { createKedaStatusFixtures } from '../../fixtures';
import { SIGNALLED_FALLBACK_INTERVAL_MS, useKedaStatus } from './useKedaStatus';

const fixtures = createKedaStatusFixtures(new Date('2026-11-28T06:00:00Z'));
const INTERVAL = 15_000;

type GetStatus = jest.Mock<
  ReturnType<KedaApi['getStatus']>,
  Parameters<KedaApi['getStatus']>
>;

let visibility: DocumentVisibilityState = 'visible';

function setVisibility(state: DocumentVisibilityState) {
  visibility = state;
  document.dispatchEvent(new Event('visibilitychange'));
}

/** Lets resolved getStatus promises reach React state. */
async function settle() {
  await act(async () => {
    await Promise.resolve();
    await Promise.resolve();
  });
}

async function advance(ms: number) {
  await act(async () => {
    jest.advanceTimersByTime(ms);
  });
  await settle();
}

function renderStatusHook(
  getStatus: GetStatus,
  entityRef = 'component:default/orders-worker',
  signals?: SignalApi,
) {
  const wrapper = ({ children }: { children: ReactNode }) =>
    signals ? (
      <TestApiProvider
        apis={[
          [kedaApiRef, { getStatus }],
          [signalApiRef, signals],
        ]}
      >
        {children}
      </TestApiProvider>
    ) : (
      <TestApiProvider apis={[[kedaApiRef, { getStatus }]]}>
        {children}
      </TestApiProvider>
    );
  return renderHook(
    ({ ref }: { ref: string }) => useKedaStatus(ref, INTERVAL),
    { wrapper, initialProps: { ref: entityRef } },
  );
}

/** A getStatus whose answers the test hands out one by one. */
function controlledGetStatus() {
  const pending: Array<{
    resolve: (s: EntityKedaStatus) => void;
    reject: (e: Error) => void;
    signal?: AbortSignal;
  }> = [];
  const getStatus: GetStatus = jest.fn(
    (_ref, options) =>
      new Promise<EntityKedaStatus>((resolve, reject) => {
        pending.push({ resolve, reject, signal: options?.signal });
      }),
  );
  return { getStatus, pending };
}

describe('useKedaStatus', () => {
  beforeAll(() => {
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => visibility,
    });
  });

  beforeEach(() => {
    visibility = 'visible';
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('fetches at once, then once per interval after each answer', async () => {
    const getStatus: GetStatus = jest.fn(
      async (_ref, _options) => fixtures.healthy,
    );
    const { result } = renderStatusHook(getStatus);
    expect(result.current.loading).toBe(true);
    await settle();

    expect(getStatus).toHaveBeenCalledTimes(1);
    expect(result.current.loading).toBe(false);
    expect(result.current.value).toBe(fixtures.healthy);

    await advance(INTERVAL - 1);
    expect(getStatus).toHaveBeenCalledTimes(1);
    await advance(1);
    expect(getStatus).toHaveBeenCalledTimes(2);
    await advance(INTERVAL);
    expect(getStatus).toHaveBeenCalledTimes(3);
  });

  it('never overlaps requests: the next one waits for a slow answer', async () => {
    const { getStatus, pending } = controlledGetStatus();
    renderStatusHook(getStatus);

    await advance(INTERVAL * 4);
    expect(getStatus).toHaveBeenCalledTimes(1);

    pending[0].resolve(fixtures.healthy);
    await settle();
    await advance(INTERVAL);
    expect(getStatus).toHaveBeenCalledTimes(2);
  });

  it('keeps the previous data while refetching and after a failed refetch', async () => {
    const { getStatus, pending } = controlledGetStatus();
    const { result } = renderStatusHook(getStatus);
    pending[0].resolve(fixtures.healthy);
    await settle();

    await advance(INTERVAL);
    expect(getStatus).toHaveBeenCalledTimes(2);
    expect(result.current.value).toBe(fixtures.healthy);
    expect(result.current.loading).toBe(false);

    pending[1].reject(new Error('socket hang up'));
    await settle();
    expect(result.current.value).toBe(fixtures.healthy);
    expect(result.current.error?.message).toBe('socket hang up');

    await advance(INTERVAL);
    pending[2].resolve(fixtures.scaling);
    await settle();
    expect(result.current.value).toBe(fixtures.scaling);
    expect(result.current.error).toBeUndefined();
  });

  it('pauses while the document is hidden and fetches at once when it is visible again', async () => {
    const getStatus: GetStatus = jest.fn(
      async (_ref, _options) => fixtures.healthy,
    );
    renderStatusHook(getStatus);
    await settle();
    expect(getStatus).toHaveBeenCalledTimes(1);

    act(() => setVisibility('hidden'));
    await advance(INTERVAL * 10);
    expect(getStatus).toHaveBeenCalledTimes(1);

    act(() => setVisibility('visible'));
    await settle();
    expect(getStatus).toHaveBeenCalledTimes(2);

    await advance(INTERVAL);
    expect(getStatus).toHaveBeenCalledTimes(3);
  });

  it('does not resume the timer when an answer arrives while hidden', async () => {
    const { getStatus, pending } = controlledGetStatus();
    renderStatusHook(getStatus);
    act(() => setVisibility('hidden'));
    pending[0].resolve(fixtures.healthy);
    await settle();

    await advance(INTERVAL * 3);
    expect(getStatus).toHaveBeenCalledTimes(1);
  });

  it("starts over for another entity and never shows the old entity's data", async () => {
    const getStatus: GetStatus = jest.fn(async ref =>
      ref === 'component:default/orders-worker'
        ? fixtures.healthy
        : fixtures.noScaledObject,
    );
    const { result, rerender } = renderStatusHook(getStatus);
    await settle();
    expect(result.current.value).toBe(fixtures.healthy);

    rerender({ ref: 'component:default/billing-worker' });
    expect(result.current.value).toBeUndefined();
    expect(result.current.loading).toBe(true);
    await settle();

    expect(getStatus).toHaveBeenLastCalledWith(
      'component:default/billing-worker',
      expect.anything(),
    );
    expect(result.current.value).toBe(fixtures.noScaledObject);
  });

  it('aborts the request in flight and stops polling on unmount', async () => {
    const { getStatus, pending } = controlledGetStatus();
    const { unmount } = renderStatusHook(getStatus);
    expect(pending[0].signal?.aborted).toBe(false);

    unmount();
    expect(pending[0].signal?.aborted).toBe(true);
    await advance(INTERVAL * 3);
    expect(getStatus).toHaveBeenCalledTimes(1);
  });

  it('retry fetches immediately and restarts the interval', async () => {
    const getStatus: GetStatus = jest.fn(
      async (_ref, _options) => fixtures.healthy,
    );
    const { result } = renderStatusHook(getStatus);
    await settle();
    await advance(INTERVAL - 1000);

    act(() => result.current.retry());
    await settle();
    expect(getStatus).toHaveBeenCalledTimes(2);

    await advance(INTERVAL - 1);
    expect(getStatus).toHaveBeenCalledTimes(2);
    await advance(1);
    expect(getStatus).toHaveBeenCalledTimes(3);
  });

  it('refetches when the backend signals a change and polls only slowly then', async () => {
    const listeners = new Map<string, () => void>();
    const unsubscribe = jest.fn();
    const signals: SignalApi = {
      subscribe: ((channel: string, fn: () => void) => {
        listeners.set(channel, fn);
        return { unsubscribe };
      }) as unknown as SignalApi['subscribe'],
    };
    const getStatus: GetStatus = jest.fn(
      async (_ref, _options) => fixtures.healthy,
    );
    const { unmount } = renderStatusHook(
      getStatus,
      'component:default/orders-worker',
      signals,
    );
    await settle();
    expect(getStatus).toHaveBeenCalledTimes(1);
    const onSignal = listeners.get(
      'keda:status:component:default/orders-worker',
    );
    expect(onSignal).toBeDefined();

    act(() => onSignal!());
    await settle();
    expect(getStatus).toHaveBeenCalledTimes(2);

    // The card's interval no longer applies: only the slow fallback.
    await advance(INTERVAL * 2);
    expect(getStatus).toHaveBeenCalledTimes(2);
    await advance(SIGNALLED_FALLBACK_INTERVAL_MS - INTERVAL * 2);
    expect(getStatus).toHaveBeenCalledTimes(3);

    // A hidden tab ignores signals (it fetches when visible again).
    setVisibility('hidden');
    act(() => onSignal!());
    await settle();
    expect(getStatus).toHaveBeenCalledTimes(3);

    unmount();
    expect(unsubscribe).toHaveBeenCalled();
  });
});
