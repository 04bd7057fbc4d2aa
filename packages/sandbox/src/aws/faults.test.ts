import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { FaultInjector, parseFaultRules, parseFaultRuleSet } from './faults';
import { startAwsStandIn, type AwsStandIn } from './server';
import { rootCredentialsFor } from './state';

jest.setTimeout(30_000);

describe('FaultInjector', () => {
  it('matches by service and operation and expires rules after `times` calls', () => {
    const faults = new FaultInjector();
    faults.set([
      {
        service: 'sqs',
        operation: 'GetQueueAttributes',
        error: 'throttle',
        times: 2,
      },
      { service: 'sqs', latencyMs: 10 },
    ]);
    expect(faults.take('sqs', 'GetQueueAttributes')).toMatchObject({
      latencyMs: 10,
      error: { code: 'Throttling', status: 400 },
    });
    expect(faults.take('sqs', 'SendMessage')).toEqual({
      latencyMs: 10,
      error: undefined,
    });
    expect(faults.take('sts', 'AssumeRole')).toEqual({
      latencyMs: 0,
      error: undefined,
    });
    expect(faults.take('sqs', 'GetQueueAttributes').error?.code).toBe(
      'Throttling',
    );
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

describe('FaultInjector: probability, seed, reset, phase', () => {
  const pattern = (seed: number, n = 200) => {
    const faults = new FaultInjector();
    faults.set([{ service: 'iam', error: 'throttle', probability: 0.3 }], seed);
    return Array.from({ length: n }, () =>
      faults.take('iam', 'CreateRole').error ? 1 : 0,
    );
  };

  it('draws probabilities from the seed: the same seed replays the same faults, another seed others', () => {
    const a = pattern(1234);
    expect(pattern(1234)).toEqual(a);
    expect(pattern(99)).not.toEqual(a);
    const hits = a.reduce<number>((sum, x) => sum + x, 0);
    // 30% of 200, give or take what a fair PRNG gives
    expect(hits).toBeGreaterThan(35);
    expect(hits).toBeLessThan(85);
  });

  it('probability 0 never and 1 always applies; times counts applied calls only', () => {
    const faults = new FaultInjector();
    faults.set(
      [
        { operation: 'GetRole', error: 'internal', probability: 0 },
        { operation: 'TagRole', error: 'internal', probability: 1, times: 1 },
      ],
      7,
    );
    expect(faults.take('iam', 'GetRole').error).toBeUndefined();
    expect(faults.take('iam', 'TagRole').error?.code).toBe('InternalFailure');
    expect(faults.take('iam', 'TagRole').error).toBeUndefined();
    expect(faults.ruleSet()).toEqual({
      faults: [{ operation: 'GetRole', error: 'internal', probability: 0 }],
      seed: 7,
      // the last TagRole came after its rule was used up: matched nothing
      faulted: 1,
      matched: 2,
    });
  });

  it('reset and phase after: the call is performed, then the answer is replaced', () => {
    const faults = new FaultInjector();
    faults.set([
      { operation: 'CreateRole', error: 'reset', phase: 'after', latencyMs: 5 },
      { operation: 'PutRolePolicy', error: 'reset' },
    ]);
    expect(faults.take('iam', 'CreateRole')).toEqual({
      latencyMs: 0,
      after: { latencyMs: 5, reset: true },
    });
    expect(faults.take('iam', 'PutRolePolicy')).toEqual({
      latencyMs: 0,
      reset: true,
    });
  });
});

describe('fault kinds through the AWS stand-in, with the SDK', () => {
  let aws: AwsStandIn;
  const ACCOUNT = '222222222222';
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ACCOUNT },
        Action: 'sts:AssumeRole',
      },
    ],
  });
  const iam = (maxAttempts: number) =>
    new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: rootCredentialsFor(ACCOUNT),
      maxAttempts,
    });

  beforeEach(async () => {
    aws = await startAwsStandIn({ port: 0 });
    aws.createAccount(ACCOUNT);
  });
  afterEach(() => aws.close());

  it('reset: the connection is destroyed unanswered and nothing is performed; the SDK retries it as transient', async () => {
    aws.setFaults([
      { service: 'iam', operation: 'CreateRole', error: 'reset', times: 1 },
    ]);
    await expect(
      iam(1).send(
        new CreateRoleCommand({
          RoleName: 'a',
          AssumeRolePolicyDocument: trust,
        }),
      ),
    ).rejects.toThrow('socket hang up');
    await expect(
      iam(1).send(new GetRoleCommand({ RoleName: 'a' })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });

    aws.setFaults([
      { service: 'iam', operation: 'CreateRole', error: 'reset', times: 1 },
    ]);
    await iam(3).send(
      new CreateRoleCommand({ RoleName: 'a', AssumeRolePolicyDocument: trust }),
    );
    expect(
      aws
        .requestLog()
        .filter(r => r.operation === 'CreateRole')
        .map(r => r.errorCode ?? r.status),
    ).toEqual(['ConnectionReset', 'ConnectionReset', 200]);
  });

  it('phase after: the role is created but the answer is lost, so the retry meets EntityAlreadyExists', async () => {
    aws.setFaults([
      {
        service: 'iam',
        operation: 'CreateRole',
        error: 'internal',
        phase: 'after',
        times: 1,
      },
    ]);
    await expect(
      iam(3).send(
        new CreateRoleCommand({
          RoleName: 'b',
          AssumeRolePolicyDocument: trust,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'EntityAlreadyExistsException',
    });
    const { Roles } = await iam(1).send(new ListRolesCommand({}));
    expect(Roles?.map(r => r.RoleName)).toEqual(['b']);
  });

  it('a stalled call whose client goes away is dropped unperformed', async () => {
    aws.setFaults([
      { service: 'iam', operation: 'CreateRole', latencyMs: 60_000, times: 1 },
    ]);
    const abort = new AbortController();
    const pending = iam(1).send(
      new CreateRoleCommand({ RoleName: 'c', AssumeRolePolicyDocument: trust }),
      { abortSignal: abort.signal },
    );
    // the rule is used up once the call arrived at the stand-in
    while (aws.faults().faults.length > 0)
      await new Promise(r => setTimeout(r, 10));
    abort.abort();
    await expect(pending).rejects.toThrow();
    await new Promise(r => setTimeout(r, 50));
    await expect(
      iam(1).send(new GetRoleCommand({ RoleName: 'c' })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    expect(
      aws.requestLog().find(r => r.operation === 'CreateRole'),
    ).toMatchObject({ status: 0, errorCode: 'ClientClosedRequest' });
  });

  it('POST /_sandbox/faults takes a seed with the rules and GET answers both', async () => {
    const post = await fetch(`${aws.url}/_sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({
        seed: 1234,
        faults: [{ service: 'iam', error: 'reset', probability: 0.3 }],
      }),
    });
    expect(post.status).toBe(200);
    expect(await (await fetch(`${aws.url}/_sandbox/faults`)).json()).toEqual({
      seed: 1234,
      faults: [{ service: 'iam', error: 'reset', probability: 0.3 }],
      faulted: 0,
      matched: 0,
    });
    const bad = await fetch(`${aws.url}/_sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ faults: [{ error: 'reset', probability: 2 }] }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: 'faults[0].probability must be a number from 0 to 1',
    });
  });
});

