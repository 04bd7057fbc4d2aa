import fs from 'node:fs';
import path from 'node:path';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import { actionExecutePermission } from '@backstage/plugin-scaffolder-common/alpha';
import {
  KEDA_ACTION_IDS,
  KEDA_IAM_ACTION_IDS,
  kedaIamProvisionPermission,
  kedaPermissions,
  kedaRequestApprovePermission,
} from '@keda-self-service/plugin-keda-common';
import {
  KEDA_APPROVER_PERMISSIONS,
  KEDA_SELF_SERVICE_IAM_ACTION_ID,
  kedaPolicyDecision,
  type KedaPolicyOptions,
} from './rules';
import { allowsStep, user } from './__testUtils__/decisions';

/*
 * Ties the policy to keda-common's definitions: the action ids the
 * scaffolder module registers (KEDA_ACTION_IDS, which keda-common's tests
 * check against the templates) and the permissions keda-common exports.
 */

const options: KedaPolicyOptions = {
  approverGroups: ['group:default/platform-team'],
};
const approver = user('user:default/priya', ['group:default/platform-team']);
const developer = user('user:default/dana', ['group:default/orders-team']);

const actionIds: string[] = Object.values(KEDA_ACTION_IDS);
const iamActionIds: string[] = [...KEDA_IAM_ACTION_IDS];

describe('the policy and keda-common', () => {
  const developerDecision = kedaPolicyDecision(
    { permission: actionExecutePermission },
    developer,
    options,
  )!;

  it.each(iamActionIds)(
    'treats the IAM-changing action %s as platform-only',
    actionId => {
      expect(developerDecision.result).toBe(AuthorizeResult.CONDITIONAL);
      expect(allowsStep(developerDecision, { action: actionId })).toBe(false);
      expect(
        allowsStep(developerDecision, {
          action: actionId,
          input: { autoApproved: actionId !== KEDA_SELF_SERVICE_IAM_ACTION_ID },
        }),
      ).toBe(false);
      expect(
        kedaPolicyDecision(
          { permission: actionExecutePermission },
          approver,
          options,
        ),
      ).toBeUndefined();
    },
  );

  it('the self-service action is one of the IAM-changing actions', () => {
    expect(iamActionIds).toContain(KEDA_SELF_SERVICE_IAM_ACTION_ID);
    expect(
      allowsStep(developerDecision, {
        action: KEDA_SELF_SERVICE_IAM_ACTION_ID,
        input: { autoApproved: true },
      }),
    ).toBe(true);
  });

  it.each(actionIds.filter(id => !iamActionIds.includes(id)))(
    'lets a developer run %s, which does not change IAM',
    actionId => {
      expect(allowsStep(developerDecision, { action: actionId })).toBe(true);
    },
  );

  it('handles only permissions keda-common exports, the approver ones definitively', () => {
    const names = kedaPermissions.map(p => p.name);
    for (const permission of KEDA_APPROVER_PERMISSIONS) {
      expect(names).toContain(permission.name);
    }
    expect(KEDA_APPROVER_PERMISSIONS.map(p => p.name).sort()).toEqual(
      [
        kedaRequestApprovePermission.name,
        kedaIamProvisionPermission.name,
      ].sort(),
    );
    for (const permission of kedaPermissions) {
      const approverOnly = KEDA_APPROVER_PERMISSIONS.some(
        p => p.name === permission.name,
      );
      expect([
        permission.name,
        kedaPolicyDecision({ permission }, developer, options),
      ]).toEqual([
        permission.name,
        approverOnly ? { result: AuthorizeResult.DENY } : undefined,
      ]);
    }
    // A permission keda-common does not export gets no KEDA decision,
    // whatever it is named.
    for (const name of [
      'keda.request.approve.other',
      'keda.iam',
      'keda.iam.provision2',
    ]) {
      const permission = createPermission({
        name,
        attributes: { action: 'update' },
      });
      expect([
        name,
        kedaPolicyDecision({ permission }, developer, options),
      ]).toEqual([name, undefined]);
    }
  });

  it('spells no action id or permission name itself (keda-common does)', () => {
    const sources = fs
      .readdirSync(__dirname)
      .filter(file => file.endsWith('.ts') && !file.endsWith('.test.ts'));
    expect(sources).toEqual(expect.arrayContaining(['rules.ts', 'policy.ts']));
    for (const file of sources) {
      const code = fs
        .readFileSync(path.join(__dirname, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      expect([file, code.match(/['"`]keda[.:][^'"`]*['"`]/g)]).toEqual([
        file,
        null,
      ]);
    }
  });
});
