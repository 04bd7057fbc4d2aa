import { KedaStatusScenario, kedaStatusScenarios } from '../src/fixtures';

/** Card states that only exist client-side (no fixture answer). */
export type ClientSideScenario = 'loading' | 'error';

/** Fixture scenarios plus the two client-side states. */
export const DEV_SCENARIOS: Array<KedaStatusScenario | ClientSideScenario> = [
  ...kedaStatusScenarios,
  'loading',
  'error',
];

/**
 * The dev entity for scenario `x` is `component:default/x`; unknown names
 * fall back to `healthy`.
 */
export function devScenarioFor(
  entityRef: string,
): KedaStatusScenario | ClientSideScenario {
  // Entity refs are compared case-insensitively, so match names that way.
  const name = (entityRef.split('/').pop() ?? '').toLocaleLowerCase('en-US');
  return (
    DEV_SCENARIOS.find(s => s.toLocaleLowerCase('en-US') === name) ?? 'healthy'
  );
}
