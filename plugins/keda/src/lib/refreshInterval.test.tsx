import { mockApis, TestApiProvider } from '@backstage/frontend-test-utils';
import { renderHook } from '@testing-library/react';
import type { JsonObject } from '@backstage/types';
import type { ReactNode } from 'react';
import {
  resolveRefreshIntervalMs,
  useRefreshIntervalMs,
} from './refreshInterval';

describe('resolveRefreshIntervalMs', () => {
  it('defaults to 15 seconds when neither the card nor app config sets one', () => {
    expect(resolveRefreshIntervalMs()).toBe(15_000);
  });

  it('uses keda.frontend.refreshIntervalSeconds from app config', () => {
    expect(resolveRefreshIntervalMs(undefined, 30)).toBe(30_000);
  });

  it('lets the card option win over app config', () => {
    expect(resolveRefreshIntervalMs(20, 60)).toBe(20_000);
  });

  it('raises values below 5 seconds to 5 seconds', () => {
    expect(resolveRefreshIntervalMs(1)).toBe(5_000);
  });

  it('skips zero, negative and non-finite values instead of polling in a tight loop', () => {
    expect(resolveRefreshIntervalMs(0, 25)).toBe(25_000);
    expect(resolveRefreshIntervalMs(-3, NaN)).toBe(15_000);
    expect(resolveRefreshIntervalMs(Infinity)).toBe(15_000);
  });
});

describe('useRefreshIntervalMs', () => {
  const render = (appConfig: JsonObject, cardOption?: number) =>
    renderHook(() => useRefreshIntervalMs(cardOption), {
      wrapper: ({ children }: { children: ReactNode }) => (
        <TestApiProvider apis={[mockApis.config({ data: appConfig })]}>
          {children}
        </TestApiProvider>
      ),
    }).result.current;

  it('reads keda.frontend.refreshIntervalSeconds from the app config', () => {
    expect(render({ keda: { frontend: { refreshIntervalSeconds: 40 } } })).toBe(
      40_000,
    );
    expect(render({})).toBe(15_000);
  });

  it('lets the card option win', () => {
    expect(
      render({ keda: { frontend: { refreshIntervalSeconds: 40 } } }, 20),
    ).toBe(20_000);
  });
});
