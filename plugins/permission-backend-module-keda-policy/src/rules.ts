import type { Config } from '@backstage/config';
import {
  AuthorizeResult,
  isPermission,
  type ConditionalPolicyDecision,
  type DefinitivePolicyDecision,
  type PermissionCondition,
  type PermissionCriteria,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type {
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  actionExecutePermission,
  type RESOURCE_TYPE_SCAFFOLDER_ACTION,
} from '@backstage/plugin-scaffolder-common/alpha';
import {
  createScaffolderActionConditionalDecision,
  scaffolderActionConditions,
} from '@backstage/plugin-scaffolder-backend/alpha';
import {
  catalogEntityReadPermission,
  type RESOURCE_TYPE_CATALOG_ENTITY,
} from '@backstage/plugin-catalog-common/alpha';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  KEDA_ACTION_IDS,
  KEDA_IAM_ACTION_IDS,
  PLATFORM_ONLY_LABEL,
  kedaIamProvisionPermission,
  kedaRequestApprovePermission,
} from '@keda-self-service/plugin-keda-common';
import { readKedaApprovals } from '@keda-self-service/plugin-keda-node';

/*
 * The KEDA rules of a permission policy, as pieces an adopter calls from
 * their own policy. `kedaPolicyDecision` answers every permission KEDA has
 * a rule for and `undefined` for the rest; the pieces it is built from are
 * exported too, so a policy with its own conditions on the same permission
 * (catalog read, scaffolder action execution) can combine them.
 *
 * The pieces only restrict: apart from KEDA's own approver permissions,
 * which they allow to approvers, they never allow anything, so the
 * adopter's policy still decides what approvers may do elsewhere.
 */

/**
 * What the KEDA policy pieces need to know.
 * @public
 */
export interface KedaPolicyOptions {
  /**
   * Full group refs (`group:<namespace>/<name>`) whose members approve KEDA
   * requests and provision IAM; compared case-insensitively with the user's
   * ownership refs, as the catalog compares refs.
   */
  approverGroups: readonly string[];
}

/**
 * The pieces' options from `keda.approvals.approverGroups`, read by
 * keda-node's `readKedaApprovals` (the reader the requests backend uses: the
 * same default, platform-team, and the same validation). Only
 * `keda.approvals` is read, so a cluster misconfiguration does not take the
 * permission policy down.
 * @public
 */
export function kedaPolicyOptionsFromConfig(config: Config): KedaPolicyOptions {
  return { approverGroups: readKedaApprovals(config).approverGroups };
}

/**
 * Whether the user is a member of one of the approver groups (by the
 * ownership refs of their sign-in). No user is never an approver.
 * @public
 */
export function isKedaApprover(
  user: PolicyQueryUser | undefined,
  options: KedaPolicyOptions,
): boolean {
  const refs = user?.info.ownershipEntityRefs ?? [];
  return refs.some(ref =>
    options.approverGroups.some(
      group =>
        group.toLocaleLowerCase('en-US') === ref.toLocaleLowerCase('en-US'),
    ),
  );
}

/**
 * KEDA permissions held by the approver groups only: approving requests
 * and provisioning IAM.
 * @public
 */
export const KEDA_APPROVER_PERMISSIONS = [
  kedaRequestApprovePermission,
  kedaIamProvisionPermission,
] as const;

/**
 * The one IAM-changing action a non-approver may run: the requester's own
 * run of an auto-approved plan (`autoApproved: true` in the step's input).
 * The action re-evaluates the guardrails server-side, so the input is a hint
 * the policy can see, not the only check.
 * @public
 */
export const KEDA_SELF_SERVICE_IAM_ACTION_ID = KEDA_ACTION_IDS.scalerRoleEnsure;

/** Conditions on a scaffolder step, as `scaffolder.action.execute` takes them. @public */
export type KedaActionCriteria = PermissionCriteria<
  PermissionCondition<typeof RESOURCE_TYPE_SCAFFOLDER_ACTION>
>;

/** Conditions on a catalog entity, as `catalog.entity.read` takes them. @public */
export type KedaEntityCriteria = PermissionCriteria<
  PermissionCondition<typeof RESOURCE_TYPE_CATALOG_ENTITY>
>;

/**
 * `keda.request.approve` and `keda.iam.provision`: ALLOW for approvers,
 * DENY for everyone else; `undefined` for any other permission.
 * @public
 */
export function kedaApproverPermissionDecision(
  request: PolicyQuery,
  user: PolicyQueryUser | undefined,
  options: KedaPolicyOptions,
): DefinitivePolicyDecision | undefined {
  if (!KEDA_APPROVER_PERMISSIONS.some(p => isPermission(request.permission, p)))
    return undefined;
  return {
    result: isKedaApprover(user, options)
      ? AuthorizeResult.ALLOW
      : AuthorizeResult.DENY,
  };
}

