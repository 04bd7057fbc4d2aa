import type { Entity } from '@backstage/catalog-model';
import {
  AuthorizeResult,
  type PermissionCondition,
  type PermissionCriteria,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type { PolicyQueryUser } from '@backstage/plugin-permission-node';
import { permissionRules } from '@backstage/plugin-catalog-backend/alpha';

/** A signed-in user with the given group memberships (ownership refs). */
export function user(ref: string, groups: string[]): PolicyQueryUser {
  return {
    identity: {
      type: 'user',
      userEntityRef: ref,
      ownershipEntityRefs: [ref, ...groups],
    },
    token: 'token',
    credentials: {} as PolicyQueryUser['credentials'],
    info: { userEntityRef: ref, ownershipEntityRefs: [ref, ...groups] },
  } as PolicyQueryUser;
}

function evaluate(
  criteria: PermissionCriteria<PermissionCondition>,
  condition: (c: PermissionCondition) => boolean,
): boolean {
  if ('allOf' in criteria)
    return criteria.allOf.every(c => evaluate(c, condition));
  if ('anyOf' in criteria)
    return criteria.anyOf.some(c => evaluate(c, condition));
  if ('not' in criteria) return !evaluate(criteria.not, condition);
  return condition(criteria);
}

/** A scaffolder step as `scaffolder.action.execute` conditions see it. */
export type Step = { action: string; input?: Record<string, unknown> };

/**
 * Applies a decision to one scaffolder step the way the scaffolder does:
 * with the semantics of its `hasActionId` and `hasBooleanProperty` rules.
 */
export function allowsStep(decision: PolicyDecision, step: Step): boolean {
  if (decision.result === AuthorizeResult.ALLOW) return true;
  if (decision.result === AuthorizeResult.DENY) return false;
  if (decision.result !== AuthorizeResult.CONDITIONAL)
    throw new Error('unexpected decision');
  expect(decision.pluginId).toBe('scaffolder');
  expect(decision.resourceType).toBe('scaffolder-action');
  return evaluate(decision.conditions, c => {
    const params = c.params as Record<string, unknown>;
    switch (c.rule) {
      case 'HAS_ACTION_ID':
        return step.action === params.actionId;
      case 'HAS_BOOLEAN_PROPERTY':
        return step.input?.[params.key as string] === params.value;
      default:
        throw new Error(`unexpected rule ${c.rule}`);
    }
  });
}

/**
 * Applies a decision to one catalog entity with the catalog's own
 * permission rules (`permissionRules` of catalog-backend).
 */
export function allowsEntity(
  decision: PolicyDecision,
  entity: Entity,
): boolean {
  if (decision.result === AuthorizeResult.ALLOW) return true;
  if (decision.result === AuthorizeResult.DENY) return false;
  if (decision.result !== AuthorizeResult.CONDITIONAL)
    throw new Error('unexpected decision');
  expect(decision.pluginId).toBe('catalog');
  expect(decision.resourceType).toBe('catalog-entity');
  return evaluate(decision.conditions, c => {
    const rule = Object.values(permissionRules).find(r => r.name === c.rule);
    if (!rule) throw new Error(`unexpected rule ${c.rule}`);
    return rule.apply(entity, c.params as any);
  });
}

/** A catalog entity with the given labels. */
export function entityWith(name: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default', labels },
    spec: {},
  } satisfies Entity;
}
