/*
 * IAM (awsQuery protocol, API version 2010-05-08). IAM is global: every call
 * acts on the caller's own account and is authorised by the caller's
 * identity policies (root may do everything).
 */
import {
  MalformedPolicyError,
  parsePolicyDocument,
  PolicyDocument,
} from './policyDocument';
import {
  evaluatePolicies,
  NamedPolicy,
  RequestContext,
  RequestPrincipal,
} from './policyEvaluator';
import {
  AccountRecord,
  OidcProviderRecord,
  parseArn,
  RoleRecord,
  roleArn,
  Tag,
  newRoleId,
  UserRecord,
} from './state';
import { AwsError, QueryParams, validationError, XmlValue } from './wire';
import { AwsWorld, Caller } from './world';

export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

export interface QueryCallContext {
  world: AwsWorld;
  /** Undefined only for operations AWS allows unsigned (AssumeRoleWithWebIdentity). */
  caller?: Caller;
  region: string;
  params: QueryParams;
}

export type QueryHandler = (
  ctx: QueryCallContext,
) =>
  | Promise<Record<string, XmlValue> | undefined>
  | Record<string, XmlValue>
  | undefined;

// Limits from the IAM quotas page (domain-keda-iam.md, IAM trap 2).
const ROLE_NAME = /^[\w+=,.@-]+$/;
const MAX_ROLE_NAME = 64;
const MAX_PATH = 512;
const MAX_TRUST_POLICY_CHARS = 2048;
const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

const noSuchRole = (name: string) =>
  new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, {
    status: 404,
  });

function constraint(field: string, value: string, rule: string): AwsError {
  return validationError(
    `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${rule}`,
  );
}

function validateRoleName(name: string): void {
  if (name.length > MAX_ROLE_NAME) {
    throw constraint(
      'roleName',
      name,
      `Member must have length less than or equal to ${MAX_ROLE_NAME}`,
    );
  }
  if (!ROLE_NAME.test(name)) {
    throw constraint(
      'roleName',
      name,
      'Member must satisfy regular expression pattern: [\\w+=,.@-]+',
    );
  }
}

function validatePath(path: string): void {
  if (path.length > MAX_PATH) {
    throw constraint(
      'path',
      path,
      `Member must have length less than or equal to ${MAX_PATH}`,
    );
  }
  if (!/^(\/|\/[\u0021-\u007E]+\/)$/.test(path)) {
    throw constraint(
      'path',
      path,
      'Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)',
    );
  }
}

function parseTags(params: QueryParams): Tag[] {
  const tags = params
    .structList('Tags')
    .map(t => ({ Key: t.required('Key'), Value: t.optional('Value') ?? '' }));
  for (const tag of tags) {
    if (tag.Key.length > MAX_TAG_KEY)
      throw constraint(
        'tags.member.key',
        tag.Key,
        `Member must have length less than or equal to ${MAX_TAG_KEY}`,
      );
    if (tag.Value.length > MAX_TAG_VALUE)
      throw constraint(
        'tags.member.value',
        tag.Value,
        `Member must have length less than or equal to ${MAX_TAG_VALUE}`,
      );
  }
  return tags;
}

function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const out = existing.filter(t => !added.some(a => a.Key === t.Key));
  out.push(...added);
  if (out.length > MAX_TAGS) {
    throw new AwsError(
      'LimitExceeded',
      `Cannot exceed quota for TagsPerRole: ${MAX_TAGS}`,
      { status: 409 },
    );
  }
  return out;
}

function tagContext(tags: Tag[]): RequestContext {
  const ctx: RequestContext = {};
  if (tags.length) ctx['aws:TagKeys'] = tags.map(t => t.Key);
  for (const t of tags) ctx[`aws:RequestTag/${t.Key}`] = t.Value;
  return ctx;
}

