/*
 * IAM Access Analyzer policy checks (REST-JSON, SigV4 service name
 * `access-analyzer`): ValidatePolicy (`POST /policy/validation`),
 * CheckAccessNotGranted (`POST /policy/check-access-not-granted`) and
 * CheckNoPublicAccess (`POST /policy/check-no-public-access`), with AWS's
 * request and response shapes and limits. Every call is authorised like in
 * AWS (`access-analyzer:<Operation>` on `*`; AccessDeniedException).
 *
 * The analysis is simpler than AWS's automated reasoning; README.md lists
 * where (a handful of finding types, structural matching).
 */
import {
  asList,
  MalformedPolicyError,
  parsePolicyDocument,
  PolicyDocument,
  PolicyKind,
  PolicyStatement,
} from './policyDocument';
import { arnMatches, wildcardMatch } from './policyEvaluator';
import { AwsError } from './wire';
import { AwsWorld, Caller } from './world';

export interface AccessAnalyzerCallContext {
  world: AwsWorld;
  caller: Caller;
  region: string;
  /** the JSON body */
  input: Record<string, unknown>;
  /** query string parameters (ValidatePolicy: maxResults, nextToken) */
  query: Record<string, string | undefined>;
}

export type AccessAnalyzerHandler = (
  ctx: AccessAnalyzerCallContext,
) => Record<string, unknown>;

/** `POST <path>` → operation name. */
export const ACCESS_ANALYZER_ROUTES: Record<string, string> = {
  '/policy/validation': 'ValidatePolicy',
  '/policy/check-access-not-granted': 'CheckAccessNotGranted',
  '/policy/check-no-public-access': 'CheckNoPublicAccess',
};

// Limits from the Access Analyzer API reference.
const MAX_ACCESS_ENTRIES = 1;
const MAX_ACCESS_ITEMS = 100;
const MAX_RESOURCE_LENGTH = 2048;
const MAX_VALIDATE_RESULTS = 100;

const VALIDATE_POLICY_TYPES = [
  'IDENTITY_POLICY',
  'RESOURCE_POLICY',
  'SERVICE_CONTROL_POLICY',
  'RESOURCE_CONTROL_POLICY',
];
const CHECK_POLICY_TYPES = ['IDENTITY_POLICY', 'RESOURCE_POLICY'];
const VALIDATE_RESOURCE_TYPES = [
  'AWS::S3::Bucket',
  'AWS::S3::AccessPoint',
  'AWS::S3::MultiRegionAccessPoint',
  'AWS::S3ObjectLambda::AccessPoint',
  'AWS::IAM::AssumeRolePolicyDocument',
  'AWS::DynamoDB::Table',
];
const PUBLIC_ACCESS_RESOURCE_TYPES = [
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::Stream',
  'AWS::EFS::FileSystem',
  'AWS::OpenSearchService::Domain',
  'AWS::Kinesis::Stream',
  'AWS::Kinesis::StreamConsumer',
  'AWS::KMS::Key',
  'AWS::Lambda::Function',
  'AWS::S3::Bucket',
  'AWS::S3::AccessPoint',
  'AWS::S3Express::DirectoryBucket',
  'AWS::S3::Glacier',
  'AWS::S3Outposts::Bucket',
  'AWS::S3Outposts::AccessPoint',
  'AWS::SecretsManager::Secret',
  'AWS::SNS::Topic',
  'AWS::SQS::Queue',
  'AWS::IAM::AssumeRolePolicyDocument',
  'AWS::S3Tables::TableBucket',
  'AWS::ApiGateway::RestApi',
  'AWS::CodeArtifact::Domain',
  'AWS::Backup::BackupVault',
  'AWS::CloudTrail::Dashboard',
  'AWS::CloudTrail::EventDataStore',
  'AWS::S3Tables::Table',
  'AWS::S3Express::AccessPoint',
];

/** Actions a role trust policy may name. */
const TRUST_ACTIONS = [
  'sts:AssumeRole',
  'sts:AssumeRoleWithWebIdentity',
  'sts:AssumeRoleWithSAML',
  'sts:TagSession',
  'sts:SetSourceIdentity',
  'sts:SetContext',
];

