import { KubernetesApiError } from './errors';
import {
  AdmissionHook,
  KubernetesObject,
  KubernetesObjectStore,
} from './store';

/**
 * KEDA v2.20's validating admission webhooks (`apis/keda/v1alpha1/
 * scaledobject_webhook.go`, `triggerauthentication_webhook.go`), reduced to
 * the rules that matter for SQS scaling. `@internal/plugin-keda-common` did not
 * export a `validateKedaAdmission` when this was written, so the rules live
 * here, in the server, where a real cluster enforces them.
 */

/** Label values are ≤ 63 characters and KEDA uses the name as one. */
const MAX_LABEL_VALUE_LENGTH = 63;

/**
 * A webhook denial as the API server reports it: 403 Forbidden with
 * `admission webhook "<name>" denied the request: <reason>`.
 */
function denied(webhook: string, reason: string): KubernetesApiError {
  return new KubernetesApiError(
    403,
    'Forbidden',
    `admission webhook "${webhook}" denied the request: ${reason}`,
  );
}

/** `keda-hpa-<name>` unless the ScaledObject names its HPA. */
export function hpaNameOf(scaledObject: KubernetesObject): string {
  return (
    scaledObject.spec?.advanced?.horizontalPodAutoscalerConfig?.name ||
    `keda-hpa-${scaledObject.metadata?.name}`
  );
}

/** KEDA's GVK string for a scale target, e.g. `apps/v1.Deployment`. */
export function scaleTargetGvk(ref: {
  apiVersion?: string;
  kind?: string;
}): string {
  return `${ref.apiVersion || 'apps/v1'}.${ref.kind || 'Deployment'}`;
}

function isAwsProvider(provider: unknown) {
  return provider === 'aws';
}

/** TriggerAuthentication / ClusterTriggerAuthentication `validateSpec`. */
export function validateTriggerAuthenticationSpec(
  spec: KubernetesObject['spec'],
): string | undefined {
  const podIdentity = spec?.podIdentity;
  if (podIdentity && isAwsProvider(podIdentity.provider)) {
    const workloadOwner = podIdentity.identityOwner === 'workload';
    if (podIdentity.roleArn && workloadOwner) {
      return "roleArn of PodIdentity can't be set if KEDA isn't identityOwner";
    }
    if (podIdentity.externalID && !podIdentity.roleArn) {
      return 'externalID of PodIdentity requires roleArn to be set';
    }
  }
  return undefined;
}

