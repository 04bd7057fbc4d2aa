import {
  LAST_APPLIED_ANNOTATION,
  TRACKING_ANNOTATION,
  annotatedForApply,
  mergePatchFrom,
} from './applier';

describe('mergePatchFrom', () => {
  it('sets every desired field and nulls the fields the last applied configuration had', () => {
    const lastApplied = {
      metadata: { name: 'a', labels: { app: 'a', team: 'orders' } },
      data: { A: '1', B: '2' },
      spec: { ports: [1, 2] },
    };
    const desired = {
      metadata: { name: 'a', labels: { app: 'a' } },
      data: { A: '3' },
      spec: { ports: [1] },
    };
    expect(mergePatchFrom(lastApplied, desired)).toEqual({
      metadata: { name: 'a', labels: { app: 'a', team: null } },
      data: { A: '3', B: null },
      // Arrays are replaced wholesale, as JSON merge patch defines.
      spec: { ports: [1] },
    });
  });

  it('returns the desired value when there is nothing to merge with', () => {
    expect(mergePatchFrom({}, { a: 1 })).toEqual({ a: 1 });
    expect(mergePatchFrom('x', { a: 1 })).toEqual({ a: 1 });
  });
});

describe('annotatedForApply', () => {
  it('adds the tracking id and remembers the applied object without the memory itself', () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'a',
        annotations: { note: 'x', [LAST_APPLIED_ANNOTATION]: 'stale' },
      },
    };
    const applied = annotatedForApply(manifest, 'app:/ConfigMap:ns/a');
    expect(applied.metadata.annotations?.[TRACKING_ANNOTATION]).toBe(
      'app:/ConfigMap:ns/a',
    );
    expect(
      JSON.parse(applied.metadata.annotations![LAST_APPLIED_ANNOTATION]),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'a',
        annotations: {
          note: 'x',
          [TRACKING_ANNOTATION]: 'app:/ConfigMap:ns/a',
        },
      },
    });
    // The input is not modified.
    expect(manifest.metadata.annotations[LAST_APPLIED_ANNOTATION]).toBe(
      'stale',
    );
  });
});
