import {
  assertExternalId,
  assertIamPath,
  assertIamRoleName,
  generateExternalId,
  IAM_ROLE_NAME_MAX,
  iamRoleArn,
  oidcProviderArn,
  scalerRoleName,
} from './roleNames';

const IAM_NAME = /^[\w+=,.@-]{1,64}$/;

describe('scalerRoleName', () => {
  it('is <prefix><cluster>-<namespace>-<workload> when that fits', () => {
    expect(
      scalerRoleName({
        namePrefix: 'keda-sqs-',
        cluster: 'prod-eu',
        namespace: 'shop',
        workloadName: 'orders-worker',
      }),
    ).toBe('keda-sqs-prod-eu-shop-orders-worker');
  });

  it('shortens long names to 64 characters with a stable hash suffix', () => {
    const input = {
      namePrefix: 'keda-sqs-',
      cluster: 'production-eu-west-1-primary',
      namespace: 'order-fulfilment-platform',
      workloadName: 'shipment-label-printer-worker',
    };
    const name = scalerRoleName(input);
    expect(name.length).toBeLessThanOrEqual(IAM_ROLE_NAME_MAX);
    expect(name).toMatch(IAM_NAME);
    expect(name).toMatch(
      /^keda-sqs-production-eu-west-1-primary-order-fulfilme.*-[0-9a-f]{8}$/,
    );
    expect(scalerRoleName({ ...input })).toBe(name);
  });

  it('keeps two long names that share their first 55 characters apart', () => {
    const base = {
      namePrefix: 'keda-sqs-',
      cluster: 'production-eu-west-1-primary',
      namespace: 'order-fulfilment-platform',
    };
    const a = scalerRoleName({ ...base, workloadName: 'worker-a' });
    const b = scalerRoleName({ ...base, workloadName: 'worker-b' });
    expect(a).not.toBe(b);
    expect(a.slice(0, 55)).toBe(b.slice(0, 55));
  });

  it('replaces characters IAM refuses and hashes so cleaned names cannot collide', () => {
    const a = scalerRoleName({
      namePrefix: 'keda-sqs-',
      cluster: 'c',
      namespace: 'ns',
      workloadName: 'a/b',
    });
    const b = scalerRoleName({
      namePrefix: 'keda-sqs-',
      cluster: 'c',
      namespace: 'ns',
      workloadName: 'a:b',
    });
    expect(a).toMatch(IAM_NAME);
    expect(b).toMatch(IAM_NAME);
    expect(a).not.toBe(b);
  });
});

describe('scalerRoleName over many identities', () => {
  // A small deterministic generator (no Math.random: reproducible failures).
  function* identities(count: number) {
    // mulberry32: 32-bit integer arithmetic only, so no precision loss.
    let seed = 42;
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (t ^ (t >>> 14)) >>> 0;
    };
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABC0123456789-._/:';
    const word = (max: number) =>
      Array.from(
        { length: 1 + (next() % max) },
        () => alphabet[next() % alphabet.length],
      ).join('');
    for (let i = 0; i < count; i++) {
      yield {
        namePrefix: 'keda-sqs-',
        cluster: word(30),
        namespace: word(63),
        workloadName: word(80),
      };
    }
  }

  it('always yields a valid IAM name, and distinct identities yield distinct names (ignoring case)', () => {
    const seen = new Map<string, string>();
    const invalid: string[] = [];
    const collisions: string[] = [];
    for (const input of identities(2000)) {
      const name = scalerRoleName(input);
      if (!IAM_NAME.test(name)) invalid.push(name);
      const identity = `${input.cluster}/${input.namespace}/${input.workloadName}`;
      const previous = seen.get(name.toLowerCase());
      if (previous !== undefined && previous !== identity) {
        collisions.push(`${previous} and ${identity} → ${name}`);
      }
      seen.set(name.toLowerCase(), identity);
    }
    expect(seen.size).toBeGreaterThan(1900);
    expect(invalid).toEqual([]);
    expect(collisions).toEqual([]);
  });

  it('gives clusters differing only in case different roles', () => {
    const base = {
      namePrefix: 'keda-sqs-',
      namespace: 'shop',
      workloadName: 'orders-worker',
    };
    const upper = scalerRoleName({ ...base, cluster: 'Prod' });
    const lower = scalerRoleName({ ...base, cluster: 'prod' });
    expect(lower).toBe('keda-sqs-prod-shop-orders-worker');
    expect(upper.toLowerCase()).not.toBe(lower.toLowerCase());
  });
});

describe('validators', () => {
  it.each(['keda-operator', 'a', 'x'.repeat(64), 'role+=,.@_-'])(
    'accepts role name %s',
    name => {
      expect(() =>
        assertIamRoleName(name, 'keda.clusters[a].operator.roleName'),
      ).not.toThrow();
    },
  );
  it.each(['', 'x'.repeat(65), 'has space', 'slash/name'])(
    'rejects role name "%s" naming the field',
    name => {
      expect(() =>
        assertIamRoleName(name, 'keda.clusters[a].operator.roleName'),
      ).toThrow(
        /keda\.clusters\[a\]\.operator\.roleName .* is not a valid IAM role name/,
      );
    },
  );
  it.each(['/', '/keda/', '/platform/keda/'])('accepts path %s', path => {
    expect(() => assertIamPath(path, 'keda.roles.path')).not.toThrow();
  });
  it.each(['keda', '/keda', 'keda/', `/${'p'.repeat(511)}/`, '/a b/'])(
    'rejects path %s',
    path => {
      expect(() => assertIamPath(path, 'keda.roles.path')).toThrow(
        /keda\.roles\.path .* must start and end with "\/"/,
      );
    },
  );
  it('accepts generated ExternalIds and rejects short or odd ones', () => {
    expect(() => assertExternalId(generateExternalId())).not.toThrow();
    expect(() => assertExternalId('x')).toThrow(/2–1224/);
    expect(() => assertExternalId('has space')).toThrow(/externalId/);
  });
});

describe('generateExternalId', () => {
  it('returns 32 hex characters, different each time', () => {
    const ids = new Set(Array.from({ length: 50 }, generateExternalId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('ARNs', () => {
  it('builds role and OIDC provider ARNs per partition', () => {
    expect(iamRoleArn('aws-cn', '333333333333', '/keda/', 'r')).toBe(
      'arn:aws-cn:iam::333333333333:role/keda/r',
    );
    expect(
      oidcProviderArn(
        'aws',
        '111111111111',
        'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC/',
      ),
    ).toBe(
      'arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC',
    );
  });
});