/** Parse a policy on save; MalformedPolicyDocument carries IAM's wording. */
function parseOrMalformed(
  text: string,
  kind: 'identity' | 'trust',
): PolicyDocument {
  try {
    return parsePolicyDocument(text, kind);
  } catch (e) {
    if (e instanceof MalformedPolicyError)
      throw new AwsError('MalformedPolicyDocument', e.message);
    throw e;
  }
}

function storeTrust(world: AwsWorld, text: string): string {
  // IAM counts the document without whitespace against the quota.
  if (text.replace(/\s/g, '').length > MAX_TRUST_POLICY_CHARS) {
    throw new AwsError(
      'LimitExceeded',
      `Cannot exceed quota for ACLSizePerRole: ${MAX_TRUST_POLICY_CHARS}`,
      { status: 409 },
    );
  }
  try {
    return world.storeTrustPolicy(text);
  } catch (e) {
    if (e instanceof MalformedPolicyError)
      throw new AwsError('MalformedPolicyDocument', e.message);
    throw e;
  }
}

function callerOf(ctx: QueryCallContext): Caller {
  if (!ctx.caller)
    throw new AwsError(
      'MissingAuthenticationToken',
      'Request is missing Authentication Token',
      { status: 403 },
    );
  return ctx.caller;
}

function authorize(
  ctx: QueryCallContext,
  action: string,
  resource: string,
  context?: RequestContext,
): void {
  const caller = callerOf(ctx);
  ctx.world.authorize(caller, action, resource, {
    region: ctx.region,
    resourceAccountId: caller.accountId,
    context,
  });
}

function ownAccount(ctx: QueryCallContext): AccountRecord {
  return ctx.world.requireAccount(callerOf(ctx).accountId);
}

/** Authorise an operation on an existing role (resource = its ARN). */
function roleFor(
  ctx: QueryCallContext,
  action: string,
  context: RequestContext = {},
): RoleRecord {
  const name = ctx.params.required('RoleName');
  const account = ownAccount(ctx);
  const role = account.roles[name.toLowerCase()];
  // The role's tags are aws:ResourceTag/* (ABAC on roles the portal manages).
  const resourceTags: RequestContext = {};
  for (const t of role?.tags ?? [])
    resourceTags[`aws:ResourceTag/${t.Key}`] = t.Value;
  authorize(ctx, action, role?.arn ?? roleArn(account.id, '/', name), {
    ...resourceTags,
    ...context,
  });
  if (!role) throw noSuchRole(name);
  return role;
}

function roleXml(
  world: AwsWorld,
  role: RoleRecord,
  detail: boolean,
): Record<string, XmlValue> {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    // Like AWS: the trust document is URL-encoded JSON.
    AssumeRolePolicyDocument: encodeURIComponent(
      world.renderTrustPolicy(role.trustPolicy),
    ),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    ...(detail
      ? {
          PermissionsBoundary: role.permissionsBoundaryArn
            ? {
                PermissionsBoundaryType: 'PermissionsBoundaryPolicy',
                PermissionsBoundaryArn: role.permissionsBoundaryArn,
              }
            : undefined,
          Tags: role.tags.length
            ? role.tags.map(t => ({ Key: t.Key, Value: t.Value }))
            : undefined,
          RoleLastUsed: role.lastUsed
            ? { LastUsedDate: role.lastUsed.date, Region: role.lastUsed.region }
            : {},
        }
      : {}),
  };
}

function requireBoundary(world: AwsWorld, arn: string): void {
  if (!world.managedPolicy(arn)) {
    throw new AwsError(
      'NoSuchEntity',
      `Scope ARN: ${arn} does not exist or is not attachable.`,
      { status: 404 },
    );
  }
}

/** Marker-based paging as IAM does it (Marker is opaque to clients). */
function page<T>(
  params: QueryParams,
  items: T[],
): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const start = params.optional('Marker')
    ? Number(params.optional('Marker'))
    : 0;
  const max = params.optionalInt('MaxItems') ?? 100;
  const slice = items.slice(start, start + max);
  const truncated = start + max < items.length;
  return {
    items: slice,
    IsTruncated: truncated,
    ...(truncated ? { Marker: String(start + max) } : {}),
  };
}

