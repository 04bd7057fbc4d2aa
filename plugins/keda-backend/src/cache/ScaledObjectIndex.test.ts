import {
  matchesLabelSelector,
  type LabelRequirement,
} from '../kubernetes/labelSelector';
import { ScaledObjectIndex } from './ScaledObjectIndex';

/** A small deterministic generator (the test replays the same world). */
function random(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}

const KEYS = ['app', 'team', 'backstage.io/kubernetes-id', 'tier'];
const VALUES = ['a', 'b', 'c'];

describe('ScaledObjectIndex', () => {
  it('finds every ScaledObject selected by its own or its target’s labels, through adds, changes and deletes', () => {
    const pick = random(42);
    const labels = () => {
      const out: Record<string, string> = {};
      for (const k of KEYS) if (pick(3) === 0) out[k] = VALUES[pick(3)];
      return out;
    };
    const index = new ScaledObjectIndex();
    const scaledObjects = new Map<
      string,
      { namespace: string; labels: Record<string, string>; target: string }
    >();
    const targets = new Map<string, Record<string, string>>();
    const namespaces = ['n1', 'n2'];
    const missed: string[] = [];
    const stray: string[] = [];
    let checks = 0;

    for (let step = 0; step < 2_000; step++) {
      const namespace = namespaces[pick(2)];
      const name = `so-${pick(60)}`;
      const targetName = `w-${pick(30)}`;
      const action = pick(5);
      if (action <= 1) {
        const own = labels();
        index.putScaledObject({
          namespace,
          name,
          labels: own,
          targetKind: 'Deployment',
          targetName,
        });
        scaledObjects.set(`${namespace}/${name}`, {
          namespace,
          labels: own,
          target: `Deployment/${namespace}/${targetName}`,
        });
      } else if (action === 2) {
        index.removeScaledObject(namespace, name);
        scaledObjects.delete(`${namespace}/${name}`);
      } else if (action === 3) {
        const own = labels();
        index.putTarget({
          kind: 'Deployment',
          namespace,
          name: targetName,
          labels: own,
        });
        targets.set(`Deployment/${namespace}/${targetName}`, own);
      } else {
        index.removeTarget('Deployment', namespace, targetName);
        targets.delete(`Deployment/${namespace}/${targetName}`);
      }

      if (step % 50 === 0) {
        const requirements: LabelRequirement[][] = [
          [{ key: KEYS[pick(4)], operator: '=', value: VALUES[pick(3)] }],
          [
            { key: KEYS[pick(4)], operator: 'in', values: ['a', 'b'] },
            { key: KEYS[pick(4)], operator: 'exists' },
          ],
          [{ key: KEYS[pick(4)], operator: '!=', value: 'a' }],
          [],
        ];
        for (const r of requirements) {
          const expected = [...scaledObjects]
            .filter(
              ([, so]) =>
                matchesLabelSelector(r, so.labels) ||
                (targets.has(so.target) &&
                  matchesLabelSelector(r, targets.get(so.target))),
            )
            .map(([id]) => id);
          const found = new Set(index.candidates(r));
          missed.push(...expected.filter(id => !found.has(id)));
          // Only existing ScaledObjects, never a deleted one.
          stray.push(...[...found].filter(id => !scaledObjects.has(id)));
          checks++;
        }
      }
    }
    expect(checks).toBe(160);
    expect(missed).toEqual([]);
    expect(stray).toEqual([]);
    expect(index.size).toBe(scaledObjects.size);
  });

  it('answers an equality selector with its postings only, not every ScaledObject', () => {
    const index = new ScaledObjectIndex();
    for (let i = 0; i < 1_000; i++) {
      index.putScaledObject({
        namespace: 'n',
        name: `so-${i}`,
        labels: { 'backstage.io/kubernetes-id': `svc-${i % 100}` },
        targetKind: 'Deployment',
        targetName: `w-${i}`,
      });
    }
    index.putTarget({
      kind: 'Deployment',
      namespace: 'n',
      name: 'w-7',
      labels: { 'backstage.io/kubernetes-id': 'svc-3' },
    });
    const found = index.candidates([
      { key: 'backstage.io/kubernetes-id', operator: '=', value: 'svc-3' },
    ]);
    // 10 labelled svc-3, plus so-7 whose workload is.
    expect(found.sort()).toEqual(
      [
        ...Array.from({ length: 10 }, (_, i) => `n/so-${i * 100 + 3}`),
        'n/so-7',
      ].sort(),
    );
  });

  it('counts ScaledObjects per kind and namespace for the scale target watches', () => {
    const index = new ScaledObjectIndex();
    const put = (name: string, kind: string, namespace = 'a') =>
      index.putScaledObject({
        namespace,
        name,
        targetKind: kind,
        targetName: name,
      });
    put('x', 'Deployment');
    put('y', 'Deployment');
    put('z', 'StatefulSet', 'b');
    expect(index.kindNamespaces().sort()).toEqual([
      'Deployment/a',
      'StatefulSet/b',
    ]);
    index.removeScaledObject('a', 'x');
    expect(index.kindNamespaces()).toContain('Deployment/a');
    put('y', 'StatefulSet'); // its target kind changed
    expect(index.kindNamespaces().sort()).toEqual([
      'StatefulSet/a',
      'StatefulSet/b',
    ]);
    expect(index.scaledObjectsOf('StatefulSet', 'a', 'y')).toEqual(['a/y']);
    expect(index.scaledObjectsOf('Deployment', 'a', 'y')).toEqual([]);
  });
});
