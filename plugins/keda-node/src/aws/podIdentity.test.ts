import {
  CreatePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import {
  checkPodIdentityAgentAddon,
  ensurePodIdentityAssociation,
} from './podIdentity';

const ROLE = 'arn:aws:iam::111111111111:role/keda-operator-demo';
const OTHER_ROLE = 'arn:aws:iam::111111111111:role/someone-elses';
const OURS = {
  'backstage.io/managed-by': 'backstage-keda',
  'keda.backstage.io/cluster': 'demo',
};
const ASSOCIATION = {
  clusterName: 'demo',
  namespace: 'keda',
  serviceAccount: 'keda-operator',
  associationId: 'a-0123456789abcdefg',
  associationArn:
    'arn:aws:eks:eu-west-1:111111111111:podidentityassociation/demo/a-0123456789abcdefg',
};

function error(name: string, message = name) {
  return Object.assign(new Error(message), { name });
}

describe('ensurePodIdentityAssociation', () => {
  const eksMock = mockClient(EKSClient);
  const eks = new EKSClient({ region: 'eu-west-1' });
  const ensure = (over: { tags?: Record<string, string> } = {}) =>
    ensurePodIdentityAssociation({
      eks,
      accountId: '111111111111',
      clusterName: 'demo',
      namespace: 'keda',
      serviceAccount: 'keda-operator',
      roleArn: ROLE,
      tags: over.tags ?? OURS,
    });
  const mutations = () => [
    ...eksMock.commandCalls(CreatePodIdentityAssociationCommand),
    ...eksMock.commandCalls(UpdatePodIdentityAssociationCommand),
  ];

  beforeEach(() => eksMock.reset());

  it('creates a tagged association with an idempotency token when there is none', async () => {
    eksMock
      .on(ListPodIdentityAssociationsCommand)
      .resolves({ associations: [] });
    eksMock
      .on(CreatePodIdentityAssociationCommand)
      .resolves({ association: { ...ASSOCIATION, roleArn: ROLE, tags: OURS } });
    await expect(ensure()).resolves.toEqual({
      associationId: ASSOCIATION.associationId,
      associationArn: ASSOCIATION.associationArn,
      outcome: 'created',
      changes: ['eks:CreatePodIdentityAssociation'],
    });
    expect(
      eksMock.commandCalls(ListPodIdentityAssociationsCommand)[0].args[0].input,
    ).toEqual({
      clusterName: 'demo',
      namespace: 'keda',
      serviceAccount: 'keda-operator',
    });
    const create = eksMock.commandCalls(CreatePodIdentityAssociationCommand)[0]
      .args[0].input;
    expect(create).toMatchObject({
      clusterName: 'demo',
      namespace: 'keda',
      serviceAccount: 'keda-operator',
      roleArn: ROLE,
      tags: OURS,
    });
    expect(create.clientRequestToken).toMatch(/^[0-9a-f]{32}$/);
  });

  it('changes nothing when the association already names the role', async () => {
    eksMock
      .on(ListPodIdentityAssociationsCommand)
      .resolves({ associations: [ASSOCIATION] });
    eksMock
      .on(DescribePodIdentityAssociationCommand)
      .resolves({ association: { ...ASSOCIATION, roleArn: ROLE, tags: {} } });
    await expect(ensure()).resolves.toMatchObject({
      outcome: 'unchanged',
      changes: [],
    });
    expect(mutations()).toHaveLength(0);
  });

  it('finds the association on a later page', async () => {
    eksMock
      .on(ListPodIdentityAssociationsCommand)
      .resolvesOnce({ associations: [], nextToken: 'page-2' })
      .resolvesOnce({ associations: [ASSOCIATION] });
    eksMock
      .on(DescribePodIdentityAssociationCommand)
      .resolves({ association: { ...ASSOCIATION, roleArn: ROLE } });
    await expect(ensure()).resolves.toMatchObject({ outcome: 'unchanged' });
    expect(
      eksMock.commandCalls(ListPodIdentityAssociationsCommand)[1].args[0].input
        .nextToken,
    ).toBe('page-2');
  });

  it('points our own association at the role', async () => {
    eksMock
      .on(ListPodIdentityAssociationsCommand)
      .resolves({ associations: [ASSOCIATION] });
    eksMock.on(DescribePodIdentityAssociationCommand).resolves({
      association: { ...ASSOCIATION, roleArn: OTHER_ROLE, tags: OURS },
    });
    eksMock
      .on(UpdatePodIdentityAssociationCommand)
      .resolves({ association: { ...ASSOCIATION, roleArn: ROLE, tags: OURS } });
    await expect(ensure()).resolves.toMatchObject({
      outcome: 'updated',
      changes: ['eks:UpdatePodIdentityAssociation'],
    });
    expect(
      eksMock.commandCalls(UpdatePodIdentityAssociationCommand)[0].args[0]
        .input,
    ).toEqual({
      clusterName: 'demo',
      associationId: ASSOCIATION.associationId,
      roleArn: ROLE,
    });
  });

  it.each([
    [
      'untagged',
      {},
      undefined,
      /not tagged backstage\.io\/managed-by=backstage-keda/,
    ],
    [
      "another cluster's",
      { ...OURS, 'keda.backstage.io/cluster': 'prod' },
      undefined,
      /not tagged/,
    ],
    [
      'add-on owned',
      OURS,
      'arn:aws:eks:eu-west-1:111111111111:addon/demo/some-addon/x',
      /owned by arn:aws:eks:.*addon/,
    ],
  ])(
    'refuses to change an %s association with another role',
    async (_label, tags, ownerArn, reason) => {
      eksMock
        .on(ListPodIdentityAssociationsCommand)
        .resolves({ associations: [ASSOCIATION] });
      eksMock.on(DescribePodIdentityAssociationCommand).resolves({
        association: { ...ASSOCIATION, roleArn: OTHER_ROLE, tags, ownerArn },
      });
      const failure = ensure();
      await expect(failure).rejects.toThrow(
        /EKS cluster demo \(keda\/keda-operator\) already has EKS Pod Identity association a-0123456789abcdefg with role arn:aws:iam::111111111111:role\/someone-elses/,
      );
      await expect(failure).rejects.toThrow(reason);
      await expect(failure).rejects.toThrow(
        /aws eks delete-pod-identity-association --cluster-name demo --association-id a-0123456789abcdefg/,
      );
      expect(mutations()).toHaveLength(0);
    },
  );

  it('converges when another run created the association meanwhile', async () => {
    eksMock
      .on(ListPodIdentityAssociationsCommand)
      .resolvesOnce({ associations: [] })
      .resolves({ associations: [ASSOCIATION] });
    eksMock
      .on(CreatePodIdentityAssociationCommand)
      .rejects(error('ResourceInUseException', 'Association already exists'));
    eksMock
      .on(DescribePodIdentityAssociationCommand)
      .resolves({ association: { ...ASSOCIATION, roleArn: ROLE, tags: OURS } });
    await expect(ensure()).resolves.toMatchObject({ outcome: 'unchanged' });
  });

  it('names the denied IAM action', async () => {
    eksMock
      .on(ListPodIdentityAssociationsCommand)
      .resolves({ associations: [] });
    eksMock
      .on(CreatePodIdentityAssociationCommand)
      .rejects(
        error(
          'AccessDeniedException',
          'User: arn:aws:sts::111111111111:assumed-role/provisioner/x is not authorized to perform: eks:CreatePodIdentityAssociation on resource: arn:aws:eks:eu-west-1:111111111111:cluster/demo',
        ),
      );
    await expect(ensure()).rejects.toThrow(
      /AWS denied eks:CreatePodIdentityAssociation on demo\/keda\/keda-operator in account 111111111111 to arn:aws:sts::111111111111:assumed-role\/provisioner\/x/,
    );
  });

  it('names eks:ListPodIdentityAssociations when the listing is denied', async () => {
    eksMock
      .on(ListPodIdentityAssociationsCommand)
      .rejects(error('AccessDeniedException', 'not authorized to perform'));
    await expect(ensure()).rejects.toThrow(
      /AWS denied eks:ListPodIdentityAssociations/,
    );
  });
});

describe('checkPodIdentityAgentAddon', () => {
  const eksMock = mockClient(EKSClient);
  const eks = new EKSClient({ region: 'eu-west-1' });
  const check = () =>
    checkPodIdentityAgentAddon({
      eks,
      accountId: '111111111111',
      clusterName: 'demo',
    });

  beforeEach(() => eksMock.reset());

  it('passes when the add-on is ACTIVE', async () => {
    eksMock.on(DescribeAddonCommand).resolves({
      addon: {
        addonName: 'eks-pod-identity-agent',
        status: 'ACTIVE',
        addonVersion: 'v1.3.4-eksbuild.1',
      },
    });
    await expect(check()).resolves.toEqual({
      source: 'addon',
      addonVersion: 'v1.3.4-eksbuild.1',
    });
    expect(eksMock.commandCalls(DescribeAddonCommand)[0].args[0].input).toEqual(
      { clusterName: 'demo', addonName: 'eks-pod-identity-agent' },
    );
  });

  it('says how to install a missing add-on', async () => {
    eksMock
      .on(DescribeAddonCommand)
      .rejects(
        error(
          'ResourceNotFoundException',
          'No addon: eks-pod-identity-agent found in cluster: demo',
        ),
      );
    eksMock.on(DescribeClusterCommand).resolves({
      cluster: { name: 'demo', computeConfig: { enabled: false } },
    });
    await expect(check()).rejects.toThrow(
      /EKS cluster demo in account 111111111111 has no eks-pod-identity-agent add-on.*aws eks create-addon --cluster-name demo --addon-name eks-pod-identity-agent/,
    );
  });

  it('accepts an EKS Auto Mode cluster, whose nodes run the agent without the add-on', async () => {
    eksMock
      .on(DescribeAddonCommand)
      .rejects(error('ResourceNotFoundException'));
    eksMock.on(DescribeClusterCommand).resolves({
      cluster: { name: 'demo', computeConfig: { enabled: true } },
    });
    await expect(check()).resolves.toEqual({ source: 'auto-mode' });
  });

  it('refuses an add-on that is not ACTIVE, with its health issues', async () => {
    eksMock.on(DescribeAddonCommand).resolves({
      addon: {
        addonName: 'eks-pod-identity-agent',
        status: 'DEGRADED',
        health: {
          issues: [
            { code: 'InsufficientNumberOfReplicas', message: '0 of 3 ready' },
          ],
        },
      },
    });
    await expect(check()).rejects.toThrow(
      /is DEGRADED, not ACTIVE \(InsufficientNumberOfReplicas: 0 of 3 ready\)/,
    );
  });

  it('names eks:DescribeAddon when it is denied', async () => {
    eksMock
      .on(DescribeAddonCommand)
      .rejects(
        error(
          'AccessDeniedException',
          'User: arn:aws:iam::111111111111:user/x is not authorized to perform: eks:DescribeAddon',
        ),
      );
    await expect(check()).rejects.toThrow(
      /AWS denied eks:DescribeAddon on demo\/eks-pod-identity-agent/,
    );
  });
});
