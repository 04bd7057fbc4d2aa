import { KubernetesObjectStore } from '../kubernetes/store';
import { BUILTIN_RESOURCES, ResourceRegistry } from '../kubernetes/resources';
import { EventRecorder } from './events';

describe('EventRecorder', () => {
  let store: KubernetesObjectStore;
  let clock: number;
  let recorder: EventRecorder;
  let involved: any;

  beforeEach(() => {
    store = new KubernetesObjectStore({
      registry: new ResourceRegistry(BUILTIN_RESOURCES),
      initialNamespaces: ['payments'],
    });
    clock = Date.parse('2026-11-28T10:00:00Z');
    recorder = new EventRecorder(store, 'keda-operator', () => clock);
    involved = store.create('configmaps', 'payments', {
      metadata: { name: 'orders' },
    });
  });

  const events = () => store.list('events', { namespace: 'payments' }).items;

  it('counts an identical event instead of creating another', () => {
    const spec = {
      type: 'Warning' as const,
      reason: 'KEDAScalerFailed',
      message: 'boom',
    };
    recorder.record(involved, spec);
    clock += 30_000;
    recorder.record(involved, spec);
    expect(events()).toEqual([
      expect.objectContaining({
        count: 2,
        firstTimestamp: '2026-11-28T10:00:00Z',
        lastTimestamp: '2026-11-28T10:00:30Z',
        involvedObject: expect.objectContaining({
          kind: 'ConfigMap',
          uid: involved.metadata.uid,
        }),
      }),
    ]);
  });

  it('folds the eleventh and later similar events into one combined event', () => {
    for (let i = 0; i < 14; i++) {
      recorder.record(involved, {
        type: 'Warning',
        reason: 'KEDAScalerFailed',
        message: `RequestID ${i}`,
      });
      clock += 1000;
    }
    const all = events();
    expect(all).toHaveLength(11);
    const combined = all.find(e =>
      e.message.startsWith('(combined from similar events): '),
    );
    expect(combined).toMatchObject({
      count: 4,
      message: '(combined from similar events): RequestID 13',
    });
  });

  it('expires events an hour after they were last seen', () => {
    recorder.record(involved, {
      type: 'Normal',
      reason: 'ScaledObjectReady',
      message: 'ready',
    });
    clock += 61 * 60_000;
    recorder.record(involved, {
      type: 'Normal',
      reason: 'KEDAScalersStarted',
      message: 'started',
    });
    expect(events().map(e => e.reason)).toEqual(['KEDAScalersStarted']);
  });
});
