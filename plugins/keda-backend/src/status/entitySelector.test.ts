import type { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { entityObjectSelector, selects } from './entitySelector';

function entity(annotations: Record<string, string>): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'orders-worker', annotations },
    spec: {},
  };
}

const labelled = (labels: Record<string, string>, namespace = 'orders') => ({
  labels,
  namespace,
});

describe('entityObjectSelector', () => {
  it('maps backstage.io/kubernetes-id to the label of the same name', () => {
    const s = entityObjectSelector(
      entity({ 'backstage.io/kubernetes-id': 'orders-worker' }),
    )!;
    expect(
      selects(s, labelled({ 'backstage.io/kubernetes-id': 'orders-worker' })),
    ).toBe(true);
    expect(
      selects(s, labelled({ 'backstage.io/kubernetes-id': 'payments' })),
    ).toBe(false);
  });

  it('prefers backstage.io/kubernetes-label-selector over the id', () => {
    const s = entityObjectSelector(
      entity({
        'backstage.io/kubernetes-id': 'orders-worker',
        'backstage.io/kubernetes-label-selector':
          'app.kubernetes.io/name in (orders,orders-worker)',
      }),
    )!;
    expect(selects(s, labelled({ 'app.kubernetes.io/name': 'orders' }))).toBe(
      true,
    );
    expect(
      selects(s, labelled({ 'backstage.io/kubernetes-id': 'orders-worker' })),
    ).toBe(false);
  });

  it('narrows to backstage.io/kubernetes-namespace', () => {
    const s = entityObjectSelector(
      entity({
        'backstage.io/kubernetes-id': 'orders-worker',
        'backstage.io/kubernetes-namespace': 'orders',
      }),
    )!;
    expect(
      selects(
        s,
        labelled({ 'backstage.io/kubernetes-id': 'orders-worker' }, 'orders'),
      ),
    ).toBe(true);
    expect(
      selects(
        s,
        labelled({ 'backstage.io/kubernetes-id': 'orders-worker' }, 'staging'),
      ),
    ).toBe(false);
  });

  it('returns undefined for an entity without Kubernetes annotations', () => {
    expect(entityObjectSelector(entity({}))).toBeUndefined();
  });

  it('rejects an invalid label selector annotation, naming it', () => {
    expect(() =>
      entityObjectSelector(
        entity({ 'backstage.io/kubernetes-label-selector': 'a in b' }),
      ),
    ).toThrow(InputError);
    expect(() =>
      entityObjectSelector(
        entity({ 'backstage.io/kubernetes-label-selector': 'a in b' }),
      ),
    ).toThrow(/backstage\.io\/kubernetes-label-selector/);
  });
});
