import fs from 'node:fs';
import path from 'node:path';
import {
  AuthorizeResult,
  isPermission,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import { actionExecutePermission } from '@backstage/plugin-scaffolder-common/alpha';
import {
  KEDA_ACTION_IDS,
  PLATFORM_ONLY_LABEL,
  kedaIamProvisionPermission,
  kedaRequestApprovePermission,
  kedaRequestCreatePermission,
  kedaStatusReadPermission,
} from '@keda-self-service/plugin-keda-common';
// As an adopter imports them: from the package's index.
import {
  kedaActionExecuteDecision,
  kedaApproverPermissionDecision,
  kedaCatalogEntityReadConditions,
  kedaCatalogEntityReadDecision,
  kedaPolicyDecision,
  type KedaPolicyOptions,
} from '.';
import {
  allowsEntity,
  allowsStep,
  entityWith,
  user as member,
} from './__testUtils__/decisions';

/*
 * An adopter's own policy, not the portal's: guests (users in no group) may
 * only read, and do not see entities Acme labels confidential; everything
 * else is allowed. It takes KEDA's rules from the pieces. The README shows
 * this code (the test below checks it does, verbatim).
 */
// README:begin
const CONFIDENTIAL_LABEL = 'acme.example/confidential';

/** Acme's guests: users in no group. */
function isGuest(user?: PolicyQueryUser): boolean {
  const refs = user?.info.ownershipEntityRefs ?? [];
  return !refs.some(ref => ref.startsWith('group:'));
}

class AcmePermissionPolicy implements PermissionPolicy {
  constructor(private readonly keda: KedaPolicyOptions) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;

    // Acme's own rule first: guests may only read (a DENY needs no KEDA rule).
    if (isGuest(user) && permission.attributes.action !== 'read') {
      return { result: AuthorizeResult.DENY };
    }

    // Catalog read has conditions of Acme's own: combine them with KEDA's.
    if (isPermission(permission, catalogEntityReadPermission)) {
      const keda = kedaCatalogEntityReadConditions(user, this.keda);
      const acme = isGuest(user)
        ? {
            not: catalogConditions.hasLabel({
              label: CONFIDENTIAL_LABEL,
              value: 'true',
            }),
          }
        : undefined;
      if (keda && acme) {
        return createCatalogConditionalDecision(permission, {
          allOf: [keda, acme],
        });
      }
      const conditions = keda ?? acme;
      return conditions
        ? createCatalogConditionalDecision(permission, conditions)
        : { result: AuthorizeResult.ALLOW };
    }

    // KEDA's rules where KEDA has one (approvals, IAM actions), else Acme's.
    const keda = kedaPolicyDecision(request, user, this.keda);
    if (keda) return keda;
    return { result: AuthorizeResult.ALLOW };
  }
}
// README:end

const options: KedaPolicyOptions = {
  approverGroups: ['group:default/platform-team'],
};
const policy = new AcmePermissionPolicy(options);

const priya = member('user:default/priya', ['group:default/platform-team']);
const dana = member('user:default/dana', ['group:default/orders-team']);
const guest = member('user:default/guest', []);

const plain = entityWith('orders-worker');
const platformOnly = entityWith('keda-cluster-onboarding', {
  [PLATFORM_ONLY_LABEL]: 'true',
});
const confidential = entityWith('payroll', { [CONFIDENTIAL_LABEL]: 'true' });

