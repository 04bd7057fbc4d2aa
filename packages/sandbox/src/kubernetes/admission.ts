import { validateKedaAdmission } from '@keda-self-service/plugin-keda-common';
import { KubernetesApiError } from './errors';
import {
  AdmissionHook,
  KubernetesObject,
  KubernetesObjectStore,
} from './store';

/**
 * KEDA v2.20's validating admission webhooks (`apis/keda/v1alpha1/
 * scaledobject_webhook.go`, `triggerauthentication_webhook.go`) as the
 * stand-in API server enforces them. Rules that need only the object come
 * from the domain core's `validateKedaAdmission` (one source of truth with
 * the plan step); the rules that need the cluster — another ScaledObject or
 * a foreign HPA already scaling the workload — live here, where the cluster is.
 */

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

/** The ScaledObject rules; returns the denial reason or undefined. */
export function validateScaledObject(
  scaledObject: KubernetesObject,
  store: KubernetesObjectStore,
): string | undefined {
  const name = scaledObject.metadata!.name!;
  const namespace = scaledObject.metadata!.namespace;
  const spec = scaledObject.spec ?? {};

  const objectRules = validateKedaAdmission(scaledObject);
  if (!objectRules.allowed) return objectRules.errors[0];
  const hpaName = hpaNameOf(scaledObject);

  const target = spec.scaleTargetRef ?? {};
  const targetGvk = scaleTargetGvk(target);
  // A scan, not a list: this runs on every ScaledObject write, and copying
  // every ScaledObject and HPA in the namespace would make it the costliest
  // part of a write.
  let denial: string | undefined;
  store.scan('scaledobjects.keda.sh', namespace, other => {
    if (denial || other.metadata!.name === name) return;
    const otherTarget = other.spec?.scaleTargetRef ?? {};
    if (
      scaleTargetGvk(otherTarget) === targetGvk &&
      otherTarget.name === target.name
    ) {
      denial = `the workload '${
        otherTarget.name
      }' of type '${targetGvk}' is already managed by the ScaledObject '${
        other.metadata!.name
      }'`;
    } else if (hpaNameOf(other) === hpaName) {
      denial = `the HPA '${hpaName}' is already managed by the ScaledObject '${
        other.metadata!.name
      }'`;
    }
  });
  if (denial) return denial;
  store.scan('horizontalpodautoscalers.autoscaling', namespace, hpa => {
    if (
      denial ||
      hpa.metadata?.annotations?.['validations.keda.sh/hpa-ownership'] ===
        'false'
    ) {
      return;
    }
    const ref = hpa.spec?.scaleTargetRef ?? {};
    if (scaleTargetGvk(ref) !== targetGvk || ref.name !== target.name) return;
    const owned = (hpa.metadata?.ownerReferences ?? []).some(
      owner => owner.kind === 'ScaledObject' && owner.name === name,
    );
    if (!owned) {
      denial = `the workload '${
        target.name
      }' of type '${targetGvk}' is already managed by the hpa '${
        hpa.metadata!.name
      }'`;
    }
  });
  return denial;
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
  subresource,
  store,
}) => {
  // KEDA's webhooks are registered for the resources, not their /status
  // (which only the operator writes) or /scale.
  if (type.group !== 'keda.sh' || subresource) return;
  // KEDA skips validation when only finalizers are being removed, so a
  // stuck object can always be deleted.
  if (specUnchangedWhileRemovingFinalizers(object, oldObject)) return;
  if (type.kind === 'ScaledObject') {
    const reason = validateScaledObject(object, store);
    if (reason) throw denied('vscaledobject.kb.io', reason);
  }
  if (
    type.kind === 'TriggerAuthentication' ||
    type.kind === 'ClusterTriggerAuthentication'
  ) {
    const result = validateKedaAdmission(object);
    if (!result.allowed) {
      throw denied(`vs${type.kind.toLowerCase()}.kb.io`, result.errors[0]);
    }
  }
};