describe('parseFaultRules', () => {
  it('accepts {faults: [...]} and a bare list', () => {
    expect(parseFaultRules({ faults: [{ error: 'internal' }] })).toEqual([
      { error: 'internal' },
    ]);
    expect(parseFaultRules([{ latencyMs: 5 }])).toEqual([{ latencyMs: 5 }]);
    expect(
      parseFaultRuleSet({
        seed: 42,
        faults: [{ error: 'reset', probability: 0.3, phase: 'after' }],
      }),
    ).toEqual({
      seed: 42,
      faults: [{ error: 'reset', probability: 0.3, phase: 'after' }],
    });
  });

  it.each([
    [{ faults: 'nope' }, 'faults must be an array'],
    [
      [{ error: 'explode' }],
      'faults[0].error must be one of throttle, unavailable, internal, reset',
    ],
    [
      [{ error: 'reset', probability: -0.1 }],
      'faults[0].probability must be a number from 0 to 1',
    ],
    [
      [{ error: 'reset', phase: 'later' }],
      'faults[0].phase must be before or after',
    ],
    [{ seed: 1.5, faults: [] }, 'seed must be an integer from 0 to 4294967295'],
    [
      [{ error: 'throttle', times: -1 }],
      'faults[0].times must be a non-negative integer',
    ],
    [[{ service: 'sqs' }], 'faults[0] needs an error or a latencyMs'],
  ])('rejects %j', (input, message) => {
    expect(() => parseFaultRules(input)).toThrow(message);
  });
});
