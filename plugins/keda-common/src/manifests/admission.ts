/**
 * KEDA's validating admission rules (v2.20, `apis/keda/v1alpha1/*_webhook.go`
 * and the CRD's CEL rule) for what can be checked from the object alone.
 * Checks that need the cluster (another ScaledObject or HPA already managing
 * the workload, container resource requests for cpu/memory triggers) are left
 * to the caller.
 */

/** @public */
export interface KedaAdmissionResult {
  allowed: boolean;
  /** KEDA-style messages; the first is what the API server would return */
  errors: string[];
}

// Label values are at most 63 characters; KEDA copies the ScaledObject name
// into the `scaledobject.keda.sh/name` label and derives the HPA name from it.
const MAX_LABEL_VALUE = 63;
const DEFAULT_MAX_REPLICAS = 100;

type Obj = Record<string, any>;

const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function scaledObjectErrors(so: Obj): string[] {
  const errors: string[] = [];
  const name: string = so.metadata?.name ?? '';
  const spec: Obj = isObj(so.spec) ? so.spec : {};

  if (name.length > MAX_LABEL_VALUE) {
    errors.push(
      `scaledobject name "${name}" is ${name.length} characters long; must be no more than ${MAX_LABEL_VALUE} characters because it is used as a label value`,
    );
  } else {
    const hpaName: string =
      spec.advanced?.horizontalPodAutoscalerConfig?.name || `keda-hpa-${name}`;
    if (hpaName.length > MAX_LABEL_VALUE) {
      errors.push(
        `HPA name "${hpaName}" derived from scaledobject is ${hpaName.length} characters long; must be no more than ${MAX_LABEL_VALUE} characters; set spec.advanced.horizontalPodAutoscalerConfig.name to a shorter name or shorten the scaledobject name`,
      );
    }
  }

  const min: number = spec.minReplicaCount ?? 0;
  const max: number = spec.maxReplicaCount ?? DEFAULT_MAX_REPLICAS;
  if (min > max) {
    errors.push(
      `MinReplicaCount=${min} must be less than MaxReplicaCount=${max}`,
    );
  }
  if (spec.idleReplicaCount !== undefined && spec.idleReplicaCount >= min) {
    errors.push(
      `IdleReplicaCount=${spec.idleReplicaCount} must be less than MinReplicaCount=${min}`,
    );
  }

  const triggers: Obj[] = Array.isArray(spec.triggers) ? spec.triggers : [];
  if (triggers.length === 0) {
    errors.push('no triggers defined in the ScaledObject/ScaledJob');
  }
  const seen = new Set<string>();
  for (const trigger of triggers) {
    if (
      trigger.useCachedMetrics &&
      ['cpu', 'memory', 'cron'].includes(trigger.type)
    ) {
      errors.push(
        `property "useCachedMetrics" is not supported for "${trigger.type}" scaler`,
      );
    }
    if (trigger.name) {
      if (seen.has(trigger.name)) {
        errors.push(
          `triggerName "${trigger.name}" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique`,
        );
      }
      seen.add(trigger.name);
    }
  }

  if (isObj(spec.fallback)) {
    const { failureThreshold, replicas } = spec.fallback;
    if (failureThreshold < 0 || replicas < 0) {
      errors.push(
        `FailureThreshold=${failureThreshold} & Replicas=${replicas} must both be greater than or equal to 0`,
      );
    }
    for (const trigger of triggers) {
      if (trigger.type === 'cpu' || trigger.type === 'memory') {
        errors.push(
          `type is ${trigger.type}, but fallback it is not supported by the CPU & memory scalers`,
        );
      } else if (
        trigger.metricType !== undefined &&
        trigger.metricType !== '' &&
        trigger.metricType !== 'AverageValue'
      ) {
        errors.push(
          `MetricType=${trigger.metricType}, but Fallback can only be enabled for triggers with metric of type AverageValue`,
        );
      }
    }
  }
  return errors;
}

function triggerAuthenticationErrors(ta: Obj): string[] {
  const podIdentity = ta.spec?.podIdentity;
  if (!isObj(podIdentity) || podIdentity.provider !== 'aws') return [];
  const errors: string[] = [];
  if (podIdentity.roleArn && podIdentity.identityOwner === 'workload') {
    errors.push(
      "roleArn of PodIdentity can't be set if KEDA isn't identityOwner",
    );
  }
  if (podIdentity.externalID && !podIdentity.roleArn) {
    errors.push('externalID of PodIdentity requires roleArn to be set');
  }
  return errors;
}

/**
 * Applies KEDA's admission webhook rules to a ScaledObject,
 * TriggerAuthentication or ClusterTriggerAuthentication (other kinds pass).
 * @public
 */
export function validateKedaAdmission(obj: unknown): KedaAdmissionResult {
  if (!isObj(obj)) {
    return { allowed: false, errors: ['object must be a Kubernetes object'] };
  }
  if (obj.apiVersion !== 'keda.sh/v1alpha1')
    return { allowed: true, errors: [] };
  let errors: string[] = [];
  if (obj.kind === 'ScaledObject') errors = scaledObjectErrors(obj);
  else if (
    obj.kind === 'TriggerAuthentication' ||
    obj.kind === 'ClusterTriggerAuthentication'
  ) {
    errors = triggerAuthenticationErrors(obj);
  }
  return { allowed: errors.length === 0, errors };
}
