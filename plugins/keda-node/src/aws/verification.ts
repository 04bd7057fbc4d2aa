import {
  AccessAnalyzerClient,
  CheckAccessNotGrantedCommand,
  CheckNoPublicAccessCommand,
  ValidatePolicyCommand,
  type ValidatePolicyFinding,
} from '@aws-sdk/client-accessanalyzer';
import {
  SimulatePrincipalPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import {
  clusterPartition,
  eksClusterArn,
  EKS_POD_IDENTITY_PRINCIPAL,
  oidcIssuerHostPath,
  oidcProviderArn,
  operatorRoleIssuers,
  policyJson,
  serviceAccountSubject,
  STS_AUDIENCE,
  type KedaPlan,
  type KedaVerification,
  type KedaVerificationCheck,
  type PolicyDocument,
  type PolicyStatement,
} from '@keda-self-service/plugin-keda-common';
import { createHash } from 'node:crypto';
import type * as IamSimulate from '@cloud-copilot/iam-simulate';

/**
 * One verification check (keda-common's `KedaVerificationCheck`, the
 * shape the request record stores).
 * @public
 */
export type VerificationCheck = KedaVerificationCheck;

/** Result of verifying a plan's role chain: ok unless a check failed. @public */
export type ChainVerification = KedaVerification;

/** The part of `@cloud-copilot/iam-simulate` the trust evaluation uses. @public */
export type IamSimulateModule = Pick<typeof IamSimulate, 'runSimulation'>;

/** Loads `@cloud-copilot/iam-simulate` (an optional peer dependency). @public */
export type IamSimulateLoader = () => Promise<IamSimulateModule>;

/** @public */
export interface VerifyPlanDocumentsOptions {
  plan: KedaPlan;
  /**
   * IAM Access Analyzer client for the policy checks. They read no account
   * data, so any account's credentials do (the queue account's are used);
   * see `accessAnalyzerClientFor`. Without one the checks are a warning.
   */
  accessAnalyzer?: AccessAnalyzerClient;
  /** account of the Access Analyzer credentials, named in warnings */
  accessAnalyzerAccountId?: string;
  /** why there is no Access Analyzer client (e.g. a dry run), for the warning */
  accessAnalyzerSkipped?: string;
  /** default: dynamic import of `@cloud-copilot/iam-simulate` */
  loadIamSimulate?: IamSimulateLoader;
}

/** @public */
export interface VerifyScalerChainOptions extends VerifyPlanDocumentsOptions {
  /** IAM client of the queue account (the scaler role's) */
  queueAccountIam: IAMClient;
  /** IAM client of the cluster account (the operator role's), when available */
  clusterAccountIam?: IAMClient;
}

/** Check ids. @public */
export const VERIFICATION_CHECKS = {
  scalerPermissions: 'simulate-scaler-permissions',
  operatorPermissions: 'simulate-operator-permissions',
  validatePolicy: 'access-analyzer-validate-policy',
  accessNotGranted: 'access-analyzer-access-not-granted',
  noPublicAccess: 'access-analyzer-no-public-access',
  scalerTrust: 'evaluate-scaler-trust',
  operatorTrust: 'evaluate-operator-trust',
} as const;

/** What KEDA's SQS scaler must not be able to do with the queue. */
const SQS_BEYOND_QUEUE_DEPTH = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:SendMessage',
  'sqs:PurgeQueue',
  'sqs:SetQueueAttributes',
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteQueue',
  'sqs:AddPermission',
  'sqs:RemovePermission',
  'sqs:TagQueue',
  'sqs:UntagQueue',
  'sqs:StartMessageMoveTask',
  'sqs:CreateQueue',
];
/** …nor with IAM or STS (escalation). */
const IAM_AND_STS = [
  'iam:PassRole',
  'iam:CreateRole',
  'iam:PutRolePolicy',
  'iam:AttachRolePolicy',
  'iam:UpdateAssumeRolePolicy',
  'iam:CreatePolicyVersion',
  'sts:AssumeRole',
];
const SIMULATED_DENIED_SQS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:SendMessage',
  'sqs:PurgeQueue',
];
const TRUST_RESOURCE_TYPE = 'AWS::IAM::AssumeRolePolicyDocument';
const INSTALL_IAM_SIMULATE =
  'install @cloud-copilot/iam-simulate (AGPL-3.0) next to the backend to enable it';

// ------------------------------------------------------------------ helpers

