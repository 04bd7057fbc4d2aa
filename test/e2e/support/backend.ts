import type { APIRequestContext } from '@playwright/test';

/** How long a suite waits for a starting backend by default: a cold start compiles plugins on 2 cores. */
export const BACKEND_START_TIMEOUT_MS = 5 * 60_000;

/**
 * Waits until the Backstage backend at `baseUrl` answers its readiness
 * check with 2xx. While it starts, the port refuses connections (the
 * frontend may already answer, so Playwright's web server counts as up),
 * then readiness answers 503 until every plugin has started: both are
 * retried every second. Throws after `timeoutMs` with what was waited for
 * and the last answer.
 */
export async function waitForBackendReady(
  request: APIRequestContext,
  baseUrl: string,
  timeoutMs: number = BACKEND_START_TIMEOUT_MS,
): Promise<void> {
  const url = `${baseUrl}/.backstage/health/v1/readiness`;
  const deadline = Date.now() + timeoutMs;
  let lastAnswer = 'no answer yet';
  for (;;) {
    try {
      const res = await request.get(url, { timeout: 10_000 });
      if (res.ok()) return;
      lastAnswer = `HTTP ${res.status()}`;
    } catch (error) {
      // Connection refused (ECONNREFUSED) or a timed-out request while the backend starts.
      lastAnswer = (
        error instanceof Error ? error.message : String(error)
      ).split('\n')[0];
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `The backend at ${baseUrl} was not ready after ${Math.round(
          timeoutMs / 1000,
        )} s: ` +
          `waited for ${url} to answer 2xx; the last answer was: ${lastAnswer}. ` +
          'Check the backend output (scripts/start.sh) for why it did not start.',
      );
    }
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}
