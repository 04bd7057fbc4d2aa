import { TestApiProvider } from '@backstage/frontend-test-utils';
import { signalApiRef, type SignalApi } from '@backstage/plugin-signals-react';
import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { useSignalRefresh } from './useSignalRefresh';

describe('useSignalRefresh', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('calls back with every message of the channel and unsubscribes on unmount', () => {
    const listeners: Array<(m: any) => void> = [];
    const unsubscribe = jest.fn();
    const signals: SignalApi = {
      subscribe: jest.fn((channel: string, fn: (m: any) => void) => {
        expect(channel).toBe('keda:requests');
        listeners.push(fn);
        return { unsubscribe };
      }) as SignalApi['subscribe'],
    };
    const onChange = jest.fn();
    const wrapper = ({ children }: { children: ReactNode }) => (
      <TestApiProvider apis={[[signalApiRef, signals]]}>
        {children}
      </TestApiProvider>
    );
    const { result, unmount } = renderHook(
      () =>
        useSignalRefresh('keda:requests', onChange, {
          fallbackIntervalMs: 1000,
        }),
      { wrapper },
    );
    expect(result.current).toBe(true);
    // Two messages in one tick: both arrive (useSignal would keep one).
    act(() => {
      listeners[0]({ requestId: 'a' });
      listeners[0]({ requestId: 'b' });
    });
    expect(onChange.mock.calls).toEqual([
      [{ requestId: 'a' }],
      [{ requestId: 'b' }],
    ]);
    unmount();
    expect(unsubscribe).toHaveBeenCalled();
  });

  it('polls while visible when the app has no signal API, and not when disabled', () => {
    jest.useFakeTimers();
    const onChange = jest.fn();
    const wrapper = ({ children }: { children: ReactNode }) => (
      <TestApiProvider apis={[]}>{children}</TestApiProvider>
    );
    const { result, rerender } = renderHook(
      ({ enabled }: { enabled: boolean }) =>
        useSignalRefresh('keda:requests', onChange, {
          fallbackIntervalMs: 30_000,
          enabled,
        }),
      { wrapper, initialProps: { enabled: true } },
    );
    expect(result.current).toBe(false);
    act(() => {
      jest.advanceTimersByTime(29_999);
    });
    expect(onChange).not.toHaveBeenCalled();
    act(() => {
      jest.advanceTimersByTime(1);
    });
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(onChange).toHaveBeenCalledWith();

    rerender({ enabled: false });
    act(() => {
      jest.advanceTimersByTime(120_000);
    });
    expect(onChange).toHaveBeenCalledTimes(1);
  });
});
