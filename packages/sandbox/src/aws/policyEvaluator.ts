/*
 * IAM policy evaluation: the subset of the AWS evaluation logic the KEDA
 * journey depends on (identity policies, permissions boundaries, resource
 * policies such as role trust and SQS queue policies, explicit deny,
 * same-account vs cross-account rules, role trust policies that must allow
 * the caller even in the same account, the common condition operators).
 *
 * Reference: "Policy evaluation logic" and "Cross-account policy evaluation
 * logic" in the IAM user guide. The tests cross-check decisions against
 * @cloud-copilot/iam-simulate.
 */
import {
  asList,
  PolicyDocument,
  PolicyStatement,
  PrincipalBlock,
} from './policyDocument';

export type ContextValue = string | string[];
/** Request context keys (case-insensitive names, like IAM). */
export type RequestContext = Record<string, ContextValue>;

export type PrincipalKind =
  | 'root'
  | 'user'
  | 'assumed-role'
  | 'web-identity'
  | 'service'
  | 'anonymous';

/** Who makes the request, in the terms resource-policy principals match on. */
export interface RequestPrincipal {
  kind: PrincipalKind;
  /** The caller ARN (user, root, or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`). */
  arn: string;
  accountId?: string;
  /** For assumed-role sessions: the ARN of the role. */
  roleArn?: string;
  /**
   * Unique id of the user (AIDA…) or role (AROA…). IAM stores principals of
   * saved resource policies by this id, so a recreated role does not match.
   */
  uniqueId?: string;
  /** For web identity: the identity provider ARN (`arn:aws:iam::<acct>:oidc-provider/<host/path>`). */
  federatedProvider?: string;
  /** For service principals: e.g. `eks.amazonaws.com`. */
  service?: string;
}

export interface NamedPolicy {
  /** A label used in results ("inline policy keda-sqs of role x", "trust policy" …). */
  name: string;
  document: PolicyDocument;
}

export interface EvaluationRequest {
  principal: RequestPrincipal;
  action: string;
  resource: string;
  /** The account owning the resource; decides same- vs cross-account evaluation. */
  resourceAccountId?: string;
  context?: RequestContext;
  identityPolicies?: NamedPolicy[];
  /** Managed policy set as the principal's permissions boundary. */
  permissionsBoundary?: NamedPolicy;
  /**
   * Resource-based policy (role trust policy, queue policy …). For `sts:`
   * actions it is the role's trust policy, which must allow the caller even
   * in the same account (see resourcePolicyIsGate).
   */
  resourcePolicy?: NamedPolicy;
}

export type EvalDecision = 'allowed' | 'implicitDeny' | 'explicitDeny';

export interface MatchedStatement {
  policy: string;
  sid?: string;
  effect: 'Allow' | 'Deny';
  source: 'identity' | 'boundary' | 'resource';
}

export interface EvaluationResult {
  decision: EvalDecision;
  matchedStatements: MatchedStatement[];
  /**
   * Why the request was denied, in AWS's words, e.g. "because no
   * identity-based policy allows the sqs:GetQueueAttributes action".
   * Empty when allowed.
   */
  reason: string;
}

/** How a resource policy's Principal matched the caller; decides same-account rules. */
type PrincipalMatch = 'none' | 'account' | 'role' | 'exact';