/** Condition keys that tie a wildcard principal to known accounts or callers. */
const SCOPING_CONDITION_KEYS = [
  'aws:principalaccount',
  'aws:principalarn',
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:sourceaccount',
  'aws:sourcearn',
  'aws:sourceowner',
  'aws:sourceorgid',
  'aws:sourceorgpaths',
  'aws:userid',
  'aws:sourcevpc',
  'aws:sourcevpce',
];

const LEARN_MORE =
  'https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html';

/** ValidationException; `fields` names what is wrong (AWS sends them as fieldList). */
function validation(
  message: string,
  fields: Array<{ name: string; message: string }> = [],
): AwsError {
  const detail = fields.map(f => `${f.name}: ${f.message}`).join('; ');
  return new AwsError(
    'ValidationException',
    detail ? `${message} (${detail})` : message,
    { status: 400 },
  );
}

function requiredString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw validation(`Missing required field: ${field}`, [
      { name: field, message: 'This field is required' },
    ]);
  }
  return value;
}

function oneOf(
  input: Record<string, unknown>,
  field: string,
  allowed: string[],
  required = true,
): string | undefined {
  const value = input[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw validation(
      `Invalid value for ${field}: ${String(
        value,
      )}; valid values: ${allowed.join(' | ')}`,
      [
        {
          name: field,
          message: `Member must satisfy enum value set: [${allowed.join(
            ', ',
          )}]`,
        },
      ],
    );
  }
  return value;
}

function authorize(ctx: AccessAnalyzerCallContext, operation: string): void {
  ctx.world.authorize(ctx.caller, `access-analyzer:${operation}`, '*', {
    region: ctx.region,
    resourceAccountId: ctx.caller.accountId,
    errorCode: 'AccessDeniedException',
  });
}

/** Parse for analysis; the check operations reject what is not a policy. */
function parseForCheck(text: string, kind: PolicyKind): PolicyDocument {
  try {
    return parsePolicyDocument(text, kind);
  } catch (e) {
    if (e instanceof MalformedPolicyError) {
      throw new AwsError(
        'InvalidParameterException',
        `The policy document is not valid: ${e.message}`,
        { status: 400 },
      );
    }
    throw e;
  }
}

// ------------------------------------------------------------ ValidatePolicy

interface Finding {
  findingType: 'ERROR' | 'SECURITY_WARNING' | 'SUGGESTION' | 'WARNING';
  issueCode: string;
  findingDetails: string;
  /** path into the document, e.g. ['Statement', 0, 'Action', 1] */
  path: Array<string | number>;
}

/** Line/column/offset of a character offset in the text (0-based, like AWS). */
function position(text: string, offset: number) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, column: offset - (before.lastIndexOf('\n') + 1), offset };
}

function locationOf(text: string, path: Array<string | number>) {
  // The stand-in spans the whole document rather than the exact element.
  return {
    path: path.map(p => (typeof p === 'number' ? { index: p } : { value: p })),
    span: { start: position(text, 0), end: position(text, text.length) },
  };
}

function validateDocument(
  text: string,
  policyType: string,
  resourceType: string | undefined,
): Finding[] {
  const trust =
    policyType === 'RESOURCE_POLICY' &&
    resourceType === 'AWS::IAM::AssumeRolePolicyDocument';
  let kind: PolicyKind = 'identity';
  if (policyType === 'RESOURCE_POLICY') kind = trust ? 'trust' : 'resource';
  let doc: PolicyDocument;
  try {
    doc = parsePolicyDocument(text, kind);
  } catch (e) {
    if (!(e instanceof MalformedPolicyError)) throw e;
    let json = true;
    try {
      JSON.parse(text);
    } catch {
      json = false;
    }
    return [
      {
        findingType: 'ERROR',
        issueCode: json ? 'POLICY_SYNTAX_ERROR' : 'JSON_SYNTAX_ERROR',
        findingDetails: json
          ? `The policy is not valid: ${e.message}`
          : 'The policy is not valid JSON.',
        path: [],
      },
    ];
  }
  const findings: Finding[] = [];
  if (!doc.Version) {
    findings.push({
      findingType: 'WARNING',
      issueCode: 'MISSING_VERSION',
      findingDetails:
        'We recommend that you specify the Version element to help you with debugging permission issues.',
      path: [],
    });
  } else if (doc.Version !== '2012-10-17') {
    findings.push({
      findingType: 'WARNING',
      issueCode: 'DEPRECATED_VERSION',
      findingDetails:
        'Use the 2012-10-17 policy version, which supports policy variables and newer features.',
      path: ['Version'],
    });
  }
  doc.Statement.forEach((s, i) =>
    findings.push(...validateStatement(s, i, policyType, trust)),
  );
  return findings;
}