function oidcProvider(
  ctx: QueryCallContext,
  action: string,
): OidcProviderRecord {
  const arn = ctx.params.required('OpenIDConnectProviderArn');
  authorize(ctx, action, arn);
  const provider = ownAccount(ctx).oidcProviders[arn];
  if (!provider) {
    throw new AwsError(
      'NoSuchEntity',
      `OpenIDConnect Provider not found for arn ${arn}`,
      { status: 404 },
    );
  }
  return provider;
}

/** Issuer URL → the `host/path` IAM keys OIDC providers and trust conditions by. */
export function issuerHostPath(url: string): string {
  return url.replace(/^https?:\/\//, '').replace(/\/$/, '');
}

export const iamHandlers: Record<string, QueryHandler> = {
  CreateRole(ctx) {
    const { params, world } = ctx;
    const name = params.required('RoleName');
    validateRoleName(name);
    const path = params.optional('Path') ?? '/';
    validatePath(path);
    const account = ownAccount(ctx);
    const arn = roleArn(account.id, path, name);
    const tags = parseTags(params);
    const boundaryArn = params.optional('PermissionsBoundary');
    authorize(ctx, 'iam:CreateRole', arn, {
      ...tagContext(tags),
      ...(boundaryArn ? { 'iam:PermissionsBoundary': boundaryArn } : {}),
    });
    if (account.roles[name.toLowerCase()]) {
      throw new AwsError(
        'EntityAlreadyExists',
        `Role with name ${name} already exists.`,
        { status: 409 },
      );
    }
    const maxSessionDuration = params.optionalInt('MaxSessionDuration') ?? 3600;
    if (maxSessionDuration < 3600 || maxSessionDuration > 43200) {
      throw constraint(
        'maxSessionDuration',
        String(maxSessionDuration),
        'Member must have value between 3600 and 43200',
      );
    }
    if (boundaryArn) requireBoundary(world, boundaryArn);
    const trustPolicy = storeTrust(
      world,
      params.required('AssumeRolePolicyDocument'),
    );
    const role: RoleRecord = {
      roleName: name,
      path,
      roleId: newRoleId(),
      arn,
      createDate: world.now().toISOString(),
      trustPolicy,
      description: params.optional('Description'),
      maxSessionDuration,
      permissionsBoundaryArn: boundaryArn,
      tags: mergeTags([], tags),
      inlinePolicies: {},
      attachedPolicyArns: [],
    };
    account.roles[name.toLowerCase()] = role;
    world.persist();
    return { Role: roleXml(world, role, true) };
  },

  GetRole(ctx) {
    return { Role: roleXml(ctx.world, roleFor(ctx, 'iam:GetRole'), true) };
  },

  ListRoles(ctx) {
    authorize(ctx, 'iam:ListRoles', '*');
    const prefix = ctx.params.optional('PathPrefix') ?? '/';
    const roles = Object.values(ownAccount(ctx).roles)
      .filter(r => r.path.startsWith(prefix))
      .sort((a, b) => a.roleName.localeCompare(b.roleName));
    const { items, ...paging } = page(ctx.params, roles);
    return { Roles: items.map(r => roleXml(ctx.world, r, false)), ...paging };
  },

  DeleteRole(ctx) {
    const role = roleFor(ctx, 'iam:DeleteRole');
    if (Object.keys(role.inlinePolicies).length) {
      throw new AwsError(
        'DeleteConflict',
        'Cannot delete entity, must delete policies first.',
        { status: 409 },
      );
    }
    if (role.attachedPolicyArns.length) {
      throw new AwsError(
        'DeleteConflict',
        'Cannot delete entity, must detach all policies first.',
        { status: 409 },
      );
    }
    delete ownAccount(ctx).roles[role.roleName.toLowerCase()];
    ctx.world.persist();
    return undefined;
  },

  UpdateAssumeRolePolicy(ctx) {
    const role = roleFor(ctx, 'iam:UpdateAssumeRolePolicy');
    role.trustPolicy = storeTrust(
      ctx.world,
      ctx.params.required('PolicyDocument'),
    );
    ctx.world.persist();
    return undefined;
  },

  UpdateRole(ctx) {
    const role = roleFor(ctx, 'iam:UpdateRole');
    const description = ctx.params.optional('Description');
    const max = ctx.params.optionalInt('MaxSessionDuration');
    if (description !== undefined) role.description = description;
    if (max !== undefined) {
      if (max < 3600 || max > 43200) {
        throw constraint(
          'maxSessionDuration',
          String(max),
          'Member must have value between 3600 and 43200',
        );
      }
      role.maxSessionDuration = max;
    }
    ctx.world.persist();
    return {};
  },

  PutRolePolicy(ctx) {
    const role = roleFor(ctx, 'iam:PutRolePolicy');
    const policyName = ctx.params.required('PolicyName');
    if (!/^[\w+=,.@-]{1,128}$/.test(policyName)) {
      throw constraint(
        'policyName',
        policyName,
        'Member must satisfy regular expression pattern: [\\w+=,.@-]+',
      );
    }
    const text = ctx.params.required('PolicyDocument');
    parseOrMalformed(text, 'identity');
    role.inlinePolicies[policyName] = text;
    ctx.world.persist();
    return undefined;
  },

  GetRolePolicy(ctx) {
    const role = roleFor(ctx, 'iam:GetRolePolicy');
    const policyName = ctx.params.required('PolicyName');
    const doc = role.inlinePolicies[policyName];
    if (doc === undefined) {
      throw new AwsError(
        'NoSuchEntity',
        `The role policy with name ${policyName} cannot be found.`,
        { status: 404 },
      );
    }
    return {
      RoleName: role.roleName,
      PolicyName: policyName,
      PolicyDocument: encodeURIComponent(doc),
    };
  },

  ListRolePolicies(ctx) {
    const role = roleFor(ctx, 'iam:ListRolePolicies');
    const { items, ...paging } = page(
      ctx.params,
      Object.keys(role.inlinePolicies).sort(),
    );
    return { PolicyNames: items, ...paging };
  },

  DeleteRolePolicy(ctx) {
    const role = roleFor(ctx, 'iam:DeleteRolePolicy');
    const policyName = ctx.params.required('PolicyName');
    if (role.inlinePolicies[policyName] === undefined) {
      throw new AwsError(
        'NoSuchEntity',
        `The role policy with name ${policyName} cannot be found.`,
        { status: 404 },
      );
    }
    delete role.inlinePolicies[policyName];
    ctx.world.persist();
    return undefined;
  },

  TagRole(ctx) {
    const tags = parseTags(ctx.params);
    const role = roleFor(ctx, 'iam:TagRole', tagContext(tags));
    role.tags = mergeTags(role.tags, tags);
    ctx.world.persist();
    return undefined;
  },

  UntagRole(ctx) {
    const keys = ctx.params.list('TagKeys');
    const role = roleFor(
      ctx,
      'iam:UntagRole',
      keys.length ? { 'aws:TagKeys': keys } : {},
    );
    role.tags = role.tags.filter(t => !keys.includes(t.Key));
    ctx.world.persist();
    return undefined;
  },

  ListRoleTags(ctx) {
    const role = roleFor(ctx, 'iam:ListRoleTags');
    const { items, ...paging } = page(ctx.params, role.tags);
    return {
      Tags: items.map(t => ({ Key: t.Key, Value: t.Value })),
      ...paging,
    };
  },

  PutRolePermissionsBoundary(ctx) {
    const role = roleFor(ctx, 'iam:PutRolePermissionsBoundary');
    const arn = ctx.params.required('PermissionsBoundary');
    requireBoundary(ctx.world, arn);
    role.permissionsBoundaryArn = arn;
    ctx.world.persist();
    return undefined;
  },

  CreatePolicy(ctx) {
    const name = ctx.params.required('PolicyName');
    const path = ctx.params.optional('Path') ?? '/';
    validatePath(path);
    const account = ownAccount(ctx);
    const arn = `arn:aws:iam::${account.id}:policy${path}${name}`;
    authorize(ctx, 'iam:CreatePolicy', arn);
    if (account.policies[arn]) {
      throw new AwsError(
        'EntityAlreadyExists',
        `A policy called ${name} already exists. Duplicate names are not allowed.`,
        { status: 409 },
      );
    }
    const doc = parseOrMalformed(
      ctx.params.required('PolicyDocument'),
      'identity',
    );
    const record = ctx.world.createManagedPolicy(account.id, name, doc, path);
    return {
      Policy: {
        PolicyName: record.policyName,
        PolicyId: record.policyId,
        Arn: record.arn,
        Path: record.path,
        DefaultVersionId: 'v1',
        AttachmentCount: 0,
        IsAttachable: true,
        CreateDate: record.createDate,
        UpdateDate: record.createDate,
      },
    };
  },

  AttachRolePolicy(ctx) {
    const role = roleFor(ctx, 'iam:AttachRolePolicy');
    const arn = ctx.params.required('PolicyArn');
    if (!ctx.world.managedPolicy(arn)) {
      throw new AwsError(
        'NoSuchEntity',
        `Policy ${arn} does not exist or is not attachable.`,
        { status: 404 },
      );
    }
    if (!role.attachedPolicyArns.includes(arn))
      role.attachedPolicyArns.push(arn);
    ctx.world.persist();
    return undefined;
  },

  DetachRolePolicy(ctx) {
    const role = roleFor(ctx, 'iam:DetachRolePolicy');
    const arn = ctx.params.required('PolicyArn');
    if (!role.attachedPolicyArns.includes(arn)) {
      throw new AwsError('NoSuchEntity', `Policy ${arn} was not found.`, {
        status: 404,
      });
    }
    role.attachedPolicyArns = role.attachedPolicyArns.filter(a => a !== arn);
    ctx.world.persist();
    return undefined;
  },

  ListAttachedRolePolicies(ctx) {
    const role = roleFor(ctx, 'iam:ListAttachedRolePolicies');
    const { items, ...paging } = page(ctx.params, role.attachedPolicyArns);
    return {
      AttachedPolicies: items.map(arn => ({
        PolicyName: arn.split('/').pop(),
        PolicyArn: arn,
      })),
      ...paging,
    };
  },

  CreateOpenIDConnectProvider(ctx) {
    const url = ctx.params.required('Url');
    // AWS demands https; the stand-in also accepts plain http on loopback so a
    // local Kubernetes stand-in without TLS can be the cluster's issuer.
    const loopbackHttp =
      /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);
    if (
      !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(url) ||
      (url.startsWith('http:') && !loopbackHttp)
    ) {
      throw new AwsError(
        'InvalidInput',
        `Invalid value for parameter Url: ${url}; it must start with https://`,
      );
    }
    const hostPath = issuerHostPath(url);
    const account = ownAccount(ctx);
    const arn = `arn:aws:iam::${account.id}:oidc-provider/${hostPath}`;
    const tags = parseTags(ctx.params);
    authorize(ctx, 'iam:CreateOpenIDConnectProvider', arn, tagContext(tags));
    if (account.oidcProviders[arn]) {
      throw new AwsError(
        'EntityAlreadyExists',
        `Provider with url ${url} already exists.`,
        { status: 409 },
      );
    }
    account.oidcProviders[arn] = {
      arn,
      url: hostPath,
      clientIds: ctx.params.list('ClientIDList'),
      thumbprints: ctx.params.list('ThumbprintList'),
      tags,
      createDate: ctx.world.now().toISOString(),
    };
    ctx.world.persist();
    return {
      OpenIDConnectProviderArn: arn,
      Tags: tags.length ? tags.map(t => ({ ...t })) : undefined,
    };
  },

  GetOpenIDConnectProvider(ctx) {
    const provider = oidcProvider(ctx, 'iam:GetOpenIDConnectProvider');
    return {
      Url: provider.url,
      ClientIDList: provider.clientIds,
      ThumbprintList: provider.thumbprints,
      CreateDate: provider.createDate,
      Tags: provider.tags.length
        ? provider.tags.map(t => ({ ...t }))
        : undefined,
    };
  },

  ListOpenIDConnectProviders(ctx) {
    authorize(ctx, 'iam:ListOpenIDConnectProviders', '*');
    return {
      OpenIDConnectProviderList: Object.keys(ownAccount(ctx).oidcProviders)
        .sort()
        .map(Arn => ({ Arn })),
    };
  },

  DeleteOpenIDConnectProvider(ctx) {
    const provider = oidcProvider(ctx, 'iam:DeleteOpenIDConnectProvider');
    delete ownAccount(ctx).oidcProviders[provider.arn];
    ctx.world.persist();
    return undefined;
  },

  SimulatePrincipalPolicy(ctx) {
    return simulatePrincipalPolicy(ctx);
  },
};

