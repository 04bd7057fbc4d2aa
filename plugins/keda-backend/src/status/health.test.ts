import type { KedaCondition } from '@keda-self-service/plugin-keda-common';
import { scaledObjectHealth } from './health';

const c = (type: string, status: KedaCondition['status']): KedaCondition => ({
  type,
  status,
});

describe('scaledObjectHealth', () => {
  it.each([
    [[c('Ready', 'True'), c('Active', 'True')], false, 'Healthy'],
    [[c('Ready', 'False'), c('Paused', 'True')], false, 'Degraded'],
    [[c('Ready', 'True'), c('Paused', 'True')], false, 'Suspended'],
    [[c('Ready', 'True')], true, 'Suspended'],
    [[c('Ready', 'Unknown')], false, 'Progressing'],
    [[], false, 'Progressing'],
  ] as const)(
    '%j (paused annotation %p) → %p',
    (conditions, paused, expected) => {
      expect(scaledObjectHealth([...conditions], paused)).toBe(expected);
    },
  );
});