function validateStatement(
  s: PolicyStatement,
  i: number,
  policyType: string,
  trust: boolean,
): Finding[] {
  const findings: Finding[] = [];
  const actions = asList(s.Action);
  if (trust) {
    actions.forEach((action, j) => {
      if (!TRUST_ACTIONS.some(a => wildcardMatch(action, a, true))) {
        findings.push({
          findingType: 'ERROR',
          issueCode: 'INVALID_ACTION',
          findingDetails: `The action ${action} does not apply to a role trust policy; use ${TRUST_ACTIONS.join(
            ', ',
          )}.`,
          path: ['Statement', i, 'Action', j],
        });
      }
    });
  }
  if (s.Effect === 'Allow' && policyType === 'IDENTITY_POLICY') {
    const resources = asList(s.Resource);
    const star = resources.includes('*') || s.NotResource !== undefined;
    if (star && actions.some(a => wildcardMatch(a, 'iam:PassRole', true))) {
      findings.push({
        findingType: 'SECURITY_WARNING',
        issueCode: 'PASS_ROLE_WITH_STAR_IN_RESOURCE',
        findingDetails:
          'Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive because it allows iam:PassRole permissions on multiple resources.',
        path: ['Statement', i, 'Resource'],
      });
    }
    if (s.NotAction !== undefined) {
      findings.push({
        findingType: 'WARNING',
        issueCode: 'ALLOW_WITH_NOT_ACTION',
        findingDetails:
          'Using Allow with NotAction can be overly permissive; list the actions to allow instead.',
        path: ['Statement', i, 'NotAction'],
      });
    }
  }
  if (s.Effect === 'Allow' && policyType === 'RESOURCE_POLICY' && isPublic(s)) {
    findings.push({
      findingType: 'SECURITY_WARNING',
      issueCode: 'PUBLIC_ACCESS',
      findingDetails:
        'The statement allows any principal (*) without a condition that limits it to known accounts or callers.',
      path: ['Statement', i, 'Principal'],
    });
  }
  const seen = new Set<string>();
  actions.forEach((action, j) => {
    const key = action.toLowerCase();
    if (seen.has(key)) {
      findings.push({
        findingType: 'SUGGESTION',
        issueCode: 'REDUNDANT_ACTION',
        findingDetails: `The action ${action} is listed more than once.`,
        path: ['Statement', i, 'Action', j],
      });
    }
    seen.add(key);
  });
  return findings;
}

function conditionKeys(s: PolicyStatement): string[] {
  return Object.values(s.Condition ?? {}).flatMap(block =>
    Object.keys(block).map(k => k.toLowerCase()),
  );
}

/** A statement that admits anyone: `*` principal (or NotPrincipal) with no scoping condition. */
function isPublic(s: PolicyStatement): boolean {
  if (s.Effect !== 'Allow') return false;
  const keys = conditionKeys(s);
  const scoped = keys.some(k => SCOPING_CONDITION_KEYS.includes(k));
  if (s.NotPrincipal !== undefined) return !scoped;
  const p = s.Principal;
  if (p === undefined) return false;
  if (p === '*' || asList(p.AWS).includes('*')) return !scoped;
  // A web identity federation without any condition admits every token of the provider.
  if (
    asList(p.Federated).length > 0 &&
    asList(s.Action).some(a =>
      wildcardMatch(a, 'sts:AssumeRoleWithWebIdentity', true),
    )
  ) {
    return keys.length === 0;
  }
  return false;
}

