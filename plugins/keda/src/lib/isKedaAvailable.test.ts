import type { Entity } from '@backstage/catalog-model';
import { evaluateFilterPredicate } from '@backstage/filter-predicates';
import { isKedaAvailable, kedaEntityFilter } from './isKedaAvailable';

function component(annotations?: Record<string, string>): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'orders-worker', annotations },
    spec: { type: 'service' },
  };
}

const cases: Array<[string, Entity, boolean]> = [
  [
    'a kubernetes-id annotation',
    component({ 'backstage.io/kubernetes-id': 'orders-worker' }),
    true,
  ],
  [
    'a label selector annotation',
    component({
      'backstage.io/kubernetes-label-selector': 'app=orders-worker',
    }),
    true,
  ],
  [
    'only a namespace annotation',
    component({ 'backstage.io/kubernetes-namespace': 'orders' }),
    false,
  ],
  ['no annotations at all', component(), false],
];

describe('isKedaAvailable', () => {
  it.each(cases)('with %s → %s', (_name, entity, expected) => {
    expect(isKedaAvailable(entity)).toBe(expected);
  });

  it.each(cases)(
    'the new-system filter predicate agrees with the legacy function (%s)',
    (_name, entity, expected) => {
      expect(evaluateFilterPredicate(kedaEntityFilter, entity)).toBe(expected);
    },
  );
});