function errorName(error: unknown): string {
  const e = error as { name?: string; Code?: string; code?: string };
  return e?.name ?? e?.Code ?? e?.code ?? 'Error';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isAccessDenied(error: unknown): boolean {
  return /^AccessDenied(Exception)?$/.test(errorName(error));
}

/**
 * A check that could not run: a warning naming the IAM action, never a
 * silent pass and never a crash.
 */
function couldNotRun(
  check: string,
  subject: string,
  action: string,
  error: unknown,
  accountId?: string,
): VerificationCheck {
  const where = accountId ? ` of account ${accountId}` : '';
  return {
    check,
    subject,
    outcome: 'warning',
    detail: isAccessDenied(error)
      ? `not checked: the credentials${where} lack ${action}; grant it to run this check (${errorMessage(
          error,
        )})`
      : `not checked: ${action} failed with ${errorName(error)}: ${errorMessage(
          error,
        )}${
          action.startsWith('access-analyzer:')
            ? ' (is IAM Access Analyzer available in this partition and region?)'
            : ''
        }`,
  };
}

/** A short, deterministic suffix for names that must not exist. */
function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

function withVerdict(checks: VerificationCheck[]): ChainVerification {
  return { ok: checks.every(c => c.outcome !== 'fail'), checks };
}

/**
 * An Access Analyzer client with the credentials, retry settings and
 * endpoint configuration (AWS_ENDPOINT_URL) of an IAM client of the same
 * account. Access Analyzer is regional: pass the queue's region.
 * @public
 */
export function accessAnalyzerClientFor(
  iam: IAMClient,
  region: string,
): AccessAnalyzerClient {
  return new AccessAnalyzerClient({
    region,
    credentials: iam.config.credentials,
    maxAttempts: iam.config.maxAttempts,
    retryMode: iam.config.retryMode,
  });
}

/** One line per check, for the task log. @public */
export function formatVerificationCheck(check: VerificationCheck): string {
  return `[${check.outcome}] ${check.check}: ${check.subject}: ${check.detail}`;
}

/** The failed checks, for an error message. @public */
export function describeChainFailure(verification: ChainVerification): string {
  return verification.checks
    .filter(c => c.outcome === 'fail')
    .map(c => `${c.check} (${c.subject}): ${c.detail}`)
    .join('; ');
}

// ------------------------------------------- iam:SimulatePrincipalPolicy

/**
 * The identity policies (and permissions boundary) of an existing role,
 * simulated the way AWS accepts: a role as policy source, no resource
 * policy (which would require a user as CallerArn), no trust evaluation
 * (the simulator does not evaluate trust policies for sts:AssumeRole).
 */
async function simulateIdentity(input: {
  iam: IAMClient;
  check: string;
  roleArn: string;
  accountId: string;
  resource: string;
  expectations: Array<[action: string, expected: 'allowed' | 'denied']>;
  hint: (action: string, expected: 'allowed' | 'denied') => string;
}): Promise<VerificationCheck[]> {
  const subjectOf = (action: string) =>
    `${input.roleArn} ${action} on ${input.resource}`;
  let decisions: Map<string, string>;
  try {
    const out = await input.iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: input.roleArn,
        ActionNames: input.expectations.map(([a]) => a),
        ResourceArns: [input.resource],
      }),
    );
    decisions = new Map(
      (out.EvaluationResults ?? []).map(r => [
        r.EvalActionName ?? '',
        r.EvalDecision ?? 'unknown',
      ]),
    );
  } catch (error) {
    if (/^NoSuchEntity(Exception)?$/.test(errorName(error))) {
      return [
        {
          check: input.check,
          subject: input.roleArn,
          outcome: 'fail',
          detail: `the role does not exist in account ${
            input.accountId
          } (${errorMessage(error)})`,
        },
      ];
    }
    return [
      couldNotRun(
        input.check,
        input.roleArn,
        'iam:SimulatePrincipalPolicy',
        error,
        input.accountId,
      ),
    ];
  }
  return input.expectations.map(([action, expected]) => {
    const decision = decisions.get(action) ?? 'unknown';
    const ok =
      expected === 'allowed' ? decision === 'allowed' : decision !== 'allowed';
    return {
      check: input.check,
      subject: subjectOf(action),
      outcome: ok ? 'pass' : 'fail',
      detail: `${decision} (expected ${expected})${
        ok ? '' : `; ${input.hint(action, expected)}`
      }`,
    };
  });
}