describe('an adopter policy composed of the KEDA pieces', () => {
  describe('KEDA decisions come from the pieces', () => {
    it.each([kedaRequestApprovePermission, kedaIamProvisionPermission])(
      '$name: approvers only',
      async permission => {
        for (const who of [priya, dana]) {
          expect(await policy.handle({ permission }, who)).toEqual(
            kedaApproverPermissionDecision({ permission }, who, options),
          );
        }
        expect((await policy.handle({ permission }, priya)).result).toBe(
          AuthorizeResult.ALLOW,
        );
        expect((await policy.handle({ permission }, dana)).result).toBe(
          AuthorizeResult.DENY,
        );
      },
    );

    it('a developer runs KEDA IAM actions only as the pieces allow', async () => {
      const decision = await policy.handle(
        { permission: actionExecutePermission },
        dana,
      );
      expect(decision).toEqual(kedaActionExecuteDecision(dana, options));
      const scalerRole = KEDA_ACTION_IDS.scalerRoleEnsure;
      expect(allowsStep(decision, { action: KEDA_ACTION_IDS.plan })).toBe(true);
      expect(
        allowsStep(decision, {
          action: scalerRole,
          input: { autoApproved: true },
        }),
      ).toBe(true);
      expect(allowsStep(decision, { action: scalerRole, input: {} })).toBe(
        false,
      );
      expect(
        allowsStep(decision, { action: KEDA_ACTION_IDS.operatorRoleEnsure }),
      ).toBe(false);
    });

    it('an approver runs every action (KEDA has no rule, Acme allows)', async () => {
      const decision = await policy.handle(
        { permission: actionExecutePermission },
        priya,
      );
      expect(
        allowsStep(decision, { action: KEDA_ACTION_IDS.operatorRoleEnsure }),
      ).toBe(true);
    });

    it('follows the approver groups it is given', async () => {
      const ordersApprove = new AcmePermissionPolicy({
        approverGroups: ['group:default/orders-team'],
      });
      const permission = kedaRequestApprovePermission;
      expect((await ordersApprove.handle({ permission }, dana)).result).toBe(
        AuthorizeResult.ALLOW,
      );
      expect((await ordersApprove.handle({ permission }, priya)).result).toBe(
        AuthorizeResult.DENY,
      );
    });
  });

  describe("Acme's own rules still apply", () => {
    it('guests may only read, others may do the rest', async () => {
      for (const permission of [
        catalogEntityDeletePermission,
        kedaRequestCreatePermission,
        actionExecutePermission,
      ]) {
        expect((await policy.handle({ permission }, guest)).result).toBe(
          AuthorizeResult.DENY,
        );
        expect((await policy.handle({ permission })).result).toBe(
          AuthorizeResult.DENY,
        );
      }
      for (const permission of [
        catalogEntityDeletePermission,
        kedaRequestCreatePermission,
      ]) {
        expect((await policy.handle({ permission }, dana)).result).toBe(
          AuthorizeResult.ALLOW,
        );
      }
      expect(
        (await policy.handle({ permission: kedaStatusReadPermission }, guest))
          .result,
      ).toBe(AuthorizeResult.ALLOW);
    });
  });

  describe('catalog read combines both', () => {
    const read = (who: PolicyQueryUser) =>
      policy.handle({ permission: catalogEntityReadPermission }, who);

    it('an approver (no guest) reads every entity', async () => {
      const decision = await read(priya);
      expect(decision.result).toBe(AuthorizeResult.ALLOW);
    });

    it("a developer gets exactly KEDA's conditions", async () => {
      const decision = await read(dana);
      expect(decision).toEqual(kedaCatalogEntityReadDecision(dana, options));
      expect(allowsEntity(decision, plain)).toBe(true);
      expect(allowsEntity(decision, confidential)).toBe(true);
      expect(allowsEntity(decision, platformOnly)).toBe(false);
    });

    it("a guest gets KEDA's and Acme's conditions", async () => {
      const decision = await read(guest);
      expect(allowsEntity(decision, plain)).toBe(true);
      expect(allowsEntity(decision, confidential)).toBe(false);
      expect(allowsEntity(decision, platformOnly)).toBe(false);
    });
  });

  it('is the example the README shows', () => {
    const source = fs.readFileSync(__filename, 'utf8');
    const example = source
      .slice(
        source.indexOf('// README:begin\n') + '// README:begin\n'.length,
        source.indexOf('// README:end'),
      )
      .trim();
    const readme = fs.readFileSync(
      path.resolve(__dirname, '../README.md'),
      'utf8',
    );
    expect(example).toContain('class AcmePermissionPolicy');
    expect(readme).toContain(example);
  });
});