/** PolicySourceType values IAM reports for matched statements. */
const SOURCE_POLICY_TYPE = {
  boundary: 'user-managed',
  resource: 'resource',
} as const;

const SIMULATE_DECISION = {
  allowed: 'allowed',
  implicitDeny: 'implicitDeny',
  explicitDeny: 'explicitDeny',
} as const;

/**
 * SimulatePrincipalPolicy: evaluate the identity policies of a user or role
 * (plus PolicyInputList, optional ResourcePolicy and ContextEntries) for
 * every action × resource, without performing anything.
 */
function simulatePrincipalPolicy(
  ctx: QueryCallContext,
): Record<string, XmlValue> {
  const { params, world } = ctx;
  const sourceArn = params.required('PolicySourceArn');
  authorize(ctx, 'iam:SimulatePrincipalPolicy', sourceArn);
  const parsed = parseArn(sourceArn);
  const account = parsed ? world.account(parsed.account) : undefined;
  const [kind, ...rest] = parsed?.resource.split('/') ?? [];
  const name = rest.pop()?.toLowerCase() ?? '';
  let entity: RoleRecord | UserRecord | undefined;
  if (kind === 'role') entity = account?.roles[name];
  else if (kind === 'user') entity = account?.users[name];
  if (!parsed || !account || !entity || entity.arn !== sourceArn) {
    throw new AwsError(
      'NoSuchEntity',
      `PolicySourceArn ${sourceArn} does not name an existing user or role.`,
      { status: 404 },
    );
  }
  const toNamed =
    (prefix: string) =>
    (text: string, i: number): NamedPolicy => ({
      name: `${prefix}${i + 1}`,
      document: parseOrMalformed(text, 'identity'),
    });
  const identity: NamedPolicy[] = [
    ...Object.entries(entity.inlinePolicies).map(([n, doc]) => ({
      name: n,
      document: JSON.parse(doc),
    })),
    ...entity.attachedPolicyArns.flatMap(arn => {
      const document = world.managedPolicy(arn);
      return document ? [{ name: arn, document }] : [];
    }),
    ...params.list('PolicyInputList').map(toNamed('PolicyInputList.')),
  ];
  const boundaryInputs = params
    .list('PermissionsBoundaryPolicyInputList')
    .map(toNamed('PermissionsBoundaryPolicyInputList.'));
  const roleBoundary =
    'roleId' in entity && entity.permissionsBoundaryArn
      ? world.managedPolicy(entity.permissionsBoundaryArn)
      : undefined;
  const boundary: NamedPolicy | undefined =
    boundaryInputs[0] ??
    (roleBoundary
      ? { name: 'PermissionsBoundary', document: roleBoundary }
      : undefined);

  let resourcePolicy: NamedPolicy | undefined;
  const resourcePolicyText = params.optional('ResourcePolicy');
  if (resourcePolicyText) {
    try {
      resourcePolicy = {
        name: 'ResourcePolicy',
        document: parsePolicyDocument(resourcePolicyText, 'resource'),
      };
    } catch (e) {
      if (e instanceof MalformedPolicyError)
        throw new AwsError('MalformedPolicyDocument', e.message);
      throw e;
    }
  }
  const context: RequestContext = {};
  for (const entry of params.structList('ContextEntries')) {
    const values = entry.list('ContextKeyValues');
    const type = entry.optional('ContextKeyType') ?? 'string';
    context[entry.required('ContextKeyName')] = type.endsWith('List')
      ? values
      : values[0];
  }
  // Like IAM: CallerArn can only name an IAM user, and a resource policy
  // needs a caller for its Principal element, so a role (or group) as
  // policy source with a ResourcePolicy requires a user as CallerArn.
  const callerArn = params.optional('CallerArn');
  const caller = callerArn ? parseArn(callerArn) : undefined;
  if (
    callerArn &&
    (!caller ||
      caller.service !== 'iam' ||
      !caller.resource.startsWith('user/'))
  ) {
    throw new AwsError(
      'InvalidInput',
      `Invalid CallerArn ${callerArn}: you can specify only the ARN of an IAM user, not an assumed role, federated user or service principal.`,
    );
  }
  if (resourcePolicy && !callerArn && kind !== 'user') {
    throw new AwsError(
      'InvalidInput',
      'CallerArn is required if you include a ResourcePolicy and the PolicySourceArn is not the ARN of an IAM user.',
    );
  }
  const callerUser = caller
    ? world.account(caller.account)?.users[
        caller.resource.split('/').pop()!.toLowerCase()
      ]
    : undefined;
  let principal: RequestPrincipal;
  if (caller)
    principal = {
      kind: 'user',
      arn: callerArn!,
      accountId: caller.account,
      uniqueId: callerUser?.userId,
    };
  else if ('roleId' in entity) {
    principal = {
      kind: 'assumed-role',
      arn: `arn:aws:sts::${account.id}:assumed-role/${entity.roleName}/simulation`,
      roleArn: entity.arn,
      accountId: account.id,
      uniqueId: entity.roleId,
    };
  } else
    principal = {
      kind: 'user',
      arn: entity.arn,
      accountId: account.id,
      uniqueId: entity.userId,
    };
  const ownerParam = params.optional('ResourceOwner');
  const resources = params.list('ResourceArns');
  const actions = params.list('ActionNames');
  if (!actions.length)
    throw constraint('actionNames', 'null', 'Member must not be null');

  const results = actions.flatMap(action =>
    (resources.length ? resources : ['*']).map(resource => {
      // Like IAM's simulator: without a ResourcePolicy only the identity
      // policies (and boundary) decide, also for another account's resource;
      // and trust policies are never evaluated for sts:AssumeRole*, even when
      // given as ResourcePolicy (aws/aws-cli#10314).
      const trustIgnored = /^sts:AssumeRole/i.test(action);
      const evaluated = trustIgnored ? undefined : resourcePolicy;
      let owner: string | undefined = account.id;
      if (evaluated)
        owner = ownerParam
          ? parseArn(ownerParam)?.account
          : parseArn(resource)?.account || account.id;
      const result = evaluatePolicies({
        principal,
        action,
        resource,
        resourceAccountId: owner,
        identityPolicies: identity,
        permissionsBoundary: boundary,
        resourcePolicy: evaluated,
        context: {
          'aws:PrincipalArn': entity.arn,
          'aws:PrincipalAccount': account.id,
          ...context,
        },
      });
      return {
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: SIMULATE_DECISION[result.decision],
        MatchedStatements: result.matchedStatements.map(m => ({
          SourcePolicyId: m.policy,
          SourcePolicyType:
            m.source === 'identity' ? kind : SOURCE_POLICY_TYPE[m.source],
        })),
        MissingContextValues: [],
      };
    }),
  );
  return { EvaluationResults: results, IsTruncated: false };
}