async function simulateRoles(
  options: VerifyScalerChainOptions,
): Promise<VerificationCheck[]> {
  const { plan } = options;
  const scaler = await simulateIdentity({
    iam: options.queueAccountIam,
    check: VERIFICATION_CHECKS.scalerPermissions,
    roleArn: plan.scalerRole.arn,
    accountId: plan.scalerRole.accountId,
    resource: plan.queue.arn,
    expectations: [
      ['sqs:GetQueueAttributes', 'allowed'],
      ...SIMULATED_DENIED_SQS.map(a => [a, 'denied'] as [string, 'denied']),
    ],
    hint: (_a, expected) =>
      expected === 'allowed'
        ? 'a permissions boundary (keda.roles.permissionsBoundaryArn) or an SCP may deny it'
        : 'more than KEDA needs: check policies attached to the role outside Backstage',
  });
  if (!options.clusterAccountIam) {
    return [
      ...scaler,
      {
        check: VERIFICATION_CHECKS.operatorPermissions,
        subject: plan.operatorRole.arn,
        outcome: 'warning',
        detail: `not checked: no credentials for the cluster account ${plan.operatorRole.accountId} (aws.accounts)`,
      },
    ];
  }
  // A role outside the KEDA roles path and name prefix, in the queue account:
  // the operator's permission policy must not reach it.
  const outside = `arn:${plan.queue.partition}:iam::${
    plan.scalerRole.accountId
  }:role/not-keda-${hashOf(plan.scalerRole.arn)}`;
  const podIdentity = plan.cluster.identity === 'pod-identity';
  const operatorOnScaler = await simulateIdentity({
    iam: options.clusterAccountIam,
    check: VERIFICATION_CHECKS.operatorPermissions,
    roleArn: plan.operatorRole.arn,
    accountId: plan.operatorRole.accountId,
    resource: plan.scalerRole.arn,
    expectations: [
      ['sts:AssumeRole', 'allowed'],
      ...(podIdentity
        ? [['sts:TagSession', 'allowed'] as [string, 'allowed']]
        : []),
    ],
    hint: () =>
      'run the keda-cluster-onboarding template so the operator role may assume roles under keda.roles.path',
  });
  const operatorOutside = await simulateIdentity({
    iam: options.clusterAccountIam,
    check: VERIFICATION_CHECKS.operatorPermissions,
    roleArn: plan.operatorRole.arn,
    accountId: plan.operatorRole.accountId,
    resource: outside,
    expectations: [['sts:AssumeRole', 'denied']],
    hint: () =>
      'the operator role may assume roles outside keda.roles.path and the scaler name prefix; check policies attached to it outside Backstage',
  });
  return [...scaler, ...operatorOnScaler, ...operatorOutside];
}

// -------------------------------------------------- IAM Access Analyzer

interface PlannedDocument {
  subject: string;
  document: PolicyDocument;
  kind: 'trust' | 'identity';
}

function plannedDocuments(plan: KedaPlan): PlannedDocument[] {
  return [
    {
      subject: `scaler role trust policy (${plan.scalerRole.arn})`,
      document: plan.scalerRole.trustPolicy,
      kind: 'trust',
    },
    {
      subject: `scaler role permission policy ${plan.scalerRole.permissionPolicyName} (${plan.scalerRole.arn})`,
      document: plan.scalerRole.permissionPolicy,
      kind: 'identity',
    },
    {
      subject: `KEDA operator role trust policy (${plan.operatorRole.arn})`,
      document: plan.operatorRole.trustPolicy,
      kind: 'trust',
    },
    {
      subject: `KEDA operator role permission policy ${plan.operatorRole.permissionPolicyName} (${plan.operatorRole.arn})`,
      document: plan.operatorRole.permissionPolicy,
      kind: 'identity',
    },
  ];
}

function describeFindings(findings: ValidatePolicyFinding[]): string {
  return findings
    .map(f => `${f.findingType} ${f.issueCode}: ${f.findingDetails}`)
    .join('; ');
}

