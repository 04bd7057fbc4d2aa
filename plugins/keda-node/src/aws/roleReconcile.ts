import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  type IAMClient,
  type Role,
} from '@aws-sdk/client-iam';
import { ConflictError } from '@backstage/errors';
import {
  MANAGED_BY_VALUE,
  policyJson,
  ROLE_IDENTITY_TAG_KEYS,
  ROLE_TAG_KEYS,
  type PolicyDocument,
} from '@keda-self-service/plugin-keda-common';
import { describeAwsError, isNoSuchEntity } from './errors';
import { decodeIamPolicy, samePolicy } from './policyCompare';

/** An IAM role as it must be after reconcile. @public */
export interface DesiredRole {
  accountId: string;
  name: string;
  path: string;
  arn: string;
  trustPolicy: PolicyDocument;
  /** inline policies by name; other inline policies on the role are left alone */
  inlinePolicies: Record<string, PolicyDocument>;
  /**
   * Tags that must be present with these values (compared on every run).
   * Those among `ROLE_IDENTITY_TAG_KEYS` (cluster, namespace, workload kind,
   * workload) also say whose role it is: an existing role whose values
   * differ is never converged.
   */
  tags: Record<string, string>;
  /**
   * Provenance tags (task id, requester): written on create and together
   * with any other change, but never a reason for a change on their own, so
   * a second run of an unchanged plan makes no mutating call.
   */
  provenanceTags?: Record<string, string>;
  permissionsBoundaryArn?: string;
  maxSessionDuration?: number;
  description?: string;
}

/** A mutating IAM call reconcile made (or would make). @public */
export type RoleChange =
  | 'create-role'
  | 'update-trust-policy'
  | `put-role-policy:${string}`
  | 'put-permissions-boundary'
  | 'update-role'
  | 'tag-role';

/**
 * Runs one remote effect. The scaffolder actions pass `ctx.checkpoint`, so a
 * retried task does not repeat an effect that already succeeded; the key
 * includes a digest of the desired state so a changed plan is applied.
 * @public
 */
export type RoleEffectRunner = (
  key: string,
  effect: () => Promise<void>,
) => Promise<void>;

/** @public */
export interface RoleReconcileOptions {
  iam: IAMClient;
  role: DesiredRole;
  /**
   * Take over a role of that name that exists without our managed-by tag,
   * and write the identity tags missing on a role of ours made by an older
   * version. Off by default: silently rewriting someone else's trust policy
   * would hand KEDA a role it was never meant to have. Never overrides the
   * identity check: a role whose identity tags name another workload or
   * cluster is refused either way.
   */
  adoptUnmanaged?: boolean;
  runEffect?: RoleEffectRunner;
}

/** @public */
export interface RoleReconcileResult {
  arn: string;
  roleId?: string;
  /** this run's CreateRole made the role */
  created: boolean;
  /** an existing role without our managed-by tag or identity tags was taken over */
  adopted: boolean;
  changes: RoleChange[];
}

const runDirectly: RoleEffectRunner = (_key, effect) => effect();