/** Evaluate one request against the given policies. Pure function. */
export function evaluatePolicies(req: EvaluationRequest): EvaluationResult {
  const context = lowerKeys(req.context ?? {});
  const matched: MatchedStatement[] = [];
  const { principal } = req;
  const hasIdentity =
    principal.kind !== 'web-identity' &&
    principal.kind !== 'service' &&
    principal.kind !== 'anonymous';

  const collect = (
    source: MatchedStatement['source'],
    policy: NamedPolicy,
    checkPrincipal: boolean,
  ) => {
    const hits: Array<{ statement: PolicyStatement; match: PrincipalMatch }> =
      [];
    for (const statement of policy.document.Statement) {
      if (!actionMatches(statement, req.action)) continue;
      if (!resourceMatches(statement, req.resource, source === 'resource'))
        continue;
      let match: PrincipalMatch = 'exact';
      if (checkPrincipal) {
        match = statementPrincipalMatch(statement, principal);
        if (match === 'none') continue;
      }
      if (!conditionsMatch(statement.Condition, context)) continue;
      hits.push({ statement, match });
      matched.push({
        policy: policy.name,
        sid: statement.Sid,
        effect: statement.Effect,
        source,
      });
    }
    return hits;
  };

  const identityHits = hasIdentity
    ? (req.identityPolicies ?? []).flatMap(p => collect('identity', p, false))
    : [];
  const boundaryHits =
    hasIdentity && req.permissionsBoundary
      ? collect('boundary', req.permissionsBoundary, false)
      : [];
  const resourceHits = req.resourcePolicy
    ? collect('resource', req.resourcePolicy, true)
    : [];

  const denied = [...identityHits, ...boundaryHits, ...resourceHits].some(
    h => h.statement.Effect === 'Deny',
  );
  const deniedIn = (hits: typeof identityHits) =>
    hits.some(h => h.statement.Effect === 'Deny');
  if (denied) {
    let where = 'resource-based policy';
    if (deniedIn(identityHits)) where = 'identity-based policy';
    else if (deniedIn(boundaryHits)) where = 'permissions boundary';
    return {
      decision: 'explicitDeny',
      matchedStatements: matched,
      reason: `with an explicit deny in a ${where}`,
    };
  }

  // The root user is not subject to identity policies or boundaries.
  const identityAllows =
    principal.kind === 'root' ||
    identityHits.some(h => h.statement.Effect === 'Allow');
  const boundaryAllows =
    principal.kind === 'root' ||
    !req.permissionsBoundary ||
    boundaryHits.some(h => h.statement.Effect === 'Allow');
  const resourceMatch = resourceHits
    .filter(h => h.statement.Effect === 'Allow')
    .reduce<PrincipalMatch>((best, h) => strongerMatch(best, h.match), 'none');

  const allow = (): EvaluationResult => ({
    decision: 'allowed',
    matchedStatements: matched,
    reason: '',
  });
  const deny = (reason: string): EvaluationResult => ({
    decision: 'implicitDeny',
    matchedStatements: matched,
    reason,
  });
  const noIdentity = `because no identity-based policy allows the ${req.action} action`;
  const noBoundary = `because no permissions boundary allows the ${req.action} action`;
  const noResource = `because no resource-based policy allows the ${req.action} action`;

  if (!hasIdentity) {
    return resourceMatch !== 'none' ? allow() : deny(noResource);
  }

  const sameAccount =
    req.resourceAccountId === undefined ||
    req.resourceAccountId === principal.accountId;
  if (sameAccount) {
    // A same-account resource policy naming the exact user or session grants
    // on its own; naming the role still goes through the boundary; naming the
    // account delegates to identity policies.
    if (resourceMatch === 'exact') return allow();
    if (resourceMatch === 'role')
      return boundaryAllows ? allow() : deny(noBoundary);
    // A role trust policy must allow the caller even in the same account: an
    // identity Allow counts only once the trust names the caller's account.
    if (
      resourceMatch === 'none' &&
      req.resourcePolicy &&
      resourcePolicyIsGate(req.action)
    ) {
      return deny(noResource);
    }
    if (!identityAllows) return deny(noIdentity);
    if (!boundaryAllows) return deny(noBoundary);
    return allow();
  }
  // Cross-account: both sides must allow.
  if (!identityAllows) return deny(noIdentity);
  if (!boundaryAllows) return deny(noBoundary);
  if (resourceMatch === 'none') return deny(noResource);
  return allow();
}

/**
 * Whether the resource policy must allow the caller in the same account too.
 * For most services an Allow in either the identity or the resource policy
 * is enough within one account, but "IAM role trust policies and KMS key
 * policies are exceptions to this logic, because they must explicitly allow
 * access for principals" (IAM user guide, "Policy evaluation for requests
 * within a single account"). STS actions (sts:AssumeRole, sts:TagSession …)
 * are the ones evaluated against a role trust policy; KMS is not modelled.
 */
