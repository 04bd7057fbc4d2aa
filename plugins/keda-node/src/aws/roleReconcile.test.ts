import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  type Role,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import {
  plan,
  policyJson,
  ROLE_TAG_KEYS,
  type KedaPlanInput,
  type KedaRequestInput,
} from '@keda-self-service/plugin-keda-common';
import { deleteManagedRole, reconcileRole } from './roleReconcile';
import {
  desiredOperatorRole,
  desiredScalerRole,
  PROVENANCE_TAG_KEYS,
} from './scalerRole';

const MUTATING = [
  CreateRoleCommand,
  UpdateAssumeRolePolicyCommand,
  PutRolePolicyCommand,
  PutRolePermissionsBoundaryCommand,
  UpdateRoleCommand,
  TagRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
] as const;

const articleInput: KedaPlanInput = {
  request: {
    entityRef: 'component:default/orders-worker',
    cluster: 'prod-eu',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'orders-worker' },
    kubernetesId: 'orders-worker',
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
    maxReplicas: 20,
    requestId: 'req-0001',
  },
  cluster: {
    name: 'prod-eu',
    accountId: '111111111111',
    region: 'eu-west-1',
    oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE',
    kedaVersion: '2.20.2',
    identity: 'irsa',
    operator: {
      namespace: 'keda',
      serviceAccount: 'keda-operator',
      roleName: 'keda-operator',
    },
  },
  roles: {
    path: '/keda/',
    namePrefix: 'keda-sqs-',
    permissionsBoundaryArn: 'arn:aws:iam::222222222222:policy/keda-boundary',
    tags: { 'cost-center': 'platform' },
  },
  guardrails: { allowedQueueAccounts: ['222222222222'], maxReplicas: 50 },
  externalId: '5d41402abc4b2a76b9719d911017c592',
  requester: 'user:default/jane.doe',
};
const articlePlan = plan(articleInput);

/** The plan of another workload on the same cluster and queue. */
function planFor(
  namespace: string,
  kind: 'Deployment' | 'StatefulSet',
  name: string,
) {
  return plan({
    ...articleInput,
    request: {
      ...(articleInput.request as KedaRequestInput),
      namespace,
      workload: { kind, name },
    },
  });
}

const desired = desiredScalerRole(articlePlan, {
  requester: 'user:default/jane.doe',
  taskId: 'task-1',
});

/** The role as IAM stores it after CreateRole with `desired`. */
function storedRole(overrides: Partial<Role> = {}): Role {
  return {
    RoleName: desired.name,
    RoleId: 'AROAEXAMPLESCALER',
    Path: desired.path,
    Arn: desired.arn,
    CreateDate: new Date(0),
    AssumeRolePolicyDocument: encodeURIComponent(
      policyJson(desired.trustPolicy),
    ),
    Description: desired.description,
    MaxSessionDuration: 3600,
    PermissionsBoundary: {
      PermissionsBoundaryType: 'PermissionsBoundaryPolicy',
      PermissionsBoundaryArn: desired.permissionsBoundaryArn,
    },
    Tags: Object.entries({ ...desired.tags, ...desired.provenanceTags }).map(
      ([Key, Value]) => ({ Key, Value }),
    ),
    ...overrides,
  };
}

const noSuchEntity = () =>
  Object.assign(new Error('The role cannot be found.'), {
    name: 'NoSuchEntity',
  });

function mutatingCalls(iamMock: ReturnType<typeof mockClient>) {
  return MUTATING.flatMap(command => iamMock.commandCalls(command as any));
}

