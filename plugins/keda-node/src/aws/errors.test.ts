import { describeAwsError } from './errors';

describe('describeAwsError', () => {
  const context = {
    action: 'iam:GetRole',
    resource: 'arn:aws:iam::222222222222:role/keda/r',
    accountId: '222222222222',
  };

  it.each([
    [
      'a reset socket (the SDK names it TimeoutError)',
      Object.assign(new Error('socket hang up'), {
        name: 'TimeoutError',
        code: 'ECONNRESET',
      }),
      'socket hang up',
    ],
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), {
        code: 'ECONNREFUSED',
      }),
      'connect ECONNREFUSED 127.0.0.1:4566',
    ],
    [
      "the SDK's wrapper of an error from another realm",
      new Error('AWS SDK error wrapper for TimeoutError: socket hang up'),
      'AWS SDK error wrapper for TimeoutError: socket hang up',
    ],
  ])('%s: transient, the step is to be run again', (_what, error, detail) => {
    const described = describeAwsError(error, context);
    expect(described.name).toBe('ServiceUnavailableError');
    expect(described.message).toBe(
      `AWS could not be reached for iam:GetRole on arn:aws:iam::222222222222:role/keda/r in account 222222222222: the connection failed (${detail}) after the SDK's retries; run the step again later`,
    );
  });

  it('keeps throttling, and other errors with their code', () => {
    expect(
      describeAwsError(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }),
        context,
      ).message,
    ).toMatch(
      /^AWS kept failing iam:GetRole .* with Throttling after the SDK's retries; run the step again later/,
    );
    const other = describeAwsError(
      Object.assign(new Error('bad'), { name: 'MalformedPolicyDocument' }),
      context,
    );
    expect(other.name).toBe('MalformedPolicyDocument');
    expect(other.message).toContain('failed: MalformedPolicyDocument: bad');
  });
});