async function validatePolicy(
  client: AccessAnalyzerClient,
  doc: PlannedDocument,
  accountId?: string,
): Promise<VerificationCheck> {
  const check = VERIFICATION_CHECKS.validatePolicy;
  if (doc.document.Statement.length === 0) {
    return {
      check,
      subject: doc.subject,
      outcome: 'warning',
      detail:
        'not checked: the plan has no statements for it (for IRSA: set the cluster’s oidcIssuer or let eks:DescribeCluster find it)',
    };
  }
  const findings: ValidatePolicyFinding[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const out = await client.send(
        new ValidatePolicyCommand({
          policyDocument: policyJson(doc.document),
          ...(doc.kind === 'trust'
            ? {
                policyType: 'RESOURCE_POLICY',
                validatePolicyResourceType: TRUST_RESOURCE_TYPE,
              }
            : { policyType: 'IDENTITY_POLICY' }),
          nextToken,
        }),
      );
      findings.push(...(out.findings ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
  } catch (error) {
    return couldNotRun(
      check,
      doc.subject,
      'access-analyzer:ValidatePolicy',
      error,
      accountId,
    );
  }
  const blocking = findings.filter(
    f => f.findingType === 'ERROR' || f.findingType === 'SECURITY_WARNING',
  );
  const warnings = findings.filter(f => f.findingType === 'WARNING');
  const suggestions = findings.filter(f => f.findingType === 'SUGGESTION');
  if (blocking.length) {
    return {
      check,
      subject: doc.subject,
      outcome: 'fail',
      detail: describeFindings(blocking),
    };
  }
  if (warnings.length) {
    return {
      check,
      subject: doc.subject,
      outcome: 'warning',
      detail: describeFindings([...warnings, ...suggestions]),
    };
  }
  return {
    check,
    subject: doc.subject,
    outcome: 'pass',
    detail: suggestions.length
      ? `no errors or security warnings; suggestions: ${describeFindings(
          suggestions,
        )}`
      : 'no findings',
  };
}

async function accessNotGranted(
  client: AccessAnalyzerClient,
  plan: KedaPlan,
  label: string,
  actions: string[],
  accountId?: string,
): Promise<VerificationCheck> {
  const check = VERIFICATION_CHECKS.accessNotGranted;
  const subject = `scaler role permission policy ${plan.scalerRole.permissionPolicyName} does not grant ${label}`;
  try {
    // Access Analyzer takes one access entry of at most 100 actions.
    const out = await client.send(
      new CheckAccessNotGrantedCommand({
        policyDocument: policyJson(plan.scalerRole.permissionPolicy),
        policyType: 'IDENTITY_POLICY',
        access: [{ actions }],
      }),
    );
    const reasons = (out.reasons ?? [])
      .map(r => r.description)
      .filter(Boolean)
      .join('; ');
    return {
      check,
      subject,
      outcome: out.result === 'PASS' ? 'pass' : 'fail',
      detail:
        out.result === 'PASS'
          ? `PASS for ${actions.join(', ')}`
          : `${out.result ?? 'no result'}: ${out.message ?? ''}${
              reasons ? ` (${reasons})` : ''
            }`,
    };
  } catch (error) {
    return couldNotRun(
      check,
      subject,
      'access-analyzer:CheckAccessNotGranted',
      error,
      accountId,
    );
  }
}

async function noPublicAccess(
  client: AccessAnalyzerClient,
  doc: PlannedDocument,
  accountId?: string,
): Promise<VerificationCheck> {
  const check = VERIFICATION_CHECKS.noPublicAccess;
  if (doc.document.Statement.length === 0) {
    return {
      check,
      subject: doc.subject,
      outcome: 'warning',
      detail: 'not checked: the plan has no statements for it',
    };
  }
  try {
    const out = await client.send(
      new CheckNoPublicAccessCommand({
        policyDocument: policyJson(doc.document),
        resourceType: TRUST_RESOURCE_TYPE,
      }),
    );
    const reasons = (out.reasons ?? [])
      .map(r => r.description)
      .filter(Boolean)
      .join('; ');
    return {
      check,
      subject: doc.subject,
      outcome: out.result === 'PASS' ? 'pass' : 'fail',
      detail:
        out.result === 'PASS'
          ? 'PASS: no public access'
          : `${out.result ?? 'no result'}: ${out.message ?? ''}${
              reasons ? ` (${reasons})` : ''
            }`,
    };
  } catch (error) {
    return couldNotRun(
      check,
      doc.subject,
      'access-analyzer:CheckNoPublicAccess',
      error,
      accountId,
    );
  }
}

async function analyzeDocuments(
  options: VerifyPlanDocumentsOptions,
): Promise<VerificationCheck[]> {
  const { plan, accessAnalyzer: client } = options;
  const docs = plannedDocuments(plan);
  if (!client) {
    return [
      {
        check: VERIFICATION_CHECKS.validatePolicy,
        subject: 'IAM documents of the plan',
        outcome: 'warning',
        detail: `IAM Access Analyzer checks (ValidatePolicy, CheckAccessNotGranted, CheckNoPublicAccess) not run: ${
          options.accessAnalyzerSkipped ?? 'no AWS client for them'
        }`,
      },
    ];
  }
  const accountId = options.accessAnalyzerAccountId;
  return Promise.all([
    ...docs.map(doc => validatePolicy(client, doc, accountId)),
    accessNotGranted(
      client,
      plan,
      'SQS actions beyond reading the queue depth',
      SQS_BEYOND_QUEUE_DEPTH,
      accountId,
    ),
    accessNotGranted(
      client,
      plan,
      'IAM or STS actions',
      IAM_AND_STS,
      accountId,
    ),
    ...docs
      .filter(d => d.kind === 'trust')
      .map(doc => noPublicAccess(client, doc, accountId)),
  ]);
}

// ------------------------------------------ in-process trust evaluation

// Loaded lazily, only when verification runs, so that the backend works
// without this optional (AGPL) peer. A deferred require rather than
// import(): the package ships CommonJS, the backend runs as CommonJS, and
// Jest's VM cannot run import() without --experimental-vm-modules.
const defaultIamSimulateLoader: IamSimulateLoader = async () =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@cloud-copilot/iam-simulate') as IamSimulateModule;

interface Decision {
  result: string;
  error?: string;
}

function simulator(iamSimulate: IamSimulateModule) {
  return async (s: {
    principal: string;
    action: string;
    resource: string;
    resourceAccount: string;
    identity?: PolicyDocument;
    resourcePolicy: PolicyDocument;
    context?: Record<string, string | string[]>;
  }): Promise<Decision> => {
    try {
      const result = await iamSimulate.runSimulation(
        {
          request: {
            principal: s.principal,
            action: s.action,
            resource: { resource: s.resource, accountId: s.resourceAccount },
            contextVariables: s.context ?? {},
          },
          identityPolicies: s.identity
            ? [{ name: 'identity', policy: s.identity }]
            : [],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: s.resourcePolicy,
        },
        {},
      );
      if (result.resultType === 'error') {
        return {
          result: 'error',
          error: JSON.stringify(result.errors).slice(0, 500),
        };
      }
      return {
        result: 'overallResult' in result ? String(result.overallResult) : '',
      };
    } catch (error) {
      return { result: 'error', error: errorMessage(error) };
    }
  };
}

type Decide = ReturnType<typeof simulator>;

async function expectDecision(
  decide: Decide,
  check: string,
  subject: string,
  expected: 'allowed' | 'denied',
  request: Parameters<Decide>[0],
  onUnexpected: string,
  unexpectedOutcome: 'fail' | 'warning' = 'fail',
): Promise<VerificationCheck> {
  const decision = await decide(request);
  if (decision.result === 'error') {
    return {
      check,
      subject,
      outcome: 'warning',
      detail: `not checked: the evaluator refused the input (${decision.error})`,
    };
  }
  const allowed = decision.result === 'Allowed';
  const ok = expected === 'allowed' ? allowed : !allowed;
  return {
    check,
    subject,
    outcome: ok ? 'pass' : unexpectedOutcome,
    detail: `${decision.result} (expected ${expected})${
      ok ? '' : `: ${onUnexpected}`
    }`,
  };
}

async function evaluateScalerTrust(
  decide: Decide,
  plan: KedaPlan,
): Promise<VerificationCheck[]> {
  const check = VERIFICATION_CHECKS.scalerTrust;
  const p = plan.queue.partition;
  const clusterAccount = plan.operatorRole.accountId;
  const queueAccount = plan.scalerRole.accountId;
  const externalId = plan.scalerRole.externalId;
  const other = `not-keda-${hashOf(plan.scalerRole.arn)}`;
  // Everything may assume anything: only the trust can stop it.
  const broad: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: '*',
      },
    ],
  };
  const assume = (over: {
    principal: string;
    externalId?: string;
    identity?: PolicyDocument;
    action?: string;
  }): Parameters<Decide>[0] => ({
    principal: over.principal,
    action: over.action ?? 'sts:AssumeRole',
    resource: plan.scalerRole.arn,
    resourceAccount: queueAccount,
    identity: over.identity ?? broad,
    resourcePolicy: plan.scalerRole.trustPolicy,
    context: over.externalId ? { 'sts:ExternalId': over.externalId } : {},
  });
  const operatorSession = `arn:${p}:sts::${clusterAccount}:assumed-role/${plan.operatorRole.name}/keda`;
  const subject = (what: string) =>
    `scaler role trust (${plan.scalerRole.arn}): ${what}`;
  const checks: Array<Promise<VerificationCheck>> = [
    expectDecision(
      decide,
      check,
      subject(
        `the KEDA operator role may sts:AssumeRole${
          externalId ? ' with the plan’s ExternalId' : ''
        }`,
      ),
      'allowed',
      assume({
        principal: operatorSession,
        externalId,
        identity: plan.operatorRole.permissionPolicy,
      }),
      'KEDA would be denied: the trust or the operator role’s permission policy does not admit the operator role',
    ),
  ];
  if (plan.cluster.identity === 'pod-identity') {
    checks.push(
      expectDecision(
        decide,
        check,
        subject(
          'the KEDA operator role may sts:TagSession (Pod Identity session tags are transitive)',
        ),
        'allowed',
        assume({
          principal: operatorSession,
          action: 'sts:TagSession',
          identity: plan.operatorRole.permissionPolicy,
        }),
        'the chained AssumeRole carries session tags and would be denied',
      ),
    );
  }
  if (externalId) {
    checks.push(
      expectDecision(
        decide,
        check,
        subject('the KEDA operator role without an ExternalId'),
        'denied',
        assume({ principal: operatorSession }),
        'the trust does not require the sts:ExternalId condition',
      ),
      expectDecision(
        decide,
        check,
        subject('the KEDA operator role with another ExternalId'),
        'denied',
        assume({
          principal: operatorSession,
          externalId: `not-${externalId}`,
        }),
        'the trust accepts an ExternalId other than the plan’s',
      ),
    );
  } else {
    checks.push(
      expectDecision(
        decide,
        check,
        subject('the KEDA operator role without an ExternalId'),
        'denied',
        assume({ principal: operatorSession }),
        'the trust requires no ExternalId (KEDA < 2.20 or provider mode aws-eks), so it has no confused-deputy protection',
        'warning',
      ),
    );
  }
  checks.push(
    expectDecision(
      decide,
      check,
      subject(`another role of the cluster account ${clusterAccount}`),
      'denied',
      assume({
        principal: `arn:${p}:sts::${clusterAccount}:assumed-role/${other}/keda`,
        externalId,
      }),
      'the trust admits more than the KEDA operator role',
    ),
    expectDecision(
      decide,
      check,
      subject(`the cluster account root ${clusterAccount}`),
      'denied',
      assume({ principal: `arn:${p}:iam::${clusterAccount}:root`, externalId }),
      'the trust admits the whole cluster account',
    ),
    expectDecision(
      decide,
      check,
      subject(`a role of the queue account ${queueAccount}`),
      'denied',
      assume({
        principal: `arn:${p}:sts::${queueAccount}:assumed-role/${other}/keda`,
        externalId,
      }),
      'the trust admits roles of the queue account',
    ),
  );
  return Promise.all(checks);
}

