import type {
  KedaAuthChain,
  KedaCondition,
  KedaDiagnosis,
  KedaEvent,
  KedaHealth,
} from '@internal/plugin-keda-common';

/** What one SQS trigger says about its queue and region. */
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

/** Everything {@link diagnose} looks at; all of it comes from the watch cache. */
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
    const role = parts?.resource ?? input.auth?.roleArn ?? 'the scaler role';
    const who =
      parts?.principal ?? input.auth?.operatorRoleArn ?? 'the KEDA operator';
    return {
      code: 'AssumeRoleAccessDenied',
      severity: 'error',
      cause: `${who} is not allowed to assume ${role}, so KEDA cannot read the queue.`,
      fix:
        `Make the trust policy of ${role} name the KEDA operator role as AWS principal with sts:AssumeRole` +
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
  message => {
    if (!/AccessDenied/i.test(message) || !/GetQueueAttributes/i.test(message))
      return undefined;
    const parts = accessDeniedParts(message);
    return {
      code: 'QueueAccessDenied',
      severity: 'error',
      cause: `${
        parts?.principal ?? 'The role KEDA uses'
      } may not call sqs:GetQueueAttributes on ${
        parts?.resource ?? 'the queue'
      }.`,
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

function rawMessages(input: DiagnosisInput): string[] {
  const fromConditions = input.conditions
    .filter(c => c.message && (c.status === 'False' || c.type === 'Fallback'))
    .map(c => c.message!);
  const fromEvents = input.events
    .filter(e => e.type === 'Warning' || e.reason === 'KEDAScalerFailed')
    .map(e => e.message);
  return [...fromConditions, ...fromEvents];
}

/**
 * Maps what KEDA reports (conditions, KEDAScalerFailed events) and what the
 * manifests say (auth provider, trigger regions) to plain-language causes and
 * fixes. Pure: the same input always gives the same diagnoses, errors first,
 * at most one per code.
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
