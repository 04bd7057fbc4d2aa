import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  patchTypeOf,
} from './patch';

describe('applyMergePatch (RFC 7386)', () => {
  it('merges objects, replaces arrays and removes keys set to null', () => {
    expect(
      applyMergePatch(
        { a: { b: 1, c: 2 }, list: [1, 2], gone: true },
        { a: { c: 3 }, list: [3], gone: null },
      ),
    ).toEqual({ a: { b: 1, c: 3 }, list: [3] });
  });
});

describe('applyStrategicMergePatch', () => {
  const deployment = {
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'app',
              image: 'orders:1',
              env: [{ name: 'A', value: '1' }],
            },
            { name: 'sidecar', image: 'proxy:1' },
          ],
        },
      },
    },
  };

  it('merges containers by name as kubectl apply expects', () => {
    const patched = applyStrategicMergePatch(deployment, {
      spec: {
        template: {
          spec: {
            $setElementOrder: [{ name: 'app' }, { name: 'sidecar' }],
            containers: [{ name: 'app', image: 'orders:2' }],
          },
        },
      },
    });
    expect(patched.spec.template.spec.containers).toEqual([
      { name: 'app', image: 'orders:2', env: [{ name: 'A', value: '1' }] },
      { name: 'sidecar', image: 'proxy:1' },
    ]);
    expect(patched.spec.template.spec.$setElementOrder).toBeUndefined();
  });

  it('honours $patch: delete on a list element', () => {
    const patched = applyStrategicMergePatch(deployment, {
      spec: {
        template: {
          spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] },
        },
      },
    });
    expect(
      patched.spec.template.spec.containers.map((c: any) => c.name),
    ).toEqual(['app']);
  });

  it('replaces lists of scalars', () => {
    expect(
      applyStrategicMergePatch({ args: ['a', 'b'] }, { args: ['c'] }),
    ).toEqual({ args: ['c'] });
  });
});

describe('applyJsonPatch (RFC 6902)', () => {
  it('applies add, replace, remove, move, copy and test', () => {
    const doc = {
      spec: { replicas: 1, triggers: [{ type: 'a' }] },
      metadata: { labels: { x: '1' } },
    };
    expect(
      applyJsonPatch(doc, [
        { op: 'test', path: '/spec/replicas', value: 1 },
        { op: 'replace', path: '/spec/replicas', value: 3 },
        { op: 'add', path: '/spec/triggers/-', value: { type: 'b' } },
        {
          op: 'add',
          path: '/metadata/labels/app.kubernetes.io~1name',
          value: 'orders',
        },
        { op: 'copy', from: '/metadata/labels/x', path: '/metadata/labels/y' },
        { op: 'move', from: '/metadata/labels/x', path: '/metadata/labels/z' },
        { op: 'remove', path: '/spec/triggers/0' },
      ]),
    ).toEqual({
      spec: { replicas: 3, triggers: [{ type: 'b' }] },
      metadata: {
        labels: { 'app.kubernetes.io/name': 'orders', y: '1', z: '1' },
      },
    });
    expect(doc.spec.replicas).toBe(1);
  });

  it('fails a test operation and a missing path with 422', () => {
    expect(() =>
      applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]),
    ).toThrow(expect.objectContaining({ code: 422 }));
    expect(() =>
      applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b/c', value: 2 }]),
    ).toThrow(expect.objectContaining({ code: 422 }));
  });
});

describe('patchTypeOf', () => {
  it('maps content types and rejects others with 415', () => {
    expect(patchTypeOf('application/merge-patch+json; charset=utf-8')).toBe(
      'merge',
    );
    expect(patchTypeOf('application/apply-patch+yaml')).toBe('apply');
    expect(() => patchTypeOf('application/json')).toThrow(
      expect.objectContaining({ code: 415 }),
    );
  });
});