function conditionValue(
  statement: PolicyStatement,
  operator: string,
  key: string,
): unknown {
  const block = statement.Condition?.[operator] as
    | Record<string, unknown>
    | undefined;
  if (!block) return undefined;
  const found = Object.keys(block).find(
    k => k.toLowerCase() === key.toLowerCase(),
  );
  return found ? block[found] : undefined;
}

function asList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * IRSA: the web identity conditions the evaluator does not model
 * (issuer-specific keys), checked here: every statement admits exactly one
 * expected OIDC provider, with `<issuer>:aud` = sts.amazonaws.com and
 * `<issuer>:sub` = the operator's service account; every expected issuer
 * has its statement.
 */
function checkWebIdentityTrust(plan: KedaPlan): VerificationCheck[] {
  const check = VERIFICATION_CHECKS.operatorTrust;
  const { cluster } = plan;
  const trust = plan.operatorRole.trustPolicy;
  const subject = (what: string) =>
    `KEDA operator role trust (${plan.operatorRole.arn}): ${what}`;
  let issuers: string[];
  try {
    issuers = operatorRoleIssuers(cluster);
  } catch (error) {
    return [
      {
        check,
        subject: subject('web identity'),
        outcome: 'warning',
        detail: `not checked: ${errorMessage(error)}`,
      },
    ];
  }
  const partition = clusterPartition(cluster);
  const sub = serviceAccountSubject(
    cluster.operator.namespace,
    cluster.operator.serviceAccount,
  );
  const expected = new Map(
    issuers.map(issuer => [
      oidcProviderArn(partition, cluster.accountId, issuer),
      oidcIssuerHostPath(issuer),
    ]),
  );
  const checks: VerificationCheck[] = [];
  const covered = new Set<string>();
  trust.Statement.forEach((s, i) => {
    const label = s.Sid ?? `statement ${i}`;
    if (s.Effect !== 'Allow') return;
    const federated =
      s.Principal && typeof s.Principal === 'object'
        ? asList((s.Principal as Record<string, unknown>).Federated)
        : [];
    const actions = asList(s.Action);
    const problems: string[] = [];
    if (federated.length !== 1 || !expected.has(federated[0])) {
      problems.push(
        `admits ${JSON.stringify(s.Principal)}, not exactly one of ${[
          ...expected.keys(),
        ].join(', ')}`,
      );
    }
    if (
      actions.length !== 1 ||
      actions[0] !== 'sts:AssumeRoleWithWebIdentity'
    ) {
      problems.push(
        `allows ${actions.join(
          ', ',
        )} instead of sts:AssumeRoleWithWebIdentity only`,
      );
    }
    const hostPath = expected.get(federated[0]);
    if (hostPath) {
      const aud = conditionValue(s, 'StringEquals', `${hostPath}:aud`);
      const subject_ = conditionValue(s, 'StringEquals', `${hostPath}:sub`);
      if (asList(aud).join() !== STS_AUDIENCE) {
        problems.push(
          `requires ${hostPath}:aud = ${JSON.stringify(
            aud ?? null,
          )}, not StringEquals ${STS_AUDIENCE}`,
        );
      }
      if (asList(subject_).join() !== sub) {
        problems.push(
          `requires ${hostPath}:sub = ${JSON.stringify(
            subject_ ?? null,
          )}, not StringEquals ${sub}`,
        );
      }
      if (!problems.length) covered.add(federated[0]);
    }
    checks.push({
      check,
      subject: subject(`${label} (web identity)`),
      outcome: problems.length ? 'fail' : 'pass',
      detail: problems.length
        ? problems.join('; ')
        : `only ${sub} with audience ${STS_AUDIENCE}, from ${federated[0]}`,
    });
  });
  for (const provider of expected.keys()) {
    if (!covered.has(provider)) {
      checks.push({
        check,
        subject: subject(`OIDC provider ${provider}`),
        outcome: 'fail',
        detail:
          'no statement admits the operator’s service account from this provider: KEDA would be denied',
      });
    }
  }
  return checks;
}