// ----------------------------------------------------- CheckAccessNotGranted

interface Access {
  actions: string[];
  resources: string[];
}

function parseAccess(input: Record<string, unknown>): Access {
  const raw = input.access;
  if (!Array.isArray(raw)) {
    throw validation('Missing required field: access', [
      { name: 'access', message: 'This field is required' },
    ]);
  }
  if (raw.length > MAX_ACCESS_ENTRIES) {
    throw validation(`access: at most ${MAX_ACCESS_ENTRIES} item allowed`, [
      {
        name: 'access',
        message: `Member must have length less than or equal to ${MAX_ACCESS_ENTRIES}`,
      },
    ]);
  }
  const entry = (raw[0] ?? {}) as Record<string, unknown>;
  const list = (field: 'actions' | 'resources') => {
    const value = entry[field] ?? [];
    if (!Array.isArray(value) || value.some(v => typeof v !== 'string')) {
      throw validation(`access.${field} must be a list of strings`, [
        {
          name: `access.${field}`,
          message: 'Member must be a list of strings',
        },
      ]);
    }
    if (value.length > MAX_ACCESS_ITEMS) {
      throw validation(
        `access.${field}: at most ${MAX_ACCESS_ITEMS} items allowed`,
        [
          {
            name: `access.${field}`,
            message: `Member must have length less than or equal to ${MAX_ACCESS_ITEMS}`,
          },
        ],
      );
    }
    return value as string[];
  };
  const access = { actions: list('actions'), resources: list('resources') };
  if (access.resources.some(r => r.length > MAX_RESOURCE_LENGTH)) {
    throw validation(
      `access.resources: each resource must be at most ${MAX_RESOURCE_LENGTH} characters`,
    );
  }
  if (access.actions.length === 0 && access.resources.length === 0) {
    throw validation('access must specify actions, resources or both', [
      { name: 'access', message: 'Specify actions, resources or both' },
    ]);
  }
  return access;
}

function actionCovered(s: PolicyStatement, action: string): boolean {
  if (s.Action !== undefined)
    return asList(s.Action).some(p => wildcardMatch(p, action, true));
  return !asList(s.NotAction).some(p => wildcardMatch(p, action, true));
}

function resourceCovered(s: PolicyStatement, resource: string): boolean {
  if (s.Resource !== undefined)
    return asList(s.Resource).some(
      p => arnMatches(p, resource) || arnMatches(resource, p),
    );
  if (s.NotResource !== undefined)
    return !asList(s.NotResource).some(p => arnMatches(p, resource));
  return true;
}

/**
 * Statements that may grant one of the actions on one of the resources. As
 * in AWS, a conditional Allow counts ("might allow") and a conditional Deny
 * does not block.
 */
function grantingStatements(
  doc: PolicyDocument,
  access: Access,
): Array<{ index: number; statement: PolicyStatement }> {
  const candidates = access.resources.length
    ? access.resources
    : [
        ...new Set(
          doc.Statement.flatMap(s =>
            s.Effect === 'Allow' ? asList(s.Resource) : [],
          ).concat('*'),
        ),
      ];
  const denies = doc.Statement.filter(s => s.Effect === 'Deny' && !s.Condition);
  const out: Array<{ index: number; statement: PolicyStatement }> = [];
  doc.Statement.forEach((s, index) => {
    if (s.Effect !== 'Allow') return;
    const actions = access.actions.length ? access.actions : undefined;
    const grants = candidates.some(resource => {
      if (!resourceCovered(s, resource)) return false;
      const matching = actions
        ? actions.filter(a => actionCovered(s, a))
        : ['*'];
      return matching.some(
        a =>
          !denies.some(
            d =>
              (a === '*' ? d.Action === '*' : actionCovered(d, a)) &&
              resourceCovered(d, resource),
          ),
      );
    });
    if (grants) out.push({ index, statement: s });
  });
  return out;
}

// ------------------------------------------------------------------ handlers

