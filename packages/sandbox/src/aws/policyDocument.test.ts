import {
  mapPrincipals,
  parsePolicyDocument,
  principalValues,
} from './policyDocument';

describe('parsePolicyDocument', () => {
  const trustJson = JSON.stringify({
    Version: '2012-10-17',
    Statement: {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111111111111:role/keda-operator' },
      Action: 'sts:AssumeRole',
    },
  });

  it('normalises a single Statement object to a list', () => {
    expect(parsePolicyDocument(trustJson, 'trust').Statement).toHaveLength(1);
  });

  it.each([
    ['not JSON', '{', 'identity', 'Syntax errors in policy.'],
    [
      'identity policy with a principal',
      trustJson,
      'identity',
      'Policy document should not specify a principal.',
    ],
    [
      'trust policy with a Resource',
      JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 'sts:AssumeRole',
            Resource: '*',
          },
        ],
      }),
      'trust',
      'Has prohibited field Resource',
    ],
    [
      'trust policy without principal',
      JSON.stringify({
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }],
      }),
      'trust',
      'Missing required field Principal',
    ],
    [
      'identity policy without resource',
      JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'sqs:*' }] }),
      'identity',
      'Policy statement must contain resources.',
    ],
    [
      'bad effect',
      JSON.stringify({
        Statement: [{ Effect: 'Maybe', Action: 'sqs:*', Resource: '*' }],
      }),
      'identity',
      'Invalid effect: Maybe',
    ],
    [
      'action without vendor',
      JSON.stringify({
        Statement: [
          { Effect: 'Allow', Action: 'GetQueueAttributes', Resource: '*' },
        ],
      }),
      'identity',
      'Actions/Conditions must be prefaced by a vendor',
    ],
    [
      'bad version',
      JSON.stringify({
        Version: '2020-01-01',
        Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }],
      }),
      'identity',
      'valid version',
    ],
    [
      'unknown principal type',
      JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Principal: { User: 'x' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
      'trust',
      'Invalid principal in policy',
    ],
  ] as const)('rejects %s', (_name, text, kind, message) => {
    expect(() => parsePolicyDocument(text, kind)).toThrow(message);
  });

  it('maps principals of one type and keeps scalars scalar', () => {
    const doc = parsePolicyDocument(trustJson, 'trust');
    const mapped = mapPrincipals(doc, 'AWS', () => 'AROAEXAMPLE');
    expect(mapped.Statement[0].Principal).toEqual({ AWS: 'AROAEXAMPLE' });
    expect(principalValues(doc, 'AWS')).toEqual([
      'arn:aws:iam::111111111111:role/keda-operator',
    ]);
  });
});