async function evaluateOperatorTrust(
  decide: Decide | undefined,
  plan: KedaPlan,
): Promise<VerificationCheck[]> {
  const check = VERIFICATION_CHECKS.operatorTrust;
  const { cluster } = plan;
  const trust = plan.operatorRole.trustPolicy;
  const subject = (what: string) =>
    `KEDA operator role trust (${plan.operatorRole.arn}): ${what}`;
  if (trust.Statement.length === 0) {
    return [
      {
        check,
        subject: subject('statements'),
        outcome: 'warning',
        detail:
          'not checked: the plan has no operator trust statements (for IRSA: set the cluster’s oidcIssuer)',
      },
    ];
  }
  const partition = clusterPartition(cluster);
  const roleArn = plan.operatorRole.arn;
  const account = plan.operatorRole.accountId;
  if (cluster.identity !== 'pod-identity') {
    const structural = checkWebIdentityTrust(plan);
    if (!decide) return structural;
    // The evaluator drops issuer-specific keys, so it sees the principals only.
    const principalsOnly: PolicyDocument = {
      ...trust,
      Statement: trust.Statement.map(({ Condition: _c, ...rest }) => rest),
    };
    const fromProvider = (issuer: string) => ({
      principal: oidcProviderArn(partition, account, issuer),
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: roleArn,
      resourceAccount: account,
      resourcePolicy: principalsOnly,
    });
    const foreign = `https://oidc.eks.${
      cluster.region
    }.amazonaws.com/id/NOTKEDA${hashOf(roleArn).toUpperCase()}`;
    return [
      ...structural,
      await expectDecision(
        decide,
        check,
        subject('an OIDC provider of another cluster'),
        'denied',
        fromProvider(foreign),
        'the trust admits web identities of other providers',
      ),
    ];
  }
  if (!decide) return [];
  // EKS Pod Identity: the service assumes the role for the operator's pod,
  // with the session tags EKS sets; the plan's conditions decide.
  const clusterArn = eksClusterArn(cluster);
  const podContext = (over: {
    clusterArn?: string;
    clusterName?: string;
    namespace?: string;
    serviceAccount?: string;
  }) => {
    const tags: Record<string, string> = {
      'eks-cluster-arn': over.clusterArn ?? clusterArn,
      'eks-cluster-name': over.clusterName ?? cluster.name,
      'kubernetes-namespace': over.namespace ?? cluster.operator.namespace,
      'kubernetes-service-account':
        over.serviceAccount ?? cluster.operator.serviceAccount,
      'kubernetes-pod-name': `${cluster.operator.serviceAccount}-0`,
      'kubernetes-pod-uid': '00000000-0000-0000-0000-000000000000',
    };
    return {
      'aws:SourceAccount': account,
      'aws:SourceArn': over.clusterArn ?? clusterArn,
      'aws:TagKeys': Object.keys(tags),
      ...Object.fromEntries(
        Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v]),
      ),
    };
  };
  const service = (
    action: string,
    context: Record<string, string | string[]>,
  ) => ({
    principal: EKS_POD_IDENTITY_PRINCIPAL,
    action,
    resource: roleArn,
    resourceAccount: account,
    resourcePolicy: trust,
    context,
  });
  const otherName = `not-${cluster.name}`;
  const otherCluster = {
    clusterArn: clusterArn.replace(/cluster\/[^/]+$/, `cluster/${otherName}`),
    clusterName: otherName,
  };
  return Promise.all([
    expectDecision(
      decide,
      check,
      subject(
        `EKS Pod Identity may sts:AssumeRole for the operator of cluster ${cluster.name}`,
      ),
      'allowed',
      service('sts:AssumeRole', podContext({})),
      'KEDA’s operator would get no credentials from EKS Pod Identity',
    ),
    expectDecision(
      decide,
      check,
      subject('EKS Pod Identity may sts:TagSession for it'),
      'allowed',
      service('sts:TagSession', podContext({})),
      'EKS Pod Identity always tags the session; the assume would be denied',
    ),
    expectDecision(
      decide,
      check,
      subject('EKS Pod Identity for another cluster of the account'),
      'denied',
      service('sts:AssumeRole', podContext(otherCluster)),
      'the trust admits pods of other clusters (confused deputy)',
    ),
    expectDecision(
      decide,
      check,
      subject('EKS Pod Identity for another service account of the cluster'),
      'denied',
      service(
        'sts:AssumeRole',
        podContext({
          namespace: `not-${cluster.operator.namespace}`,
          serviceAccount: `not-${cluster.operator.serviceAccount}`,
        }),
      ),
      'the trust does not restrict the namespace and service account; only the pod identity association does',
      'warning',
    ),
    expectDecision(
      decide,
      check,
      subject(`another role of the cluster account ${account}`),
      'denied',
      {
        principal: `arn:${partition}:sts::${account}:assumed-role/not-keda-${hashOf(
          roleArn,
        )}/session`,
        action: 'sts:AssumeRole',
        resource: roleArn,
        resourceAccount: account,
        identity: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
          ],
        },
        resourcePolicy: trust,
      },
      'the trust admits more than EKS Pod Identity',
    ),
  ]);
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return (
    code === 'MODULE_NOT_FOUND' ||
    code === 'ERR_MODULE_NOT_FOUND' ||
    /Cannot find (module|package)/.test(errorMessage(error))
  );
}