function resourcePolicyIsGate(action: string): boolean {
  return action.toLowerCase().startsWith('sts:');
}

const MATCH_RANK: Record<PrincipalMatch, number> = {
  none: 0,
  account: 1,
  role: 2,
  exact: 3,
};
function strongerMatch(a: PrincipalMatch, b: PrincipalMatch): PrincipalMatch {
  return MATCH_RANK[b] > MATCH_RANK[a] ? b : a;
}

// ---------------------------------------------------------------- matching

const GLOB_TOKENS: Record<string, string> = { '*': '.*', '?': '.' };

/** Glob with `*` and `?` (IAM's only wildcards). */
export function wildcardMatch(
  pattern: string,
  value: string,
  ignoreCase = false,
): boolean {
  const escaped = pattern
    .split('')
    .map(c => GLOB_TOKENS[c] ?? c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))
    .join('');
  return new RegExp(`^${escaped}$`, ignoreCase ? 'is' : 's').test(value);
}

function actionMatches(s: PolicyStatement, action: string): boolean {
  if (s.Action !== undefined) {
    return asList(s.Action).some(p => wildcardMatch(p, action, true));
  }
  return !asList(s.NotAction).some(p => wildcardMatch(p, action, true));
}

/** ARN match segment by segment, so a wildcard does not swallow the account field. */
export function arnMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  const a = splitArn(arn);
  if (!p || !a) return wildcardMatch(pattern, arn);
  return p.every((seg, i) => wildcardMatch(seg, a[i]));
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

function resourceMatches(
  s: PolicyStatement,
  resource: string,
  resourcePolicy: boolean,
): boolean {
  if (s.Resource !== undefined)
    return asList(s.Resource).some(p => arnMatches(p, resource));
  if (s.NotResource !== undefined)
    return !asList(s.NotResource).some(p => arnMatches(p, resource));
  // Trust policies have no Resource: the statement applies to the role itself.
  return resourcePolicy;
}

function statementPrincipalMatch(
  s: PolicyStatement,
  principal: RequestPrincipal,
): PrincipalMatch {
  if (s.Principal !== undefined)
    return principalBlockMatch(s.Principal, principal);
  if (s.NotPrincipal !== undefined) {
    return principalBlockMatch(s.NotPrincipal, principal) === 'none'
      ? 'account'
      : 'none';
  }
  return 'none';
}

function principalBlockMatch(
  block: PrincipalBlock,
  principal: RequestPrincipal,
): PrincipalMatch {
  if (block === '*') return 'exact';
  let best: PrincipalMatch = 'none';
  for (const [type, values] of Object.entries(block)) {
    for (const value of asList(values)) {
      best = strongerMatch(best, principalValueMatch(type, value, principal));
    }
  }
  return best;
}

function principalValueMatch(
  type: string,
  value: string,
  p: RequestPrincipal,
): PrincipalMatch {
  if (type === 'Federated') {
    return p.kind === 'web-identity' && p.federatedProvider === value
      ? 'exact'
      : 'none';
  }
  if (type === 'Service') {
    return p.kind === 'service' && p.service === value ? 'exact' : 'none';
  }
  if (type !== 'AWS') return 'none';
  if (
    p.kind === 'web-identity' ||
    p.kind === 'service' ||
    p.kind === 'anonymous'
  ) {
    return value === '*' ? 'exact' : 'none';
  }
  if (value === '*') return 'exact';
  if (/^\d{12}$/.test(value) || /^arn:[^:]+:iam::\d{12}:root$/.test(value)) {
    const account = value.length === 12 ? value : value.split(':')[4];
    return account === p.accountId ? 'account' : 'none';
  }
  // Unique ids: a saved policy names users and roles by id, not by ARN.
  if (/^(AROA|AIDA)[A-Z0-9]+$/.test(value)) {
    if (value !== p.uniqueId) return 'none';
    return p.kind === 'assumed-role' ? 'role' : 'exact';
  }
  if (value === p.arn) return 'exact';
  if (p.kind === 'assumed-role' && value === p.roleArn) return 'role';
  return 'none';
}