export const accessAnalyzerHandlers: Record<string, AccessAnalyzerHandler> = {
  ValidatePolicy(ctx) {
    authorize(ctx, 'ValidatePolicy');
    const policyDocument = requiredString(ctx.input, 'policyDocument');
    const policyType = oneOf(ctx.input, 'policyType', VALIDATE_POLICY_TYPES)!;
    const resourceType = oneOf(
      ctx.input,
      'validatePolicyResourceType',
      VALIDATE_RESOURCE_TYPES,
      false,
    );
    if (resourceType && policyType !== 'RESOURCE_POLICY') {
      throw validation(
        'validatePolicyResourceType applies only to policyType RESOURCE_POLICY',
        [
          {
            name: 'validatePolicyResourceType',
            message: 'Only valid with RESOURCE_POLICY',
          },
        ],
      );
    }
    const maxResults = ctx.query.maxResults
      ? Number(ctx.query.maxResults)
      : MAX_VALIDATE_RESULTS;
    if (!Number.isInteger(maxResults) || maxResults < 1) {
      throw validation('maxResults must be a positive integer', [
        { name: 'maxResults', message: 'Member must be a positive integer' },
      ]);
    }
    const start = ctx.query.nextToken ? Number(ctx.query.nextToken) : 0;
    if (!Number.isInteger(start) || start < 0) {
      throw validation('nextToken is not valid', [
        { name: 'nextToken', message: 'Invalid pagination token' },
      ]);
    }
    const all = validateDocument(policyDocument, policyType, resourceType);
    const page = all.slice(start, start + maxResults);
    return {
      findings: page.map(f => ({
        findingType: f.findingType,
        issueCode: f.issueCode,
        findingDetails: f.findingDetails,
        learnMoreLink: LEARN_MORE,
        locations: [locationOf(policyDocument, f.path)],
      })),
      ...(start + maxResults < all.length
        ? { nextToken: String(start + maxResults) }
        : {}),
    };
  },

  CheckAccessNotGranted(ctx) {
    authorize(ctx, 'CheckAccessNotGranted');
    const policyDocument = requiredString(ctx.input, 'policyDocument');
    const policyType = oneOf(ctx.input, 'policyType', CHECK_POLICY_TYPES)!;
    const access = parseAccess(ctx.input);
    const doc = parseForCheck(
      policyDocument,
      policyType === 'IDENTITY_POLICY' ? 'identity' : 'resource',
    );
    const granting = grantingStatements(doc, access);
    if (granting.length === 0) {
      return {
        result: 'PASS',
        message:
          'The policy document does not grant access to perform one or more of the listed actions or resources.',
        reasons: [],
      };
    }
    return {
      result: 'FAIL',
      message:
        'The policy document grants access to perform one or more of the listed actions or resources.',
      reasons: granting.map(({ index, statement }) => ({
        description: `One or more of the listed actions or resources in the statement with index: ${index} are allowed by the policy.`,
        statementIndex: index,
        ...(statement.Sid ? { statementId: statement.Sid } : {}),
      })),
    };
  },

  CheckNoPublicAccess(ctx) {
    authorize(ctx, 'CheckNoPublicAccess');
    const policyDocument = requiredString(ctx.input, 'policyDocument');
    const resourceType = oneOf(
      ctx.input,
      'resourceType',
      PUBLIC_ACCESS_RESOURCE_TYPES,
    )!;
    const doc = parseForCheck(
      policyDocument,
      resourceType === 'AWS::IAM::AssumeRolePolicyDocument'
        ? 'trust'
        : 'resource',
    );
    const open = doc.Statement.map((statement, index) => ({
      statement,
      index,
    })).filter(({ statement }) => isPublic(statement));
    if (open.length === 0) {
      return {
        result: 'PASS',
        message: `The resource policy does not grant public access for the given resource type.`,
        reasons: [],
      };
    }
    return {
      result: 'FAIL',
      message:
        'The resource policy grants public access for the given resource type.',
      reasons: open.map(({ statement, index }) => ({
        description: `Public access granted in the following statement with index: ${index}.`,
        statementIndex: index,
        ...(statement.Sid ? { statementId: statement.Sid } : {}),
      })),
    };
  },
};
