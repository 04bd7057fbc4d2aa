import { configApiRef, useApi } from '@backstage/frontend-plugin-api';

/** Refresh period of the card when neither the card nor app config sets one. */
export const DEFAULT_REFRESH_INTERVAL_SECONDS = 15;

/**
 * Lower bound: the status API serves a watch cache, but a page left open in
 * many tabs should still not poll faster than the cache can change usefully.
 */
export const MIN_REFRESH_INTERVAL_SECONDS = 5;

/**
 * Resolves the card's refresh period in milliseconds. A card-level option
 * (extension config or component prop) wins over the app-wide
 * `keda.frontend.refreshIntervalSeconds`; invalid values fall back to the
 * next source instead of breaking the card.
 */
export function resolveRefreshIntervalMs(
  cardOptionSeconds?: number,
  appConfigSeconds?: number,
): number {
  const seconds = [cardOptionSeconds, appConfigSeconds].find(
    value => typeof value === 'number' && Number.isFinite(value) && value > 0,
  );
  const chosen = seconds ?? DEFAULT_REFRESH_INTERVAL_SECONDS;
  return Math.max(chosen, MIN_REFRESH_INTERVAL_SECONDS) * 1000;
}

/**
 * The card's refresh period in milliseconds: the card-level option, else
 * the app's `keda.frontend.refreshIntervalSeconds` (the one place the
 * frontend reads it), else the default.
 */
export function useRefreshIntervalMs(cardOptionSeconds?: number): number {
  const configApi = useApi(configApiRef);
  return resolveRefreshIntervalMs(
    cardOptionSeconds,
    configApi.getOptionalNumber('keda.frontend.refreshIntervalSeconds'),
  );
}