// -------------------------------------------------------------- conditions

function lowerKeys(ctx: RequestContext): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(ctx)) out[k.toLowerCase()] = asList(v);
  return out;
}

type ValueTest = (policyValue: string, contextValue: string) => boolean;

const BASE_OPERATORS: Record<string, { test: ValueTest; negated: boolean }> = {
  stringequals: { test: (p, c) => p === c, negated: false },
  stringnotequals: { test: (p, c) => p === c, negated: true },
  stringequalsignorecase: {
    test: (p, c) => p.toLowerCase() === c.toLowerCase(),
    negated: false,
  },
  stringnotequalsignorecase: {
    test: (p, c) => p.toLowerCase() === c.toLowerCase(),
    negated: true,
  },
  stringlike: { test: (p, c) => wildcardMatch(p, c), negated: false },
  stringnotlike: { test: (p, c) => wildcardMatch(p, c), negated: true },
  arnequals: { test: (p, c) => arnMatches(p, c), negated: false },
  arnlike: { test: (p, c) => arnMatches(p, c), negated: false },
  arnnotequals: { test: (p, c) => arnMatches(p, c), negated: true },
  arnnotlike: { test: (p, c) => arnMatches(p, c), negated: true },
  bool: { test: (p, c) => p.toLowerCase() === c.toLowerCase(), negated: false },
  numericequals: { test: (p, c) => Number(p) === Number(c), negated: false },
  numericnotequals: { test: (p, c) => Number(p) === Number(c), negated: true },
  numericlessthan: { test: (p, c) => Number(c) < Number(p), negated: false },
  numericlessthanequals: {
    test: (p, c) => Number(c) <= Number(p),
    negated: false,
  },
  numericgreaterthan: { test: (p, c) => Number(c) > Number(p), negated: false },
  numericgreaterthanequals: {
    test: (p, c) => Number(c) >= Number(p),
    negated: false,
  },
};

/** Thrown for condition operators the stand-in does not model, so nothing silently passes. */
export class UnsupportedConditionError extends Error {}

function conditionsMatch(
  condition: PolicyStatement['Condition'],
  ctx: Record<string, string[]>,
): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) =>
      conditionMatches(
        operator,
        ctx[key.toLowerCase()],
        asList(values).map(String),
      ),
    ),
  );
}

function conditionMatches(
  rawOperator: string,
  contextValues: string[] | undefined,
  policyValues: string[],
): boolean {
  let operator = rawOperator.toLowerCase();
  let setMode: 'any' | 'all' | undefined;
  if (operator.startsWith('foranyvalue:')) {
    setMode = 'any';
    operator = operator.slice('foranyvalue:'.length);
  } else if (operator.startsWith('forallvalues:')) {
    setMode = 'all';
    operator = operator.slice('forallvalues:'.length);
  }
  const ifExists = operator.endsWith('ifexists');
  if (ifExists) operator = operator.slice(0, -'ifexists'.length);
  const present = contextValues !== undefined && contextValues.length > 0;

  if (operator === 'null') {
    const wantsAbsent = policyValues.some(v => v.toLowerCase() === 'true');
    return wantsAbsent ? !present : present;
  }
  const op = BASE_OPERATORS[operator];
  if (!op)
    throw new UnsupportedConditionError(
      `Unsupported condition operator ${rawOperator}`,
    );

  if (!present) {
    if (ifExists) return true;
    if (setMode === 'all') return true;
    if (setMode === 'any') return false;
    return op.negated;
  }
  const valueMatches = (c: string) => policyValues.some(p => op.test(p, c));
  if (setMode === 'all') {
    return contextValues.every(c =>
      op.negated ? !valueMatches(c) : valueMatches(c),
    );
  }
  if (op.negated) {
    if (setMode === 'any') return contextValues.some(c => !valueMatches(c));
    return !contextValues.some(valueMatches);
  }
  return contextValues.some(valueMatches);
}
