import { ConfigReader } from '@backstage/config';
import {
  AuthorizeResult,
  createPermission,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { actionExecutePermission } from '@backstage/plugin-scaffolder-common/alpha';
import {
  kedaIamProvisionPermission,
  kedaRequestApprovePermission,
  kedaRequestCreatePermission,
  kedaStatusReadPermission,
} from '@keda-self-service/plugin-keda-common';
import { readKedaApprovals } from '@keda-self-service/plugin-keda-node';
import { DEFAULT_APPROVER_GROUPS, KedaPortalPermissionPolicy } from './policy';
import { allowsStep, user } from './__testUtils__/decisions';

const priya = user('user:default/priya', ['group:default/platform-team']);
const dana = user('user:default/dana', ['group:default/orders-team']);

describe('KedaPortalPermissionPolicy', () => {
  const policy = KedaPortalPermissionPolicy.fromConfig(new ConfigReader({}));

  it.each([
    ['approve', kedaRequestApprovePermission],
    ['provision IAM', kedaIamProvisionPermission],
  ])(
    'lets the platform team %s and denies developers',
    async (_, permission) => {
      expect((await policy.handle({ permission }, priya)).result).toBe(
        AuthorizeResult.ALLOW,
      );
      expect((await policy.handle({ permission }, dana)).result).toBe(
        AuthorizeResult.DENY,
      );
      expect((await policy.handle({ permission })).result).toBe(
        AuthorizeResult.DENY,
      );
    },
  );

  it('lets every signed-in user read status and create requests', async () => {
    for (const permission of [
      kedaStatusReadPermission,
      kedaRequestCreatePermission,
    ]) {
      expect((await policy.handle({ permission }, dana)).result).toBe(
        AuthorizeResult.ALLOW,
      );
    }
  });

  it('hides platform-only templates from developers and shows them to the platform team', async () => {
    expect(
      (await policy.handle({ permission: catalogEntityReadPermission }, priya))
        .result,
    ).toBe(AuthorizeResult.ALLOW);
    const decision = await policy.handle(
      { permission: catalogEntityReadPermission },
      dana,
    );
    if (decision.result !== AuthorizeResult.CONDITIONAL)
      throw new Error('expected a conditional decision');
    expect(decision.pluginId).toBe('catalog');
    expect(decision.conditions).toEqual({
      not: {
        rule: 'HAS_LABEL',
        resourceType: 'catalog-entity',
        params: { label: 'keda.backstage.io/platform-only', value: 'true' },
      },
    });
  });

  it('lets the platform team run every KEDA IAM action', async () => {
    const decision = await policy.handle(
      { permission: actionExecutePermission },
      priya,
    );
    expect(
      allowsStep(decision, { action: 'keda:aws:operator-role:ensure' }),
    ).toBe(true);
  });

  describe('scaffolder actions run by a developer', () => {
    let decision: PolicyDecision;
    beforeAll(async () => {
      decision = await policy.handle(
        { permission: actionExecutePermission },
        dana,
      );
    });

    it('allows actions that do not touch IAM', () => {
      expect(allowsStep(decision, { action: 'keda:plan' })).toBe(true);
      expect(
        allowsStep(decision, { action: 'publish:github:pull-request' }),
      ).toBe(true);
    });

    it('allows the scaler role for an auto-approved plan only', () => {
      const action = 'keda:aws:scaler-role:ensure';
      expect(
        allowsStep(decision, { action, input: { autoApproved: true } }),
      ).toBe(true);
      expect(
        allowsStep(decision, { action, input: { autoApproved: false } }),
      ).toBe(false);
      expect(allowsStep(decision, { action, input: {} })).toBe(false);
      expect(
        allowsStep(decision, { action, input: { autoApproved: 'true' } }),
      ).toBe(false);
    });

    it('never allows the operator role or deleting scaler roles', () => {
      for (const action of [
        'keda:aws:operator-role:ensure',
        'keda:aws:scaler-role:delete',
      ]) {
        expect(
          allowsStep(decision, { action, input: { autoApproved: true } }),
        ).toBe(false);
      }
    });
  });

  it('reads the approver groups from keda.approvals.approverGroups', async () => {
    const custom = KedaPortalPermissionPolicy.fromConfig(
      new ConfigReader({
        keda: { approvals: { approverGroups: ['group:default/orders-team'] } },
      }),
    );
    const permission = kedaRequestApprovePermission;
    expect((await custom.handle({ permission }, dana)).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect((await custom.handle({ permission }, priya)).result).toBe(
      AuthorizeResult.DENY,
    );
  });

  it("defaults to keda-node's approver groups (the requests backend's default too)", async () => {
    const defaults = KedaPortalPermissionPolicy.fromConfig(
      new ConfigReader({}),
    );
    const permission = kedaRequestApprovePermission;
    expect(DEFAULT_APPROVER_GROUPS).toEqual(['group:default/platform-team']);
    expect(readKedaApprovals(new ConfigReader({})).approverGroups).toEqual([
      ...DEFAULT_APPROVER_GROUPS,
    ]);
    expect((await defaults.handle({ permission }, priya)).result).toBe(
      AuthorizeResult.ALLOW,
    );
    expect((await defaults.handle({ permission }, dana)).result).toBe(
      AuthorizeResult.DENY,
    );
  });

  it('rejects approver groups that are not group refs, like the requests backend', () => {
    expect(() =>
      KedaPortalPermissionPolicy.fromConfig(
        new ConfigReader({
          keda: { approvals: { approverGroups: ['platform-team'] } },
        }),
      ),
    ).toThrow(/keda\.approvals\.approverGroups\[0\]/);
  });

  it('does not need the cluster configuration', () => {
    const policyWithBadClusters = KedaPortalPermissionPolicy.fromConfig(
      new ConfigReader({ keda: { clusters: [{ name: 'no-url' }] } }),
    );
    expect(policyWithBadClusters.isApprover(priya)).toBe(true);
  });

  it('matches group refs case-insensitively like the catalog', async () => {
    const shouting = user('user:default/sam', ['group:default/Platform-Team']);
    const decision = await policy.handle(
      { permission: kedaRequestApprovePermission },
      shouting,
    );
    expect(decision.result).toBe(AuthorizeResult.ALLOW);
  });

  it('ignores a look-alike custom permission with another name', async () => {
    const lookAlike = createPermission({
      name: 'keda.request.approve.other',
      attributes: {},
    });
    expect((await policy.handle({ permission: lookAlike }, dana)).result).toBe(
      AuthorizeResult.ALLOW,
    );
  });
});