function tagList(tags: Record<string, string>) {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function tagsOf(role: Role): Record<string, string> {
  return Object.fromEntries(
    (role.Tags ?? []).map(t => [t.Key ?? '', t.Value ?? '']),
  );
}

/** True when the role carries our managed-by tag. @public */
export function isManagedRole(tags: Record<string, string>): boolean {
  return tags[ROLE_TAG_KEYS.managedBy] === MANAGED_BY_VALUE;
}

function isEntityAlreadyExists(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return (
    name === 'EntityAlreadyExists' || name === 'EntityAlreadyExistsException'
  );
}

/** `cluster prod-eu, namespace shop, workload Deployment/orders-worker` */
function describeIdentity(tags: Record<string, string>): string {
  const parts: Array<[string, string]> = [
    ['cluster', ROLE_TAG_KEYS.cluster],
    ['namespace', ROLE_TAG_KEYS.namespace],
    ['workload kind', ROLE_TAG_KEYS.workloadKind],
    ['workload', ROLE_TAG_KEYS.workload],
  ];
  return (
    parts
      .filter(([, key]) => tags[key] !== undefined)
      .map(([label, key]) => `${label} ${tags[key] || '(empty)'}`)
      .join(', ') || 'no identity tags'
  );
}

/**
 * Whose role is it? Refuses (ConflictError) an existing role whose identity
 * tags differ from the desired role's — always, adoption or not — and one
 * without our managed-by tag or without the identity tags unless adopting.
 * Returns whether the role is being adopted.
 */
function checkOwnership(
  existing: Role,
  role: DesiredRole,
  adoptUnmanaged: boolean,
): boolean {
  const arn = existing.Arn ?? role.arn;
  const current = tagsOf(existing);
  const identityKeys = ROLE_IDENTITY_TAG_KEYS.filter(
    key => role.tags[key] !== undefined,
  );
  const desiredIdentity = Object.fromEntries(
    identityKeys.map(key => [key, role.tags[key]]),
  );
  const conflicting = identityKeys.filter(
    key => current[key] !== undefined && current[key] !== role.tags[key],
  );
  if (conflicting.length > 0) {
    throw new ConflictError(
      `IAM role ${arn} belongs to another workload (${describeIdentity(
        current,
      )}), not to ${describeIdentity(desiredIdentity)} (${conflicting
        .map(key => `${key} is "${current[key]}"`)
        .join(
          '; ',
        )}). It is never taken over, not even with keda.roles.adoptExistingRoles: two workloads or clusters must not share a role. Check keda.roles.namePrefix and the cluster names for a collision, or delete the other role if it is unused`,
    );
  }
  const managed = isManagedRole(current);
  if (!managed && !adoptUnmanaged) {
    throw new ConflictError(
      `IAM role ${arn} already exists and was not created by Backstage KEDA (no ${ROLE_TAG_KEYS.managedBy}=${MANAGED_BY_VALUE} tag). It is not taken over silently: delete or rename it, or let the platform team set keda.roles.adoptExistingRoles: true to adopt it`,
    );
  }
  const missing = identityKeys.filter(key => current[key] === undefined);
  if (managed && missing.length > 0 && !adoptUnmanaged) {
    throw new ConflictError(
      `IAM role ${arn} carries the ${
        ROLE_TAG_KEYS.managedBy
      }=${MANAGED_BY_VALUE} tag but not the identity tags ${missing.join(
        ', ',
      )} (an older version of Backstage KEDA created it), so it cannot be told whose it is. If it belongs to ${describeIdentity(
        desiredIdentity,
      )}, let the platform team set keda.roles.adoptExistingRoles: true to adopt it (the identity tags are then written); otherwise delete it`,
    );
  }
  return !managed || missing.length > 0;
}

function digest(text: string): string {
  // FNV-1a: only distinguishes checkpoint keys of different desired states.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

async function call<T>(
  role: DesiredRole,
  action: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw describeAwsError(error, {
      action,
      resource: role.arn,
      accountId: role.accountId,
    });
  }
}

async function getRole(
  iam: IAMClient,
  role: DesiredRole,
): Promise<Role | undefined> {
  try {
    const out = await iam.send(new GetRoleCommand({ RoleName: role.name }));
    return out.Role;
  } catch (error) {
    if (isNoSuchEntity(error)) return undefined;
    throw describeAwsError(error, {
      action: 'iam:GetRole',
      resource: role.arn,
      accountId: role.accountId,
    });
  }
}

async function getInlinePolicy(
  iam: IAMClient,
  role: DesiredRole,
  policyName: string,
): Promise<unknown | undefined> {
  try {
    const out = await iam.send(
      new GetRolePolicyCommand({ RoleName: role.name, PolicyName: policyName }),
    );
    return decodeIamPolicy(out.PolicyDocument);
  } catch (error) {
    if (isNoSuchEntity(error)) return undefined;
    throw describeAwsError(error, {
      action: 'iam:GetRolePolicy',
      resource: role.arn,
      accountId: role.accountId,
    });
  }
}

/**
 * Creates the role or converges an existing one: trust policy, inline
 * policies, permissions boundary, description/max session, tags. Reads
 * first and only calls what differs, so a second run of the same desired
 * state makes no mutating call. An existing role is converged only when it
 * is ours and this workload's (managed-by and identity tags; see
 * `adoptUnmanaged`). `EntityAlreadyExists` on create (a concurrent run or
 * someone else created it meanwhile) re-reads the role and treats it as an
 * existing one: same checks, full convergence (IAM trap 5).
 * @public
 */
export async function reconcileRole(
  options: RoleReconcileOptions,
): Promise<RoleReconcileResult> {
  const { iam, role } = options;
  const runEffect = options.runEffect ?? runDirectly;
  const changes: RoleChange[] = [];
  const allTags = { ...role.tags, ...role.provenanceTags };

  let existing = await getRole(iam, role);
  let created = false;
  if (!existing) {
    const key = `create-role:${role.name}:${digest(
      policyJson(role.trustPolicy),
    )}`;
    await runEffect(key, async () => {
      try {
        await iam.send(
          new CreateRoleCommand({
            RoleName: role.name,
            Path: role.path,
            AssumeRolePolicyDocument: policyJson(role.trustPolicy),
            Description: role.description,
            MaxSessionDuration: role.maxSessionDuration,
            PermissionsBoundary: role.permissionsBoundaryArn,
            Tags: tagList(allTags),
          }),
        );
        created = true;
      } catch (error) {
        // Lost a race: someone (a concurrent run, or not us at all) created
        // a role of this name since our GetRole. Not "created": it is read
        // again below and goes through the checks of any existing role.
        if (!isEntityAlreadyExists(error)) {
          throw describeAwsError(error, {
            action: 'iam:CreateRole',
            resource: role.arn,
            accountId: role.accountId,
          });
        }
      }
    });
    // `created` stays false too when the runner skipped the effect (a
    // retried task whose earlier attempt created the role): then the role is
    // compared like any existing one, which costs reads, not changes.
    if (created) changes.push('create-role');
    existing = await getRole(iam, role);
    if (!existing) {
      throw new Error(
        `IAM did not return role ${role.arn} right after creating it; run the step again`,
      );
    }
  }

  const currentTags = tagsOf(existing);
  const adopted = created
    ? false
    : checkOwnership(existing, role, Boolean(options.adoptUnmanaged));
  if (existing.Path && existing.Path !== role.path) {
    throw new ConflictError(
      `IAM role ${role.name} exists with path ${existing.Path}, but keda.roles.path is ${role.path}; IAM cannot move a role between paths. Delete the old role or restore the path in config`,
    );
  }

  if (
    !created &&
    !samePolicy(
      decodeIamPolicy(existing.AssumeRolePolicyDocument),
      role.trustPolicy,
    )
  ) {
    await runEffect(
      `update-trust-policy:${role.name}:${digest(
        policyJson(role.trustPolicy),
      )}`,
      () =>
        call(role, 'iam:UpdateAssumeRolePolicy', () =>
          iam.send(
            new UpdateAssumeRolePolicyCommand({
              RoleName: role.name,
              PolicyDocument: policyJson(role.trustPolicy),
            }),
          ),
        ).then(() => undefined),
    );
    changes.push('update-trust-policy');
  }

  for (const [policyName, document] of Object.entries(role.inlinePolicies)) {
    const stored = created
      ? undefined
      : await getInlinePolicy(iam, role, policyName);
    if (stored !== undefined && samePolicy(stored, document)) continue;
    await runEffect(
      `put-role-policy:${role.name}:${policyName}:${digest(
        policyJson(document),
      )}`,
      () =>
        call(role, 'iam:PutRolePolicy', () =>
          iam.send(
            new PutRolePolicyCommand({
              RoleName: role.name,
              PolicyName: policyName,
              PolicyDocument: policyJson(document),
            }),
          ),
        ).then(() => undefined),
    );
    changes.push(`put-role-policy:${policyName}`);
  }

  const currentBoundary = existing.PermissionsBoundary?.PermissionsBoundaryArn;
  if (
    !created &&
    role.permissionsBoundaryArn &&
    currentBoundary !== role.permissionsBoundaryArn
  ) {
    await runEffect(
      `put-permissions-boundary:${role.name}:${role.permissionsBoundaryArn}`,
      () =>
        call(role, 'iam:PutRolePermissionsBoundary', () =>
          iam.send(
            new PutRolePermissionsBoundaryCommand({
              RoleName: role.name,
              PermissionsBoundary: role.permissionsBoundaryArn,
            }),
          ),
        ).then(() => undefined),
    );
    changes.push('put-permissions-boundary');
  }

  const descriptionDiffers =
    role.description !== undefined &&
    (existing.Description ?? '') !== role.description;
  const sessionDiffers =
    role.maxSessionDuration !== undefined &&
    existing.MaxSessionDuration !== role.maxSessionDuration;
  if (!created && (descriptionDiffers || sessionDiffers)) {
    await runEffect(
      `update-role:${role.name}:${digest(
        `${role.description}|${role.maxSessionDuration}`,
      )}`,
      () =>
        call(role, 'iam:UpdateRole', () =>
          iam.send(
            new UpdateRoleCommand({
              RoleName: role.name,
              Description: role.description,
              MaxSessionDuration: role.maxSessionDuration,
            }),
          ),
        ).then(() => undefined),
    );
    changes.push('update-role');
  }

  const missingTags = Object.fromEntries(
    Object.entries(role.tags).filter(([k, v]) => currentTags[k] !== v),
  );
  const tagsToWrite =
    !created && (Object.keys(missingTags).length > 0 || changes.length > 0)
      ? { ...missingTags, ...role.provenanceTags }
      : {};
  if (Object.keys(tagsToWrite).length > 0) {
    await runEffect(
      `tag-role:${role.name}:${digest(JSON.stringify(tagsToWrite))}`,
      () =>
        call(role, 'iam:TagRole', () =>
          iam.send(
            new TagRoleCommand({
              RoleName: role.name,
              Tags: tagList(tagsToWrite),
            }),
          ),
        ).then(() => undefined),
    );
    changes.push('tag-role');
  }

  return {
    arn: existing.Arn ?? role.arn,
    roleId: existing.RoleId,
    created,
    adopted,
    changes,
  };
}

/** @public */
export interface RoleDeleteOptions {
  iam: IAMClient;
  accountId: string;
  roleName: string;
  /** for messages */
  roleArn: string;
  /**
   * Tags the role must carry (beyond managed-by) to be ours to delete, e.g.
   * the cluster/namespace/workload the decommission is for.
   */
  expectedTags?: Record<string, string>;
  runEffect?: RoleEffectRunner;
}

/** @public */
export interface RoleDeleteResult {
  deleted: boolean;
  alreadyAbsent: boolean;
  removedInlinePolicies: string[];
  detachedPolicies: string[];
}

/**
 * Deletes a role we manage: inline policies, attached policies, then the
 * role. Idempotent (an absent role is success) and refuses roles without our
 * managed-by tag or whose identity tags do not match.
 * @public
 */
export async function deleteManagedRole(
  options: RoleDeleteOptions,
): Promise<RoleDeleteResult> {
  const { iam, roleName, roleArn, accountId } = options;
  const runEffect = options.runEffect ?? runDirectly;
  const ctx = (action: string) => ({ action, resource: roleArn, accountId });
  let role: Role | undefined;
  try {
    role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (error) {
    if (!isNoSuchEntity(error))
      throw describeAwsError(error, ctx('iam:GetRole'));
  }
  const result: RoleDeleteResult = {
    deleted: false,
    alreadyAbsent: !role,
    removedInlinePolicies: [],
    detachedPolicies: [],
  };
  if (!role) return result;

  const tags = tagsOf(role);
  if (!isManagedRole(tags)) {
    throw new ConflictError(
      `IAM role ${role.Arn} was not created by Backstage KEDA (no ${ROLE_TAG_KEYS.managedBy}=${MANAGED_BY_VALUE} tag); it is not deleted. Remove it by hand if it is really unused`,
    );
  }
  const mismatched = Object.entries(options.expectedTags ?? {}).filter(
    ([k, v]) => tags[k] !== v,
  );
  if (mismatched.length > 0) {
    throw new ConflictError(
      `IAM role ${role.Arn} belongs to another workload (${mismatched
        .map(([k, v]) => `${k} is "${tags[k] ?? ''}", expected "${v}"`)
        .join('; ')}); it is not deleted`,
    );
  }

  try {
    const inline = await iam.send(
      new ListRolePoliciesCommand({ RoleName: roleName }),
    );
    for (const policyName of inline.PolicyNames ?? []) {
      await runEffect(
        `delete-role-policy:${roleName}:${policyName}`,
        async () => {
          try {
            await iam.send(
              new DeleteRolePolicyCommand({
                RoleName: roleName,
                PolicyName: policyName,
              }),
            );
          } catch (error) {
            if (!isNoSuchEntity(error)) throw error;
          }
        },
      );
      result.removedInlinePolicies.push(policyName);
    }
    const attached = await iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: roleName }),
    );
    for (const policy of attached.AttachedPolicies ?? []) {
      const policyArn = policy.PolicyArn!;
      await runEffect(
        `detach-role-policy:${roleName}:${policyArn}`,
        async () => {
          try {
            await iam.send(
              new DetachRolePolicyCommand({
                RoleName: roleName,
                PolicyArn: policyArn,
              }),
            );
          } catch (error) {
            if (!isNoSuchEntity(error)) throw error;
          }
        },
      );
      result.detachedPolicies.push(policyArn);
    }
    await runEffect(`delete-role:${roleName}`, async () => {
      try {
        await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
      } catch (error) {
        if (!isNoSuchEntity(error)) throw error;
      }
    });
  } catch (error) {
    if (
      error instanceof Error &&
      /^(Conflict|NotAllowed)Error$/.test(error.name)
    )
      throw error;
    throw describeAwsError(error, ctx('iam:DeleteRole'));
  }
  result.deleted = true;
  return result;
}