/**
 * The steps a non-approver may run: any action but the IAM-changing KEDA
 * actions (`KEDA_IAM_ACTION_IDS`), except
 * {@link KEDA_SELF_SERVICE_IAM_ACTION_ID} with `autoApproved: true`.
 * `undefined` for approvers: KEDA restricts no action for them. Combine
 * with your own conditions with `allOf`.
 * @public
 */
export function kedaActionExecuteConditions(
  user: PolicyQueryUser | undefined,
  options: KedaPolicyOptions,
): KedaActionCriteria | undefined {
  if (isKedaApprover(user, options)) return undefined;
  const { hasActionId, hasBooleanProperty } = scaffolderActionConditions;
  const [first, ...rest] = KEDA_IAM_ACTION_IDS;
  return {
    anyOf: [
      {
        not: {
          anyOf: [
            hasActionId({ actionId: first }),
            ...rest.map(actionId => hasActionId({ actionId })),
          ],
        },
      },
      {
        allOf: [
          hasActionId({ actionId: KEDA_SELF_SERVICE_IAM_ACTION_ID }),
          hasBooleanProperty({ key: 'autoApproved', value: true }),
        ],
      },
    ],
  };
}

/**
 * `scaffolder.action.execute` for a non-approver: the conditional decision
 * of {@link kedaActionExecuteConditions}; `undefined` for approvers.
 * @public
 */
export function kedaActionExecuteDecision(
  user: PolicyQueryUser | undefined,
  options: KedaPolicyOptions,
): ConditionalPolicyDecision | undefined {
  const conditions = kedaActionExecuteConditions(user, options);
  return conditions
    ? createScaffolderActionConditionalDecision(
        actionExecutePermission,
        conditions,
      )
    : undefined;
}

/**
 * The entities a non-approver may read: those not labelled
 * `keda.backstage.io/platform-only: 'true'` (the cluster onboarding and
 * provisioning templates, so nobody else can start them). `undefined` for
 * approvers. Combine with your own conditions with `allOf`.
 * @public
 */
export function kedaCatalogEntityReadConditions(
  user: PolicyQueryUser | undefined,
  options: KedaPolicyOptions,
): KedaEntityCriteria | undefined {
  if (isKedaApprover(user, options)) return undefined;
  return {
    not: catalogConditions.hasLabel({
      label: PLATFORM_ONLY_LABEL,
      value: 'true',
    }),
  };
}

/**
 * `catalog.entity.read` for a non-approver: the conditional decision of
 * {@link kedaCatalogEntityReadConditions}; `undefined` for approvers.
 * @public
 */
export function kedaCatalogEntityReadDecision(
  user: PolicyQueryUser | undefined,
  options: KedaPolicyOptions,
): ConditionalPolicyDecision | undefined {
  const conditions = kedaCatalogEntityReadConditions(user, options);
  return conditions
    ? createCatalogConditionalDecision(catalogEntityReadPermission, conditions)
    : undefined;
}

/**
 * KEDA's decision on a permission, or `undefined` when KEDA has no rule for
 * it (for this user): call it first from your policy's `handle` and fall
 * through to your own rules on `undefined`.
 *
 * - `keda.request.approve`, `keda.iam.provision`: ALLOW for approvers, DENY
 *   otherwise ({@link kedaApproverPermissionDecision}).
 * - `scaffolder.action.execute`: for non-approvers, conditional on the step
 *   ({@link kedaActionExecuteDecision}).
 * - `catalog.entity.read`: for non-approvers, conditional on the
 *   platform-only label ({@link kedaCatalogEntityReadDecision}).
 *
 * The other KEDA permissions (`keda.status.read`, `keda.request.create`,
 * `keda.request.read`) are left to your policy. If your policy has its own
 * conditions on catalog read or action execution, combine yours with
 * {@link kedaCatalogEntityReadConditions} / {@link kedaActionExecuteConditions}
 * instead of returning this decision as is.
 * @public
 */
export function kedaPolicyDecision(
  request: PolicyQuery,
  user: PolicyQueryUser | undefined,
  options: KedaPolicyOptions,
): PolicyDecision | undefined {
  const { permission } = request;
  if (isPermission(permission, actionExecutePermission))
    return kedaActionExecuteDecision(user, options);
  if (isPermission(permission, catalogEntityReadPermission))
    return kedaCatalogEntityReadDecision(user, options);
  return kedaApproverPermissionDecision(request, user, options);
}