/** The ScaledObject rules; returns the denial reason or undefined. */
export function validateScaledObject(
  scaledObject: KubernetesObject,
  store: KubernetesObjectStore,
): string | undefined {
  const name = scaledObject.metadata!.name!;
  const namespace = scaledObject.metadata!.namespace;
  const spec = scaledObject.spec ?? {};

  if (name.length > MAX_LABEL_VALUE_LENGTH) {
    return `scaledobject name "${name}" is ${name.length} characters long; must be no more than ${MAX_LABEL_VALUE_LENGTH} characters because it is used as the "scaledobject.keda.sh/name" label value`;
  }
  const hpaName = hpaNameOf(scaledObject);
  if (hpaName.length > MAX_LABEL_VALUE_LENGTH) {
    return `HPA name "${hpaName}" derived from scaledobject is ${hpaName.length} characters long; must be no more than ${MAX_LABEL_VALUE_LENGTH} characters; set spec.advanced.horizontalPodAutoscalerConfig.name to a shorter name or shorten the scaledobject name`;
  }

  // Replica bounds (CheckReplicaCountBoundsAreValid): KEDA treats an unset
  // or zero minReplicaCount as 1 for the HPA, but 0 for the idle check.
  const max = spec.maxReplicaCount ?? 100;
  let min = 0;
  if (spec.minReplicaCount !== undefined) {
    min = spec.minReplicaCount > 0 ? spec.minReplicaCount : 1;
  }
  if (min > max) {
    return `MinReplicaCount=${min} must be less than MaxReplicaCount=${max}`;
  }
  if (spec.idleReplicaCount !== undefined && spec.idleReplicaCount >= min) {
    return `IdleReplicaCount=${spec.idleReplicaCount} must be less than MinReplicaCount=${min}`;
  }

  if (spec.fallback) {
    const { failureThreshold, replicas } = spec.fallback;
    if (failureThreshold < 0 || replicas < 0) {
      return `FailureThreshold=${failureThreshold} & Replicas=${replicas} must both be greater than or equal to 0`;
    }
    for (const trigger of spec.triggers ?? []) {
      if (trigger.type === 'cpu' || trigger.type === 'memory') {
        return `type is ${trigger.type}, but fallback it is not supported by the CPU & memory scalers`;
      }
      if (trigger.metricType && trigger.metricType !== 'AverageValue') {
        return `MetricType=${trigger.metricType}, but Fallback can only be enabled for triggers with metric of type AverageValue`;
      }
    }
  }

  const target = spec.scaleTargetRef ?? {};
  const targetGvk = scaleTargetGvk(target);
  for (const other of store.list('scaledobjects.keda.sh', { namespace })
    .items) {
    if (other.metadata!.name === name) continue;
    const otherTarget = other.spec?.scaleTargetRef ?? {};
    if (
      scaleTargetGvk(otherTarget) === targetGvk &&
      otherTarget.name === target.name
    ) {
      return `the workload '${
        otherTarget.name
      }' of type '${targetGvk}' is already managed by the ScaledObject '${
        other.metadata!.name
      }'`;
    }
    if (hpaNameOf(other) === hpaName) {
      return `the HPA '${hpaName}' is already managed by the ScaledObject '${
        other.metadata!.name
      }'`;
    }
  }
  for (const hpa of store.list('horizontalpodautoscalers.autoscaling', {
    namespace,
  }).items) {
    if (
      hpa.metadata?.annotations?.['validations.keda.sh/hpa-ownership'] ===
      'false'
    ) {
      continue;
    }
    const ref = hpa.spec?.scaleTargetRef ?? {};
    if (scaleTargetGvk(ref) !== targetGvk || ref.name !== target.name) continue;
    const owned = (hpa.metadata?.ownerReferences ?? []).some(
      owner => owner.kind === 'ScaledObject' && owner.name === name,
    );
    if (!owned) {
      return `the workload '${
        target.name
      }' of type '${targetGvk}' is already managed by the hpa '${
        hpa.metadata!.name
      }'`;
    }
  }

  const triggerNames = new Set<string>();
  for (const trigger of spec.triggers ?? []) {
    if (!trigger.name) continue;
    if (triggerNames.has(trigger.name)) {
      return `triggerName '${trigger.name}' is defined multiple times in the ScaledObject/ScaledJob, but it must be unique`;
    }
    triggerNames.add(trigger.name);
  }
  return undefined;
}

function specUnchangedWhileRemovingFinalizers(
  object: KubernetesObject,
  oldObject?: KubernetesObject,
) {
  return (
    oldObject !== undefined &&
    (object.metadata?.finalizers?.length ?? 0) <
      (oldObject.metadata?.finalizers?.length ?? 0) &&
    JSON.stringify(object.spec) === JSON.stringify(oldObject.spec)
  );
}

/** The admission hook the stand-in API server installs for `keda.sh`. */
export const kedaAdmission: AdmissionHook = ({
  type,
  object,
  oldObject,
  store,
}) => {
  if (type.group !== 'keda.sh') return;
  // KEDA skips validation when only finalizers are being removed, so a
  // stuck object can always be deleted.
  if (specUnchangedWhileRemovingFinalizers(object, oldObject)) return;
  if (type.kind === 'ScaledObject') {
    const reason = validateScaledObject(object, store);
    if (reason) throw denied('vscaledobject.kb.io', reason);
  }
  if (type.kind === 'TriggerAuthentication') {
    const reason = validateTriggerAuthenticationSpec(object.spec);
    if (reason) throw denied('vstriggerauthentication.kb.io', reason);
  }
  if (type.kind === 'ClusterTriggerAuthentication') {
    const reason = validateTriggerAuthenticationSpec(object.spec);
    if (reason) throw denied('vsclustertriggerauthentication.kb.io', reason);
  }
};