async function evaluateTrusts(
  options: VerifyPlanDocumentsOptions,
): Promise<VerificationCheck[]> {
  const { plan } = options;
  let decide: Decide | undefined;
  const checks: VerificationCheck[] = [];
  try {
    decide = simulator(
      await (options.loadIamSimulate ?? defaultIamSimulateLoader)(),
    );
  } catch (error) {
    checks.push({
      check: VERIFICATION_CHECKS.scalerTrust,
      subject: 'scaler and KEDA operator role trust policies',
      outcome: 'warning',
      detail: isModuleNotFound(error)
        ? `in-process trust evaluation not run: @cloud-copilot/iam-simulate is not installed; ${INSTALL_IAM_SIMULATE}`
        : `in-process trust evaluation not run: loading @cloud-copilot/iam-simulate failed (${errorMessage(
            error,
          )})`,
    });
  }
  if (decide) checks.push(...(await evaluateScalerTrust(decide, plan)));
  checks.push(...(await evaluateOperatorTrust(decide, plan)));
  return checks;
}

// ------------------------------------------------------------ entry points

/**
 * Checks that need no role to exist, run before provisioning: IAM Access
 * Analyzer (`ValidatePolicy` on the four documents, `CheckAccessNotGranted`
 * on the scaler permission policy, `CheckNoPublicAccess` on both trust
 * policies) and the in-process evaluation of both trust policies.
 * @public
 */
export async function verifyPlanDocuments(
  options: VerifyPlanDocumentsOptions,
): Promise<ChainVerification> {
  const [analyzer, trusts] = await Promise.all([
    analyzeDocuments(options),
    evaluateTrusts(options),
  ]);
  return withVerdict([...analyzer, ...trusts]);
}

/**
 * Every check, run after provisioning: `iam:SimulatePrincipalPolicy` on the
 * roles' identity policies (in forms AWS accepts: no resource policy, since
 * the simulator does not evaluate trust policies for sts:AssumeRole) plus
 * `verifyPlanDocuments`.
 * @public
 */
export async function verifyScalerChain(
  options: VerifyScalerChainOptions,
): Promise<ChainVerification> {
  const [simulated, documents] = await Promise.all([
    simulateRoles(options),
    verifyPlanDocuments(options),
  ]);
  return withVerdict([...simulated, ...documents.checks]);
}