describe('reconcileRole', () => {
  const iamMock = mockClient(IAMClient);
  const iam = new IAMClient({ region: 'us-east-1' });

  beforeEach(() => iamMock.reset());

  it('creates a missing scaler role with exactly the planned trust, path, boundary, tags and inline policy', async () => {
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(noSuchEntity())
      .resolves({ Role: storedRole() });
    iamMock.on(CreateRoleCommand).resolves({});
    iamMock.on(PutRolePolicyCommand).resolves({});

    const result = await reconcileRole({ iam, role: desired });

    expect(result).toEqual({
      arn: 'arn:aws:iam::222222222222:role/keda/keda-sqs-prod-eu-shop-orders-worker-057d7a5a',
      roleId: 'AROAEXAMPLESCALER',
      created: true,
      adopted: false,
      changes: ['create-role', 'put-role-policy:keda-read-queue-depth'],
    });
    expect(iamMock.commandCalls(CreateRoleCommand)[0].args[0].input).toEqual({
      RoleName: 'keda-sqs-prod-eu-shop-orders-worker-057d7a5a',
      Path: '/keda/',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'KedaOperatorAssumesScalerRole',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111111111111:role/keda-operator' },
            Action: 'sts:AssumeRole',
            Condition: {
              StringEquals: {
                'sts:ExternalId': '5d41402abc4b2a76b9719d911017c592',
              },
            },
          },
        ],
      }),
      Description:
        'KEDA reads the depth of SQS queue orders for shop/orders-worker on cluster prod-eu',
      MaxSessionDuration: 3600,
      PermissionsBoundary: 'arn:aws:iam::222222222222:policy/keda-boundary',
      Tags: expect.arrayContaining([
        { Key: 'backstage.io/managed-by', Value: 'backstage-keda' },
        {
          Key: 'keda.backstage.io/entity-ref',
          Value: 'component:default/orders-worker',
        },
        { Key: 'keda.backstage.io/request-id', Value: 'req-0001' },
        { Key: PROVENANCE_TAG_KEYS.requester, Value: 'user:default/jane.doe' },
        { Key: PROVENANCE_TAG_KEYS.taskId, Value: 'task-1' },
        { Key: 'cost-center', Value: 'platform' },
      ]),
    });
    expect(iamMock.commandCalls(PutRolePolicyCommand)[0].args[0].input).toEqual(
      {
        RoleName: 'keda-sqs-prod-eu-shop-orders-worker-057d7a5a',
        PolicyName: 'keda-read-queue-depth',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'ReadQueueDepth',
              Effect: 'Allow',
              Action: 'sqs:GetQueueAttributes',
              Resource: 'arn:aws:sqs:eu-west-1:222222222222:orders',
            },
          ],
        }),
      },
    );
  });

  it('makes no mutating call on a second run against a converged role, even from another task', async () => {
    iamMock.on(GetRoleCommand).resolves({
      Role: storedRole({
        // IAM may hand documents back with formatting and array forms of its own
        AssumeRolePolicyDocument: encodeURIComponent(
          JSON.stringify(desired.trustPolicy, null, 2),
        ),
      }),
    });
    iamMock.on(GetRolePolicyCommand).resolves({
      RoleName: desired.name,
      PolicyName: 'keda-read-queue-depth',
      PolicyDocument: encodeURIComponent(
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Resource: ['arn:aws:sqs:eu-west-1:222222222222:orders'],
              Action: ['sqs:GetQueueAttributes'],
              Effect: 'Allow',
              Sid: 'ReadQueueDepth',
            },
          ],
        }),
      ),
    });

    const again = desiredScalerRole(articlePlan, {
      requester: 'user:default/priya',
      taskId: 'task-2',
    });
    const result = await reconcileRole({ iam, role: again });

    expect(result.changes).toEqual([]);
    expect(result.created).toBe(false);
    expect(mutatingCalls(iamMock)).toHaveLength(0);
  });

  it('recovers from a partial failure: role created, PutRolePolicy throttled, re-run only puts the policy', async () => {
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(noSuchEntity())
      .resolves({ Role: storedRole() });
    iamMock.on(CreateRoleCommand).resolves({});
    iamMock
      .on(PutRolePolicyCommand)
      .rejectsOnce(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }),
      )
      .resolves({});

    await expect(reconcileRole({ iam, role: desired })).rejects.toThrow(
      /AWS kept failing iam:PutRolePolicy on arn:aws:iam::222222222222:role\/keda\/keda-sqs-prod-eu-shop-orders-worker-057d7a5a .*Throttling after the SDK's retries/,
    );
    expect(iamMock.commandCalls(CreateRoleCommand)).toHaveLength(1);

    iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());
    const rerun = await reconcileRole({ iam, role: desired });

    expect(rerun.changes).toEqual([
      'put-role-policy:keda-read-queue-depth',
      'tag-role',
    ]);
    expect(iamMock.commandCalls(CreateRoleCommand)).toHaveLength(1);
    expect(iamMock.commandCalls(PutRolePolicyCommand)).toHaveLength(2);
  });

  it('re-saves a trust policy whose principal IAM replaced by a unique id (operator role recreated)', async () => {
    const broken = JSON.parse(policyJson(desired.trustPolicy));
    broken.Statement[0].Principal.AWS = 'AROAOLDOPERATORID';
    iamMock.on(GetRoleCommand).resolves({
      Role: storedRole({
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(broken)),
      }),
    });
    iamMock.on(GetRolePolicyCommand).resolves({
      RoleName: desired.name,
      PolicyName: 'keda-read-queue-depth',
      PolicyDocument: encodeURIComponent(
        policyJson(articlePlan.scalerRole.permissionPolicy),
      ),
    });

    const result = await reconcileRole({ iam, role: desired });

    expect(result.changes).toEqual(['update-trust-policy', 'tag-role']);
    expect(
      iamMock.commandCalls(UpdateAssumeRolePolicyCommand)[0].args[0].input,
    ).toEqual({
      RoleName: desired.name,
      PolicyDocument: policyJson(desired.trustPolicy),
    });
    // the change is stamped with who made it
    expect(iamMock.commandCalls(TagRoleCommand)[0].args[0].input.Tags).toEqual([
      { Key: PROVENANCE_TAG_KEYS.requester, Value: 'user:default/jane.doe' },
      { Key: PROVENANCE_TAG_KEYS.taskId, Value: 'task-1' },
    ]);
  });

  it('refuses to take over an existing role without the managed-by tag, unless adopting is configured', async () => {
    iamMock.on(GetRoleCommand).resolves({
      Role: storedRole({ Tags: [{ Key: 'owner', Value: 'someone-else' }] }),
    });
    iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());

    await expect(reconcileRole({ iam, role: desired })).rejects.toThrow(
      /already exists and was not created by Backstage KEDA \(no backstage.io\/managed-by=backstage-keda tag\).*keda.roles.adoptExistingRoles/,
    );
    expect(mutatingCalls(iamMock)).toHaveLength(0);

    const adopted = await reconcileRole({
      iam,
      role: desired,
      adoptUnmanaged: true,
    });
    expect(adopted.adopted).toBe(true);
    expect(adopted.changes).toEqual([
      'put-role-policy:keda-read-queue-depth',
      'tag-role',
    ]);
    expect(
      iamMock.commandCalls(TagRoleCommand)[0].args[0].input.Tags,
    ).toContainEqual({
      Key: ROLE_TAG_KEYS.managedBy,
      Value: 'backstage-keda',
    });
  });

  it('fails on a role of the same name under another path instead of silently using it', async () => {
    iamMock
      .on(GetRoleCommand)
      .resolves({ Role: storedRole({ Path: '/legacy/' }) });
    await expect(reconcileRole({ iam, role: desired })).rejects.toThrow(
      'exists with path /legacy/, but keda.roles.path is /keda/',
    );
  });

  it('reports an SCP denial with the denied action and the principal', async () => {
    iamMock.on(GetRoleCommand).rejects(noSuchEntity());
    iamMock
      .on(CreateRoleCommand)
      .rejects(
        Object.assign(
          new Error(
            'User: arn:aws:sts::222222222222:assumed-role/backstage/portal is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::222222222222:role/keda/x with an explicit deny in a service control policy',
          ),
          { name: 'AccessDenied' },
        ),
      );
    const error = await reconcileRole({ iam, role: desired }).catch(e => e);
    expect(error.name).toBe('NotAllowedError');
    expect(error.message).toMatch(
      /^AWS denied iam:CreateRole on arn:aws:iam::222222222222:role\/keda\/keda-sqs-prod-eu-shop-orders-worker-057d7a5a in account 222222222222 to arn:aws:sts::222222222222:assumed-role\/backstage\/portal: an organisation service control policy \(SCP\) denies it/,
    );
  });

  it('runs every mutating call through the effect runner with a stable key', async () => {
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(noSuchEntity())
      .resolves({ Role: storedRole() });
    iamMock.on(CreateRoleCommand).resolves({});
    iamMock.on(PutRolePolicyCommand).resolves({});
    const keys: string[] = [];
    await reconcileRole({
      iam,
      role: desired,
      runEffect: async (key, effect) => {
        keys.push(key);
        await effect();
      },
    });
    expect(keys).toEqual([
      expect.stringMatching(
        /^create-role:keda-sqs-prod-eu-shop-orders-worker-057d7a5a:[0-9a-f]{8}$/,
      ),
      expect.stringMatching(
        /^put-role-policy:keda-sqs-prod-eu-shop-orders-worker-057d7a5a:keda-read-queue-depth:[0-9a-f]{8}$/,
      ),
    ]);
  });
  describe('ownership: identity tags', () => {
    /** `desired`'s stored role, but tagged as another workload's. */
    const otherWorkloadsRole = (extra: Record<string, string> = {}) =>
      storedRole({
        Tags: Object.entries({
          ...desired.tags,
          [ROLE_TAG_KEYS.namespace]: 'payments',
          [ROLE_TAG_KEYS.workloadKind]: 'StatefulSet',
          [ROLE_TAG_KEYS.workload]: 'StatefulSet/ledger',
          ...extra,
        }).map(([Key, Value]) => ({ Key, Value })),
      });

    it('refuses to converge a role whose identity tags name another workload, naming it', async () => {
      iamMock.on(GetRoleCommand).resolves({ Role: otherWorkloadsRole() });
      iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());

      const error = await reconcileRole({ iam, role: desired }).catch(e => e);

      expect(error.name).toBe('ConflictError');
      expect(error.message).toContain(
        `IAM role ${desired.arn} belongs to another workload (cluster prod-eu, namespace payments, workload kind StatefulSet, workload StatefulSet/ledger), not to cluster prod-eu, namespace shop, workload kind Deployment, workload Deployment/orders-worker`,
      );
      expect(mutatingCalls(iamMock)).toHaveLength(0);
    });

    it('refuses it with adoptUnmanaged too: adoption is for roles without our managed-by tag only', async () => {
      iamMock.on(GetRoleCommand).resolves({ Role: otherWorkloadsRole() });
      iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());

      await expect(
        reconcileRole({ iam, role: desired, adoptUnmanaged: true }),
      ).rejects.toThrow(
        /belongs to another workload .*not even with keda\.roles\.adoptExistingRoles/,
      );

      // an unmanaged role carrying another workload's identity is not adopted either
      iamMock.on(GetRoleCommand).resolves({
        Role: otherWorkloadsRole({ [ROLE_TAG_KEYS.managedBy]: 'terraform' }),
      });
      await expect(
        reconcileRole({ iam, role: desired, adoptUnmanaged: true }),
      ).rejects.toThrow(/belongs to another workload/);
      expect(mutatingCalls(iamMock)).toHaveLength(0);
    });

    it("refuses another cluster's role of the same name", async () => {
      iamMock.on(GetRoleCommand).resolves({
        Role: otherWorkloadsRole({
          [ROLE_TAG_KEYS.cluster]: 'prod-us',
          [ROLE_TAG_KEYS.namespace]: 'shop',
          [ROLE_TAG_KEYS.workloadKind]: 'Deployment',
          [ROLE_TAG_KEYS.workload]: 'Deployment/orders-worker',
        }),
      });
      await expect(
        reconcileRole({ iam, role: desired, adoptUnmanaged: true }),
      ).rejects.toThrow(
        /belongs to another workload \(cluster prod-us, .*keda\.backstage\.io\/cluster is "prod-us"/,
      );
      expect(mutatingCalls(iamMock)).toHaveLength(0);
    });

    it('refuses a managed role without identity tags (older versions) unless adopting, then writes them', async () => {
      const legacyTags = Object.entries(desired.tags)
        .filter(
          ([key]) =>
            key !== ROLE_TAG_KEYS.workloadKind &&
            key !== ROLE_TAG_KEYS.namespace,
        )
        .map(([Key, Value]) => ({ Key, Value }));
      iamMock
        .on(GetRoleCommand)
        .resolves({ Role: storedRole({ Tags: legacyTags }) });
      iamMock.on(GetRolePolicyCommand).resolves({
        RoleName: desired.name,
        PolicyName: 'keda-read-queue-depth',
        PolicyDocument: encodeURIComponent(
          policyJson(articlePlan.scalerRole.permissionPolicy),
        ),
      });

      await expect(reconcileRole({ iam, role: desired })).rejects.toThrow(
        /carries the backstage\.io\/managed-by=backstage-keda tag but not the identity tags keda\.backstage\.io\/namespace, keda\.backstage\.io\/workload-kind .*keda\.roles\.adoptExistingRoles: true/,
      );
      expect(mutatingCalls(iamMock)).toHaveLength(0);

      const adopted = await reconcileRole({
        iam,
        role: desired,
        adoptUnmanaged: true,
      });
      expect(adopted).toMatchObject({
        adopted: true,
        created: false,
        changes: ['tag-role'],
      });
      expect(
        iamMock.commandCalls(TagRoleCommand)[0].args[0].input.Tags,
      ).toEqual(
        expect.arrayContaining([
          { Key: ROLE_TAG_KEYS.namespace, Value: 'shop' },
          { Key: ROLE_TAG_KEYS.workloadKind, Value: 'Deployment' },
        ]),
      );
    });

    it('gives the formerly colliding prod-eu/team-a/worker and prod-eu/team/a-worker different roles', async () => {
      const a = desiredScalerRole(planFor('team-a', 'Deployment', 'worker'));
      const b = desiredScalerRole(planFor('team', 'Deployment', 'a-worker'));
      expect(a.name).toMatch(/^keda-sqs-prod-eu-team-a-worker-[0-9a-f]{8}$/);
      expect(b.name).toMatch(/^keda-sqs-prod-eu-team-a-worker-[0-9a-f]{8}$/);
      expect(a.name).not.toBe(b.name);
      expect(a.arn).not.toBe(b.arn);

      // Were b to meet a's role under its name, the identity tags stop it.
      iamMock.on(GetRoleCommand).resolves({
        Role: storedRole({
          RoleName: b.name,
          Arn: b.arn,
          Tags: Object.entries(a.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      });
      await expect(
        reconcileRole({ iam, role: b, adoptUnmanaged: true }),
      ).rejects.toThrow(
        /belongs to another workload \(cluster prod-eu, namespace team-a, workload kind Deployment, workload Deployment\/worker\)/,
      );
      expect(mutatingCalls(iamMock)).toHaveLength(0);
    });
  });

  describe('a lost CreateRole race (EntityAlreadyExists)', () => {
    const alreadyExists = () =>
      Object.assign(new Error('Role with name x already exists.'), {
        name: 'EntityAlreadyExistsException',
      });

    it('is not "created": the role is read again and fully converged (trust, policy, tags)', async () => {
      // The winner of the race is a run of ours with an older plan: another
      // ExternalId in the trust, no inline policy yet, an older request id.
      const stale = JSON.parse(policyJson(desired.trustPolicy));
      stale.Statement[0].Condition.StringEquals['sts:ExternalId'] =
        'an-older-external-id';
      iamMock
        .on(GetRoleCommand)
        .rejectsOnce(noSuchEntity())
        .resolves({
          Role: storedRole({
            AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(stale)),
            Tags: Object.entries({
              ...desired.tags,
              [ROLE_TAG_KEYS.requestId]: 'req-0000',
            }).map(([Key, Value]) => ({ Key, Value })),
          }),
        });
      iamMock.on(CreateRoleCommand).rejects(alreadyExists());
      iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());

      const result = await reconcileRole({ iam, role: desired });

      expect(result).toMatchObject({ created: false, adopted: false });
      expect(result.changes).toEqual([
        'update-trust-policy',
        'put-role-policy:keda-read-queue-depth',
        'tag-role',
      ]);
      expect(iamMock.commandCalls(GetRoleCommand)).toHaveLength(2);
      expect(
        iamMock.commandCalls(UpdateAssumeRolePolicyCommand)[0].args[0].input,
      ).toEqual({
        RoleName: desired.name,
        PolicyDocument: policyJson(desired.trustPolicy),
      });
      expect(
        iamMock.commandCalls(TagRoleCommand)[0].args[0].input.Tags,
      ).toEqual(
        expect.arrayContaining([
          { Key: ROLE_TAG_KEYS.requestId, Value: 'req-0001' },
          { Key: PROVENANCE_TAG_KEYS.taskId, Value: 'task-1' },
        ]),
      );
    });

    it('puts the permissions boundary on a role that won the race without one', async () => {
      iamMock
        .on(GetRoleCommand)
        .rejectsOnce(noSuchEntity())
        .resolves({ Role: storedRole({ PermissionsBoundary: undefined }) });
      iamMock.on(CreateRoleCommand).rejects(alreadyExists());
      iamMock.on(GetRolePolicyCommand).resolves({
        RoleName: desired.name,
        PolicyName: 'keda-read-queue-depth',
        PolicyDocument: encodeURIComponent(
          policyJson(articlePlan.scalerRole.permissionPolicy),
        ),
      });

      const result = await reconcileRole({ iam, role: desired });

      expect(result.changes).toEqual(['put-permissions-boundary', 'tag-role']);
    });

    it('refuses a role that someone else or another workload created meanwhile', async () => {
      iamMock
        .on(GetRoleCommand)
        .rejectsOnce(noSuchEntity())
        .resolves({
          Role: storedRole({ Tags: [{ Key: 'owner', Value: 'someone-else' }] }),
        });
      iamMock.on(CreateRoleCommand).rejects(alreadyExists());
      await expect(reconcileRole({ iam, role: desired })).rejects.toThrow(
        /already exists and was not created by Backstage KEDA/,
      );

      iamMock.reset();
      iamMock
        .on(GetRoleCommand)
        .rejectsOnce(noSuchEntity())
        .resolves({
          Role: storedRole({
            Tags: Object.entries({
              ...desired.tags,
              [ROLE_TAG_KEYS.namespace]: 'payments',
            }).map(([Key, Value]) => ({ Key, Value })),
          }),
        });
      iamMock.on(CreateRoleCommand).rejects(alreadyExists());
      await expect(
        reconcileRole({ iam, role: desired, adoptUnmanaged: true }),
      ).rejects.toThrow(/belongs to another workload/);
      expect(
        MUTATING.filter(c => c !== CreateRoleCommand).flatMap(c =>
          iamMock.commandCalls(c as any),
        ),
      ).toHaveLength(0);
    });
  });
  it('treats a create the effect runner skipped (retried task) as an existing role: compared, not trusted blindly', async () => {
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(noSuchEntity())
      .resolves({ Role: storedRole() });
    iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());

    const result = await reconcileRole({
      iam,
      role: desired,
      // the checkpoint of an earlier attempt says CreateRole already ran
      runEffect: async (key, effect) => {
        if (!key.startsWith('create-role:')) await effect();
      },
    });

    expect(result.created).toBe(false);
    expect(result.changes).toEqual([
      'put-role-policy:keda-read-queue-depth',
      'tag-role',
    ]);
  });
});

