import {
  matchesFieldSelector,
  matchesLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors';

describe('label selectors', () => {
  const labels = {
    app: 'orders',
    tier: 'worker',
    'backstage.io/kubernetes-id': 'orders',
  };
  it.each`
    selector                         | matches
    ${'app=orders'}                  | ${true}
    ${'app==orders,tier=worker'}     | ${true}
    ${'app!=orders'}                 | ${false}
    ${'tier in (web, worker)'}       | ${true}
    ${'tier notin (worker)'}         | ${false}
    ${'backstage.io/kubernetes-id'}  | ${true}
    ${'!backstage.io/kubernetes-id'} | ${false}
    ${'missing notin (x)'}           | ${true}
    ${'missing in (x)'}              | ${false}
    ${''}                            | ${true}
  `('$selector → $matches', ({ selector, matches }) => {
    expect(matchesLabelSelector(labels, parseLabelSelector(selector))).toBe(
      matches,
    );
  });

  it('rejects a malformed selector with 400', () => {
    expect(() => parseLabelSelector('app in (a')).toThrow(
      expect.objectContaining({ code: 400 }),
    );
  });
});

describe('field selectors', () => {
  it('matches dotted fields with = and !=', () => {
    const event = {
      involvedObject: { kind: 'ScaledObject', name: 'orders' },
      metadata: { namespace: 'payments' },
    };
    expect(
      matchesFieldSelector(
        event,
        parseFieldSelector(
          'involvedObject.kind=ScaledObject,metadata.namespace!=default',
        ),
      ),
    ).toBe(true);
    expect(
      matchesFieldSelector(
        event,
        parseFieldSelector('involvedObject.name=billing'),
      ),
    ).toBe(false);
  });
});
