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
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  type Role,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { plan, policyJson, ROLE_TAG_KEYS } from '@internal/plugin-keda-common';
import { deleteManagedRole, reconcileRole } from './roleReconcile';
import {
  desiredScalerRole,
  describeChainFailure,
  PROVENANCE_TAG_KEYS,
  verifyScalerChain,
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

const articlePlan = plan({
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
});

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
      arn: 'arn:aws:iam::222222222222:role/keda/keda-sqs-prod-eu-shop-orders-worker',
      roleId: 'AROAEXAMPLESCALER',
      created: true,
      adopted: false,
      changes: ['create-role', 'put-role-policy:keda-read-queue-depth'],
    });
    expect(iamMock.commandCalls(CreateRoleCommand)[0].args[0].input).toEqual({
      RoleName: 'keda-sqs-prod-eu-shop-orders-worker',
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
        RoleName: 'keda-sqs-prod-eu-shop-orders-worker',
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
      /AWS kept failing iam:PutRolePolicy on arn:aws:iam::222222222222:role\/keda\/keda-sqs-prod-eu-shop-orders-worker .*Throttling after the SDK's retries/,
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
      /^AWS denied iam:CreateRole on arn:aws:iam::222222222222:role\/keda\/keda-sqs-prod-eu-shop-orders-worker in account 222222222222 to arn:aws:sts::222222222222:assumed-role\/backstage\/portal: an organisation service control policy \(SCP\) denies it/,
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
        /^create-role:keda-sqs-prod-eu-shop-orders-worker:[0-9a-f]{8}$/,
      ),
      expect.stringMatching(
        /^put-role-policy:keda-sqs-prod-eu-shop-orders-worker:keda-read-queue-depth:[0-9a-f]{8}$/,
      ),
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
    iamMock
      .on(ListAttachedRolePoliciesCommand)
      .resolves({
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

describe('verifyScalerChain', () => {
  const iamMock = mockClient(IAMClient);
  const iam = new IAMClient({ region: 'us-east-1' });
  beforeEach(() => iamMock.reset());

  it('asks the simulator for the queue read, the denied consumer actions and the operator assume', async () => {
    iamMock
      .on(SimulatePrincipalPolicyCommand, { PolicySourceArn: desired.arn })
      .resolves({
        EvaluationResults: [
          { EvalActionName: 'sqs:GetQueueAttributes', EvalDecision: 'allowed' },
          {
            EvalActionName: 'sqs:ReceiveMessage',
            EvalDecision: 'implicitDeny',
          },
          { EvalActionName: 'sqs:DeleteMessage', EvalDecision: 'implicitDeny' },
        ],
      })
      .on(SimulatePrincipalPolicyCommand, {
        PolicySourceArn: articlePlan.operatorRole.arn,
      })
      .resolves({
        EvaluationResults: [
          { EvalActionName: 'sts:AssumeRole', EvalDecision: 'implicitDeny' },
        ],
      });

    const result = await verifyScalerChain({
      queueAccountIam: iam,
      clusterAccountIam: iam,
      plan: articlePlan,
    });

    expect(
      iamMock.commandCalls(SimulatePrincipalPolicyCommand)[0].args[0].input,
    ).toEqual({
      PolicySourceArn: desired.arn,
      ActionNames: [
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
      ],
      ResourceArns: ['arn:aws:sqs:eu-west-1:222222222222:orders'],
    });
    // the operator's assume is simulated with the scaler trust and the ExternalId
    expect(
      iamMock.commandCalls(SimulatePrincipalPolicyCommand)[1].args[0].input,
    ).toEqual({
      PolicySourceArn: 'arn:aws:iam::111111111111:role/keda-operator',
      ActionNames: ['sts:AssumeRole'],
      ResourceArns: [desired.arn],
      ResourcePolicy: policyJson(articlePlan.scalerRole.trustPolicy),
      ResourceOwner: 'arn:aws:iam::222222222222:root',
      ContextEntries: [
        {
          ContextKeyName: 'sts:ExternalId',
          ContextKeyValues: ['5d41402abc4b2a76b9719d911017c592'],
          ContextKeyType: 'string',
        },
      ],
    });
    expect(result.ok).toBe(false);
    expect(describeChainFailure(result)).toBe(
      'arn:aws:iam::111111111111:role/keda-operator is not allowed sts:AssumeRole on arn:aws:iam::222222222222:role/keda/keda-sqs-prod-eu-shop-orders-worker (simulator: implicitDeny); run the keda-cluster-onboarding template so the operator role may assume roles under keda.roles.path',
    );
  });

  it('reports the operator check as skipped without cluster account credentials', async () => {
    iamMock.on(SimulatePrincipalPolicyCommand).resolves({
      EvaluationResults: [
        { EvalActionName: 'sqs:GetQueueAttributes', EvalDecision: 'allowed' },
        { EvalActionName: 'sqs:ReceiveMessage', EvalDecision: 'implicitDeny' },
        { EvalActionName: 'sqs:DeleteMessage', EvalDecision: 'explicitDeny' },
      ],
    });
    const result = await verifyScalerChain({
      queueAccountIam: iam,
      plan: articlePlan,
    });
    expect(result.ok).toBe(true);
    expect(result.skipped).toEqual([
      'operator role arn:aws:iam::111111111111:role/keda-operator may sts:AssumeRole (no credentials for account 111111111111)',
    ]);
  });
});
