/*
 * IAM policy documents: the JSON grammar, parsing and the validation IAM does
 * when a document is saved (CreateRole, PutRolePolicy, SetQueueAttributes …).
 *
 * Error messages mirror the ones IAM returns in `MalformedPolicyDocument`, so
 * a test that saves a broken document sees what a person would see in AWS.
 */

/** A principal block as written in a policy (`"*"` or `{ AWS: …, Federated: … }`). */
export type PrincipalBlock = '*' | Record<string, string | string[]>;

/** Condition block: operator → context key → value(s). */
export type ConditionBlock = Record<
  string,
  Record<string, string | boolean | number | Array<string | boolean | number>>
>;

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: PrincipalBlock;
  NotPrincipal?: PrincipalBlock;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement[];
}

/**
 * Where a document is used decides which fields IAM demands or forbids:
 * identity policies (inline, managed, boundaries) name no principal, trust
 * and resource policies must name one, and trust policies carry no Resource.
 */
export type PolicyKind = 'identity' | 'trust' | 'resource';

/** Thrown for a document IAM would reject; `message` is IAM's wording. */
export class MalformedPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedPolicyError';
  }
}

const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

const PRINCIPAL_TYPES = new Set([
  'AWS',
  'Federated',
  'Service',
  'CanonicalUser',
]);

/** Normalise a scalar-or-array field to an array. */
export function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Parse and validate a policy document the way IAM does on save.
 * Statement may be a single object in JSON; it is normalised to an array.
 */
export function parsePolicyDocument(
  text: string,
  kind: PolicyKind,
): PolicyDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MalformedPolicyError('Syntax errors in policy.');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MalformedPolicyError('Syntax errors in policy.');
  }
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!['Version', 'Id', 'Statement'].includes(key)) {
      throw new MalformedPolicyError(
        `Policy document has unknown field ${key}`,
      );
    }
  }
  if (
    doc.Version !== undefined &&
    doc.Version !== '2012-10-17' &&
    doc.Version !== '2008-10-17'
  ) {
    throw new MalformedPolicyError(
      'The policy must contain a valid version string',
    );
  }
  if (doc.Statement === undefined) {
    throw new MalformedPolicyError('Missing required field Statement');
  }
  const statements = asList(doc.Statement as unknown);
  if (statements.length === 0) {
    throw new MalformedPolicyError(
      'Policy statement must contain at least one statement',
    );
  }
  const parsed = statements.map(s => validateStatement(s, kind));
  return {
    ...(doc.Version ? { Version: doc.Version as string } : {}),
    ...(doc.Id ? { Id: doc.Id as string } : {}),
    Statement: parsed,
  };
}

function validateStatement(raw: unknown, kind: PolicyKind): PolicyStatement {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MalformedPolicyError('Syntax errors in policy.');
  }
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!STATEMENT_FIELDS.has(key)) {
      throw new MalformedPolicyError(`Statement has unknown field ${key}`);
    }
  }
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
    throw new MalformedPolicyError(
      s.Effect === undefined
        ? 'Missing required field Effect'
        : `Invalid effect: ${String(s.Effect)}`,
    );
  }
  if (s.Action === undefined && s.NotAction === undefined) {
    throw new MalformedPolicyError('Missing required field Action');
  }
  if (s.Action !== undefined && s.NotAction !== undefined) {
    throw new MalformedPolicyError(
      'Statement cannot have both Action and NotAction',
    );
  }
  for (const action of [
    ...asList(s.Action as any),
    ...asList(s.NotAction as any),
  ]) {
    if (
      typeof action !== 'string' ||
      (action !== '*' && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(action))
    ) {
      throw new MalformedPolicyError(
        `Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`,
      );
    }
  }
  const hasPrincipal =
    s.Principal !== undefined || s.NotPrincipal !== undefined;
  const hasResource = s.Resource !== undefined || s.NotResource !== undefined;
  if (kind === 'identity') {
    if (hasPrincipal)
      throw new MalformedPolicyError(
        'Policy document should not specify a principal.',
      );
    if (!hasResource)
      throw new MalformedPolicyError(
        'Policy statement must contain resources.',
      );
  } else {
    if (!hasPrincipal)
      throw new MalformedPolicyError('Missing required field Principal');
    if (kind === 'trust' && hasResource) {
      throw new MalformedPolicyError('Has prohibited field Resource');
    }
  }
  for (const field of ['Principal', 'NotPrincipal'] as const) {
    if (s[field] !== undefined) validatePrincipalBlock(s[field]);
  }
  for (const resource of [
    ...asList(s.Resource as any),
    ...asList(s.NotResource as any),
  ]) {
    if (
      typeof resource !== 'string' ||
      (resource !== '*' && !resource.startsWith('arn:'))
    ) {
      throw new MalformedPolicyError(
        `Resource ${String(resource)} must be in ARN format or "*".`,
      );
    }
  }
  if (s.Condition !== undefined) {
    if (
      !s.Condition ||
      typeof s.Condition !== 'object' ||
      Array.isArray(s.Condition)
    ) {
      throw new MalformedPolicyError('Syntax errors in policy.');
    }
    for (const block of Object.values(s.Condition as object)) {
      if (!block || typeof block !== 'object' || Array.isArray(block)) {
        throw new MalformedPolicyError('Syntax errors in policy.');
      }
    }
  }
  return s as unknown as PolicyStatement;
}

function validatePrincipalBlock(block: unknown): void {
  if (block === '*') return;
  if (!block || typeof block !== 'object' || Array.isArray(block)) {
    throw new MalformedPolicyError('Invalid principal in policy');
  }
  for (const [type, values] of Object.entries(block)) {
    if (!PRINCIPAL_TYPES.has(type)) {
      throw new MalformedPolicyError(`Invalid principal in policy: "${type}"`);
    }
    for (const value of asList(values as unknown)) {
      if (typeof value !== 'string' || value.length === 0) {
        throw new MalformedPolicyError(
          `Invalid principal in policy: "${type}":${JSON.stringify(value)}`,
        );
      }
    }
  }
}

/** Every principal value of a given type (e.g. all `AWS` principals) in a document. */
export function principalValues(doc: PolicyDocument, type: string): string[] {
  const out: string[] = [];
  for (const s of doc.Statement) {
    for (const block of [s.Principal, s.NotPrincipal]) {
      if (block && block !== '*') out.push(...asList(block[type]));
    }
  }
  return out;
}

/**
 * Rewrite principal values of one type, keeping the document's shape
 * (scalar stays scalar). Used to store role principals by unique id.
 */
export function mapPrincipals(
  doc: PolicyDocument,
  type: string,
  fn: (value: string) => string,
): PolicyDocument {
  const mapBlock = (block: PrincipalBlock | undefined) => {
    if (!block || block === '*' || block[type] === undefined) return block;
    const v = block[type];
    return { ...block, [type]: Array.isArray(v) ? v.map(fn) : fn(v) };
  };
  return {
    ...doc,
    Statement: doc.Statement.map(s => {
      const out: PolicyStatement = { ...s };
      if (s.Principal) out.Principal = mapBlock(s.Principal);
      if (s.NotPrincipal) out.NotPrincipal = mapBlock(s.NotPrincipal);
      return out;
    }),
  };
}