describe('deleteManagedRole', () => {
  const iamMock = mockClient(IAMClient);
  const iam = new IAMClient({ region: 'us-east-1' });
  const target = {
    iam,
    accountId: '222222222222',
    roleName: desired.name,
    roleArn: desired.arn,
    expectedTags: { [ROLE_TAG_KEYS.cluster]: 'prod-eu' },
  };

  beforeEach(() => iamMock.reset());

  it('removes inline and attached policies, then the role', async () => {
    iamMock.on(GetRoleCommand).resolves({ Role: storedRole() });
    iamMock
      .on(ListRolePoliciesCommand)
      .resolves({ PolicyNames: ['keda-read-queue-depth'] });
    iamMock.on(ListAttachedRolePoliciesCommand).resolves({
      AttachedPolicies: [
        { PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
      ],
    });

    const result = await deleteManagedRole(target);

    expect(result).toEqual({
      deleted: true,
      alreadyAbsent: false,
      removedInlinePolicies: ['keda-read-queue-depth'],
      detachedPolicies: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    });
    expect(
      iamMock.commandCalls(DeleteRolePolicyCommand)[0].args[0].input,
    ).toEqual({
      RoleName: desired.name,
      PolicyName: 'keda-read-queue-depth',
    });
    expect(iamMock.commandCalls(DeleteRoleCommand)[0].args[0].input).toEqual({
      RoleName: desired.name,
    });
  });

  it('is idempotent: an absent role is success with no mutating call', async () => {
    iamMock.on(GetRoleCommand).rejects(noSuchEntity());
    await expect(deleteManagedRole(target)).resolves.toMatchObject({
      deleted: false,
      alreadyAbsent: true,
    });
    expect(mutatingCalls(iamMock)).toHaveLength(0);
  });

  it('refuses roles we do not manage and roles of another workload', async () => {
    iamMock.on(GetRoleCommand).resolves({ Role: storedRole({ Tags: [] }) });
    await expect(deleteManagedRole(target)).rejects.toThrow(
      'was not created by Backstage KEDA',
    );

    iamMock.on(GetRoleCommand).resolves({ Role: storedRole() });
    await expect(
      deleteManagedRole({
        ...target,
        expectedTags: { [ROLE_TAG_KEYS.cluster]: 'other' },
      }),
    ).rejects.toThrow(
      'belongs to another workload (keda.backstage.io/cluster is "prod-eu", expected "other")',
    );
    expect(mutatingCalls(iamMock)).toHaveLength(0);
  });
});

// verifyScalerChain: verification.test.ts (against the AWS stand-in)

describe('desiredOperatorRole', () => {
  const cluster = articlePlan.cluster;

  it("tags a cluster's own operator role with its cluster (its identity)", () => {
    const role = desiredOperatorRole(cluster, articlePlan.operatorRole);
    expect(role.tags[ROLE_TAG_KEYS.cluster]).toBe('prod-eu');
    expect(role.description).toContain('prod-eu');
  });

  it('gives a shared operator role the same tags and description from every sharing cluster', () => {
    const shared = (name: string, sharedIssuers: string[]) =>
      desiredOperatorRole(
        { ...cluster, name, operator: { ...cluster.operator, sharedIssuers } },
        articlePlan.operatorRole,
      );
    const a = shared('prod-eu', [
      'https://oidc.eks.us-east-1.amazonaws.com/id/B',
    ]);
    const b = shared('prod-us', [cluster.oidcIssuer!]);
    expect(a.tags[ROLE_TAG_KEYS.cluster]).toBeUndefined();
    expect(a.tags).toEqual(b.tags);
    expect(a.description).toBe(b.description);
  });
});
