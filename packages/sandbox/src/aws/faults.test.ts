import { FaultInjector, parseFaultRules } from './faults';

describe('FaultInjector', () => {
  it('matches by service and operation and expires rules after `times` calls', () => {
    const faults = new FaultInjector();
    faults.set([
      { service: 'sqs', operation: 'GetQueueAttributes', error: 'throttle', times: 2 },
      { service: 'sqs', latencyMs: 10 },
    ]);
    expect(faults.take('sqs', 'GetQueueAttributes')).toMatchObject({ latencyMs: 10, error: { code: 'Throttling', status: 400 } });
    expect(faults.take('sqs', 'SendMessage')).toEqual({ latencyMs: 10, error: undefined });
    expect(faults.take('sts', 'AssumeRole')).toEqual({ latencyMs: 0, error: undefined });
    expect(faults.take('sqs', 'GetQueueAttributes').error?.code).toBe('Throttling');
    expect(faults.take('sqs', 'GetQueueAttributes').error).toBeUndefined();
    expect(faults.list()).toEqual([{ service: 'sqs', latencyMs: 10 }]);
  });

  it.each([
    ['eks', 'throttle', 'ThrottlingException', 429],
    ['iam', 'unavailable', 'ServiceUnavailable', 503],
    ['eks', 'internal', 'ServerException', 500],
  ] as const)('%s %s → %s %s', (service, error, code, status) => {
    const faults = new FaultInjector();
    faults.add({ error });
    expect(faults.take(service, 'Any').error).toMatchObject({ code, status });
  });
});

describe('parseFaultRules', () => {
  it('accepts {faults: [...]} and a bare list', () => {
    expect(parseFaultRules({ faults: [{ error: 'internal' }] })).toEqual([{ error: 'internal' }]);
    expect(parseFaultRules([{ latencyMs: 5 }])).toEqual([{ latencyMs: 5 }]);
  });

  it.each([
    [{ faults: 'nope' }, 'faults must be an array'],
    [[{ error: 'explode' }], 'faults[0].error must be one of throttle, unavailable, internal'],
    [[{ error: 'throttle', times: -1 }], 'faults[0].times must be a non-negative integer'],
    [[{ service: 'sqs' }], 'faults[0] needs an error or a latencyMs'],
  ])('rejects %j', (input, message) => {
    expect(() => parseFaultRules(input)).toThrow(message);
  });
});
