import type {
  KedaAuthChain,
  KedaCondition,
  KedaDiagnosis,
  KedaEvent,
  KedaHealth,
} from '@keda-self-service/plugin-keda-common';

/** What one SQS trigger says about its queue and region. @public */
export interface SqsTriggerFacts {
  index: number;
  /** `awsRegion` from the trigger metadata. */
  awsRegion?: string;
  /** Region parsed from `queueURL`. */
  queueRegion?: string;
  queueUrl?: string;
  /** Why `queueURL` could not be parsed, if it could not. */
  queueUrlError?: string;
}

/** Everything {@link diagnose} looks at; all of it comes from the watch cache. @public */
export interface DiagnosisInput {
  health: KedaHealth;
  conditions: KedaCondition[];
  /** Recent events of the ScaledObject and its HPA (KEDAScalerFailed, …). */
  events: KedaEvent[];
  sqsTriggers: SqsTriggerFacts[];
  auth?: KedaAuthChain;
  /** False when the scale target is a cached kind and is missing. */
  scaleTargetFound?: boolean;
  scaleTarget?: { kind: string; name: string };
}

const ACCESS_DENIED =
  /User: (\S+) is not authorized to perform: (\S+) on resource: (\S+)/i;

function accessDeniedParts(message: string) {
  const m = ACCESS_DENIED.exec(message);
  return m ? { principal: m[1], action: m[2], resource: m[3] } : undefined;
}

/** An IAM principal or resource ARN, parsed for people to read. */
interface ArnParts {
  /** `role`, `user`, `queue` or `resource` (anything else). */
  kind: 'role' | 'user' | 'queue' | 'resource';
  name: string;
  account?: string;
  region?: string;
}

/**
 * Parses an ARN from an AWS error: an assumed-role session
 * (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) is its role, an IAM
 * role or user is its name without the path, an SQS ARN is its queue.
 */
export function parseArn(arn: string): ArnParts | undefined {
  const m = /^arn:[^:]+:([^:]+):([^:]*):(\d{12})?:(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, service, region, account, resource] = m;
  if (service === 'sts' && resource.startsWith('assumed-role/')) {
    const name = resource.split('/')[1];
    return name ? { kind: 'role', name, account } : undefined;
  }
  if (service === 'iam' && /^(role|user)\//.test(resource)) {
    const name = resource.split('/').pop()!;
    return {
      kind: resource.startsWith('role/') ? 'role' : 'user',
      name,
      account,
    };
  }
  if (service === 'sqs') {
    return {
      kind: 'queue',
      name: resource,
      account,
      region: region || undefined,
    };
  }
  return {
    kind: 'resource',
    name: resource,
    account,
    region: region || undefined,
  };
}

const sameRole = (a: ArnParts | undefined, arn: string | undefined) => {
  const b = arn ? parseArn(arn) : undefined;
  return Boolean(
    a && b && a.kind === b.kind && a.name === b.name && a.account === b.account,
  );
};

/**
 * "the KEDA operator role keda-operator (account 111111111111)": the role's
 * part in the chain, its name and account, from an ARN in an AWS message or
 * from the configuration. Falls back to the raw text when it is no ARN.
 */
function describePrincipal(
  arn: string | undefined,
  input: DiagnosisInput,
  fallback: string,
): string {
  if (!arn) return fallback;
  const p = parseArn(arn);
  if (!p) return arn;
  const where = p.account ? ` (account ${p.account})` : '';
  if (p.kind === 'queue') {
    return `the queue ${p.name}${
      p.account || p.region
        ? ` (${[p.account && `account ${p.account}`, p.region]
            .filter(Boolean)
            .join(', ')})`
        : ''
    }`;
  }
  if (p.kind === 'role') {
    let part = 'the role';
    if (sameRole(p, input.auth?.operatorRoleArn)) {
      part = 'the KEDA operator role';
    } else if (sameRole(p, input.auth?.roleArn)) {
      part = 'the scaler role';
    }
    return `${part} ${p.name}${where}`;
  }
  return `${p.kind === 'user' ? 'the IAM user' : ''} ${p.name}${where}`.trim();
}

