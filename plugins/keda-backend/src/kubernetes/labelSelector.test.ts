import {
  LabelSelectorSyntaxError,
  matchesLabelSelector,
  parseLabelSelector,
} from './labelSelector';

const labels = {
  'backstage.io/kubernetes-id': 'orders-worker',
  'app.kubernetes.io/part-of': 'orders',
  tier: 'backend',
};

describe('label selectors', () => {
  it.each([
    ['backstage.io/kubernetes-id=orders-worker', true],
    ['backstage.io/kubernetes-id==orders-worker', true],
    ['backstage.io/kubernetes-id=payments', false],
    ['tier!=frontend', true],
    ['tier!=backend', false],
    ['missing!=x', true],
    ['tier in (backend, batch)', true],
    ['tier in (frontend)', false],
    ['tier notin (frontend)', true],
    ['tier notin (backend,frontend)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['app.kubernetes.io/part-of=orders,tier in (backend)', true],
    ['app.kubernetes.io/part-of=orders, tier=frontend', false],
    ['', true],
  ])('%p matches: %p', (selector, expected) => {
    expect(matchesLabelSelector(parseLabelSelector(selector), labels)).toBe(
      expected,
    );
  });

  it('treats missing labels as an empty set', () => {
    expect(matchesLabelSelector(parseLabelSelector('!a'), undefined)).toBe(
      true,
    );
    expect(matchesLabelSelector(parseLabelSelector('a=b'), undefined)).toBe(
      false,
    );
  });

  it.each([['a=b=c'], ['a in b'], ['-bad=x'], ['a=has space']])(
    'rejects %p with a message naming the term',
    selector => {
      expect(() => parseLabelSelector(selector)).toThrow(
        LabelSelectorSyntaxError,
      );
    },
  );
});
