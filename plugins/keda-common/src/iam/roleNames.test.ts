import { stableHash } from '../names';
import {
  assertExternalId,
  defaultOperatorRoleName,
  assertIamPath,
  assertIamRoleName,
  generateExternalId,
  IAM_ROLE_NAME_MAX,
  iamRoleArn,
  oidcProviderArn,
  scalerRoleName,
} from './roleNames';

const IAM_NAME = /^[\w+=,.@-]{1,64}$/;

const HASHED = /^keda-sqs-[a-z0-9+=,.@_-]+-[0-9a-f]{8}$/;

describe('scalerRoleName', () => {
  const base = {
    namePrefix: 'keda-sqs-',
    cluster: 'prod-eu',
    namespace: 'shop',
    workloadKind: 'Deployment',
    workloadName: 'orders-worker',
  };

  it('is <prefix><cluster>-<namespace>-<workload>-<hash of cluster/namespace/kind/name>', () => {
    expect(scalerRoleName(base)).toBe(
      `keda-sqs-prod-eu-shop-orders-worker-${stableHash(
        'prod-eu/shop/Deployment/orders-worker',
      )}`,
    );
    expect(scalerRoleName(base)).toMatch(HASHED);
    expect(
      scalerRoleName({
        ...base,
        cluster: 'demo-eks',
        namespace: 'orders',
      }),
    ).toMatch(/^keda-sqs-demo-eks-orders-orders-worker-[0-9a-f]{8}$/);
  });

  it('is deterministic', () => {
    expect(scalerRoleName({ ...base })).toBe(scalerRoleName(base));
  });

  it('keeps prod-eu/team-a/worker and prod-eu/team/a-worker apart (the old names collided)', () => {
    const a = scalerRoleName({
      ...base,
      namespace: 'team-a',
      workloadName: 'worker',
    });
    const b = scalerRoleName({
      ...base,
      namespace: 'team',
      workloadName: 'a-worker',
    });
    // same readable part, different identity
    expect(a.slice(0, -9)).toBe(b.slice(0, -9));
    expect(a.toLowerCase()).not.toBe(b.toLowerCase());
  });

  it('gives a Deployment and a StatefulSet of the same name different roles', () => {
    expect(scalerRoleName({ ...base, workloadKind: 'StatefulSet' })).not.toBe(
      scalerRoleName(base),
    );
  });

  it('shortens long names to 64 characters, keeping the prefix whole', () => {
    const input = {
      ...base,
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
    // a prefix ending in "-" is never trimmed: the operator may assume <prefix>*
    const tight = scalerRoleName({
      ...input,
      namePrefix: `${'p'.repeat(52)}-`,
    });
    expect(tight.startsWith(`${'p'.repeat(52)}-`)).toBe(true);
    expect(tight.length).toBeLessThanOrEqual(IAM_ROLE_NAME_MAX);
  });

  it('keeps two long names that share their first 55 characters apart', () => {
    const long = {
      ...base,
      cluster: 'production-eu-west-1-primary',
      namespace: 'order-fulfilment-platform',
    };
    const a = scalerRoleName({ ...long, workloadName: 'worker-a' });
    const b = scalerRoleName({ ...long, workloadName: 'worker-b' });
    expect(a).not.toBe(b);
    expect(a.slice(0, 55)).toBe(b.slice(0, 55));
  });

  it('replaces characters IAM refuses and hashes so cleaned names cannot collide', () => {
    const a = scalerRoleName({ ...base, workloadName: 'a/b' });
    const b = scalerRoleName({ ...base, workloadName: 'a:b' });
    expect(a).toMatch(IAM_NAME);
    expect(b).toMatch(IAM_NAME);
    expect(a).not.toBe(b);
  });

  it('refuses a prefix that leaves no room for the workload, naming keda.roles.namePrefix', () => {
    expect(() =>
      scalerRoleName({ ...base, namePrefix: 'x'.repeat(55) }),
    ).toThrow(/keda\.roles\.namePrefix/);
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
        workloadKind: next() % 2 ? 'Deployment' : 'StatefulSet',
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
      if (!IAM_NAME.test(name) || !name.startsWith(input.namePrefix)) {
        invalid.push(name);
      }
      const identity = `${input.cluster}/${input.namespace}/${input.workloadKind}/${input.workloadName}`;
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
    const upper = scalerRoleName({
      namePrefix: 'keda-sqs-',
      cluster: 'Prod',
      namespace: 'shop',
      workloadKind: 'Deployment',
      workloadName: 'orders-worker',
    });
    const lower = scalerRoleName({
      namePrefix: 'keda-sqs-',
      cluster: 'prod',
      namespace: 'shop',
      workloadKind: 'Deployment',
      workloadName: 'orders-worker',
    });
    expect(lower).toMatch(/^keda-sqs-prod-shop-orders-worker-[0-9a-f]{8}$/);
    // the readable part is lower-cased for both; the hash tells them apart
    expect(upper.slice(0, -9)).toBe(lower.slice(0, -9));
    expect(upper.toLowerCase()).not.toBe(lower.toLowerCase());
  });
});

describe('defaultOperatorRoleName', () => {
  it('is keda-operator-<cluster name>', () => {
    expect(defaultOperatorRoleName('prod-eu')).toBe('keda-operator-prod-eu');
  });

  it('replaces characters IAM refuses and fits long names into 64 with a hash', () => {
    expect(defaultOperatorRoleName('team a/prod')).toBe(
      'keda-operator-team-a-prod',
    );
    const long = defaultOperatorRoleName('c'.repeat(80));
    expect(long).toMatch(IAM_NAME);
    expect(long).toMatch(/^keda-operator-c+-[0-9a-f]{8}$/);
    expect(defaultOperatorRoleName(`${'c'.repeat(79)}d`)).not.toBe(long);
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