/** "the scaler role keda-sqs-orders (account 222222222222)" from a role or session ARN. */
function describeRole(arn: string | undefined, part: string): string {
  const p = arn ? parseArn(arn) : undefined;
  if (!p || p.kind !== 'role') return arn ? `${part} ${arn}` : part;
  return `${part} ${p.name}${p.account ? ` (account ${p.account})` : ''}`;
}

/** The role ARN behind an assumed-role session ARN (path unknown: none). */
function roleArnOfSession(arn: string | undefined): string | undefined {
  const m =
    arn && /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

const capitalise = (text: string) =>
  text.charAt(0).toUpperCase() + text.slice(1);

type Rule = (
  message: string,
  input: DiagnosisInput,
) => KedaDiagnosis | undefined;

/**
 * Failure messages users hit, most specific first. Each rule reads one raw
 * message (a condition or a KEDAScalerFailed event) and returns a diagnosis
 * or nothing. The texts come from the AWS SDK for Go v2 errors KEDA wraps.
 */
const MESSAGE_RULES: Rule[] = [
  // kedacore/keda#1408: the operator role may not assume the scaler role.
  (message, input) => {
    if (
      !/AccessDenied/i.test(message) ||
      !/sts:AssumeRole\b(?!WithWebIdentity)/i.test(message)
    ) {
      return undefined;
    }
    const parts = accessDeniedParts(message);
    const roleArn = parts?.resource ?? input.auth?.roleArn;
    const whoArn = parts?.principal ?? input.auth?.operatorRoleArn;
    // The operator's session is named after its role; the message names the
    // role it tried to assume, so each is the operator/scaler role by place.
    const who = describeRole(whoArn, 'the KEDA operator role');
    const role = describeRole(roleArn, 'the scaler role');
    const operatorRoleArn =
      input.auth?.operatorRoleArn ?? roleArnOfSession(whoArn);
    return {
      code: 'AssumeRoleAccessDenied',
      severity: 'error',
      cause: `${capitalise(
        who,
      )} may not assume ${role}, so KEDA cannot read the queue.`,
      fix:
        `Make the trust policy of ${role} name the KEDA operator role${
          operatorRoleArn ? ` (${operatorRoleArn})` : ''
        } as AWS principal with sts:AssumeRole` +
        `${
          input.auth?.externalIdSet
            ? ' and the same sts:ExternalId as the TriggerAuthentication'
            : ''
        }, ` +
        "and allow sts:AssumeRole on that role in the operator role's own policy. If both are right, an SCP or permissions boundary denies cross-account AssumeRole: ask the AWS organisation admins.",
      evidence: message,
    };
  },
  // kedacore/keda#4764: the operator's IRSA trust does not accept its token.
  message => {
    if (
      !/AssumeRoleWithWebIdentity/i.test(message) ||
      !/(AccessDenied|InvalidIdentityToken|Incorrect token audience)/i.test(
        message,
      )
    ) {
      return undefined;
    }
    return {
      code: 'OperatorWebIdentityDenied',
      severity: 'error',
      cause:
        "AWS rejected the KEDA operator's web identity token, so the operator has no AWS identity of its own.",
      fix:
        "Check the operator role's trust policy: Federated principal = the cluster's OIDC provider, " +
        'conditions <issuer>:sub = system:serviceaccount:keda:keda-operator and <issuer>:aud = sts.amazonaws.com; ' +
        'and the Helm value podIdentity.aws.irsa.roleArn = that role.',
      evidence: message,
    };
  },
  (message, input) => {
    if (!/AccessDenied/i.test(message) || !/GetQueueAttributes/i.test(message))
      return undefined;
    const parts = accessDeniedParts(message);
    return {
      code: 'QueueAccessDenied',
      severity: 'error',
      cause: `${capitalise(
        describePrincipal(parts?.principal, input, 'the role KEDA uses'),
      )} may not call sqs:GetQueueAttributes on ${describePrincipal(
        parts?.resource,
        input,
        'the queue',
      )}.`,
      fix:
        "Allow sqs:GetQueueAttributes on exactly the queue ARN in the scaler role's permission policy (or in the queue policy), " +
        'and make sure a KMS or queue policy does not deny the role.',
      evidence: message,
    };
  },
  (message, input) => {
    if (
      !/NonExistentQueue|QueueDoesNotExist|specified queue does not exist/i.test(
        message,
      )
    ) {
      return undefined;
    }
    const mismatch = input.sqsTriggers.find(
      t => t.awsRegion && t.queueRegion && t.awsRegion !== t.queueRegion,
    );
    return {
      code: 'NonExistentQueue',
      severity: 'error',
      cause: mismatch
        ? `SQS says the queue does not exist because KEDA looks in ${mismatch.awsRegion} (awsRegion) while the queue is in ${mismatch.queueRegion}.`
        : 'SQS says the queue does not exist in the region and account KEDA asked.',
      fix: mismatch
        ? `Set awsRegion to ${mismatch.queueRegion} in trigger ${mismatch.index}.`
        : "Check queueURL (account id and name are case-sensitive) and that awsRegion equals the queue's region; recreate the queue if it was deleted.",
      evidence: message,
    };
  },
  // kedacore/keda#6418, #6706: no base identity for the operator.
  message => {
    if (
      !/awsAccessKeyID not found|WebIdentityErr|no EC2 IMDS role found|failed to refresh cached credentials|NoCredentialProviders|could not find any credentials/i.test(
        message,
      )
    ) {
      return undefined;
    }
    return {
      code: 'MissingOperatorIdentity',
      severity: 'error',
      cause:
        'The KEDA operator has no AWS identity of its own, so it cannot assume any role.',
      fix:
        'Give the operator an identity: Helm values podIdentity.aws.irsa.enabled=true with roleArn of the operator role ' +
        '(IRSA), or an EKS Pod Identity association for keda/keda-operator; then restart the keda-operator pods. ' +
        "Use provider 'aws' in TriggerAuthentications (not static keys).",
      evidence: message,
    };
  },
];

const timeOf = (iso: string | undefined) => {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * When the ScaledObject last became Ready, if it is Ready now: the Ready
 * condition's lastTransitionTime or, as KEDA's own conditions carry none,
 * the last `ScaledObjectReady` event (KEDA emits it when Ready turns True).
 */
function readySince(input: DiagnosisInput): number | undefined {
  const ready = input.conditions.find(c => c.type === 'Ready');
  if (ready?.status !== 'True') return undefined;
  const transition = timeOf(ready.lastTransitionTime);
  if (transition !== undefined) return transition;
  const readyEvents = input.events
    .filter(e => e.type === 'Normal' && e.reason === 'ScaledObjectReady')
    .map(e => timeOf(e.lastTimestamp))
    .filter((t): t is number => t !== undefined);
  return readyEvents.length ? Math.max(...readyEvents) : undefined;
}

/**
 * The failure events that describe the present: while the ScaledObject is
 * Ready, a warning that last happened before it became Ready is history
 * (the events drawer still lists it), not a current problem.
 */
export function currentFailureEvents(input: DiagnosisInput): KedaEvent[] {
  const since = readySince(input);
  return input.events.filter(e => {
    if (e.type !== 'Warning' && e.reason !== 'KEDAScalerFailed') return false;
    const last = timeOf(e.lastTimestamp);
    return since === undefined || last === undefined || last > since;
  });
}

function rawMessages(input: DiagnosisInput): string[] {
  const fromConditions = input.conditions
    .filter(c => c.message && (c.status === 'False' || c.type === 'Fallback'))
    .map(c => c.message!);
  const fromEvents = currentFailureEvents(input).map(e => e.message);
  return [...fromConditions, ...fromEvents];
}

/**
 * Maps what KEDA reports (conditions, KEDAScalerFailed events) and what the
 * manifests say (auth provider, trigger regions) to plain-language causes and
 * fixes. Pure: the same input always gives the same diagnoses, errors first,
 * at most one per code.
 *
 * @public
 */
export function diagnose(input: DiagnosisInput): KedaDiagnosis[] {
  const found = new Map<string, KedaDiagnosis>();
  const add = (d: KedaDiagnosis | undefined) => {
    if (d && !found.has(d.code)) found.set(d.code, d);
  };

  for (const message of rawMessages(input)) {
    // First matching rule wins: a message such as "WebIdentityErr … AccessDenied
    // … AssumeRoleWithWebIdentity" has one cause, not two.
    for (const rule of MESSAGE_RULES) {
      const d = rule(message, input);
      if (d) {
        add(d);
        break;
      }
    }
  }

  // Checks that need no failure to have happened yet.
  for (const t of input.sqsTriggers) {
    if (t.queueUrlError) {
      add({
        code: 'InvalidQueueUrl',
        severity: 'error',
        cause: `Trigger ${t.index} has a queueURL KEDA cannot use: ${t.queueUrlError}`,
        fix: 'Use the full queue URL, https://sqs.<region>.amazonaws.com/<account>/<name>.',
        evidence: t.queueUrl,
      });
    } else if (t.awsRegion && t.queueRegion && t.awsRegion !== t.queueRegion) {
      add({
        code: 'RegionMismatch',
        severity: 'error',
        cause: `Trigger ${t.index} reads the queue in ${t.awsRegion} but the queue URL is in ${t.queueRegion}; KEDA will report NonExistentQueue.`,
        fix: `Set awsRegion to ${t.queueRegion}.`,
        evidence: t.queueUrl,
      });
    }
  }

  const auth = input.auth;
  if (auth && !auth.found) {
    add({
      code: 'TriggerAuthenticationMissing',
      severity: 'error',
      cause: `The ${auth.kind} '${auth.name}' the trigger references does not exist.`,
      fix:
        auth.kind === 'TriggerAuthentication'
          ? "Create it in the ScaledObject's namespace (it is namespaced) or fix authenticationRef.name."
          : 'Create the ClusterTriggerAuthentication or fix authenticationRef.',
    });
  }
  if (auth?.provider === 'aws-kiam') {
    add({
      code: 'RemovedProvider',
      severity: 'error',
      cause:
        "The 'aws-kiam' pod identity provider was removed in KEDA 2.15; KEDA ignores this authentication.",
      fix: "Use provider 'aws' with roleArn set to the scaler role.",
    });
  } else if (auth?.deprecatedProvider) {
    add({
      code: 'DeprecatedProvider',
      severity: 'warning',
      cause: `The '${auth.provider}' provider is deprecated since KEDA 2.13 and will be removed in KEDA v3.`,
      fix: "Switch the TriggerAuthentication to provider 'aws' with roleArn set to the scaler role (no workload ServiceAccount annotation needed).",
    });
  }

  if (input.scaleTargetFound === false && input.scaleTarget) {
    add({
      code: 'ScaleTargetMissing',
      severity: 'error',
      cause: `The scale target ${input.scaleTarget.kind} '${input.scaleTarget.name}' does not exist in the namespace.`,
      fix: 'Fix spec.scaleTargetRef or deploy the workload.',
    });
  }

  if (
    input.conditions.some(c => c.type === 'Fallback' && c.status === 'True')
  ) {
    add({
      code: 'FallbackActive',
      severity: 'warning',
      cause: 'KEDA cannot read the metric and runs the fallback replica count.',
      fix: 'See the other diagnoses and the KEDAScalerFailed events for the failing trigger.',
    });
  }

  // Degraded but no rule explained it: surface KEDA's own words.
  if (
    input.health === 'Degraded' &&
    ![...found.values()].some(d => d.severity === 'error')
  ) {
    const ready = input.conditions.find(
      c => c.type === 'Ready' && c.status === 'False',
    );
    add({
      code: 'ScaledObjectNotReady',
      severity: 'error',
      cause: `KEDA reports the ScaledObject is not ready${
        ready?.reason ? ` (${ready.reason})` : ''
      }.`,
      fix: 'Read the message and the keda-operator logs for this ScaledObject.',
      evidence: ready?.message,
    });
  }

  const rank = (d: KedaDiagnosis) => (d.severity === 'error' ? 0 : 1);
  // Array.prototype.sort is stable: within a severity, discovery order stays.
  return [...found.values()].sort((a, b) => rank(a) - rank(b));
}
