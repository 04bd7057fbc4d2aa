import type { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_ID_LABEL,
  KUBERNETES_NAMESPACE_ANNOTATION,
} from '@keda-self-service/plugin-keda-common';
import {
  LabelSelectorSyntaxError,
  matchesLabelSelector,
  parseLabelSelector,
  type LabelRequirement,
} from '../kubernetes/labelSelector';

/** The Kubernetes plugin's label-selector annotation. */
export const KUBERNETES_LABEL_SELECTOR_ANNOTATION =
  'backstage.io/kubernetes-label-selector';

/** Which Kubernetes objects belong to an entity. */
export interface EntityObjectSelector {
  requirements: LabelRequirement[];
  /** Only objects in this namespace, when the entity says so. */
  namespace?: string;
}

/**
 * The Kubernetes plugin's conventions for finding an entity's objects:
 * `backstage.io/kubernetes-label-selector` wins, else
 * `backstage.io/kubernetes-id` means label `backstage.io/kubernetes-id=<id>`;
 * `backstage.io/kubernetes-namespace` narrows to one namespace. Returns
 * undefined for an entity with neither annotation (it has no objects).
 */
export function entityObjectSelector(
  entity: Entity,
): EntityObjectSelector | undefined {
  const annotations = entity.metadata.annotations ?? {};
  const namespace = annotations[KUBERNETES_NAMESPACE_ANNOTATION] || undefined;
  const selector = annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION];
  if (selector !== undefined && selector.trim() !== '') {
    try {
      return { requirements: parseLabelSelector(selector), namespace };
    } catch (e) {
      if (e instanceof LabelSelectorSyntaxError) {
        throw new InputError(
          `The entity's annotation '${KUBERNETES_LABEL_SELECTOR_ANNOTATION}' is not a valid label selector: ${e.message}. Fix the annotation in catalog-info.yaml, e.g. 'app.kubernetes.io/name=orders-worker'.`,
        );
      }
      throw e;
    }
  }
  const id = annotations[KUBERNETES_ID_ANNOTATION];
  if (id) {
    return {
      requirements: [{ key: KUBERNETES_ID_LABEL, operator: '=', value: id }],
      namespace,
    };
  }
  return undefined;
}

/** True when an object with these labels in this namespace belongs to the entity. */
export function selects(
  selector: EntityObjectSelector,
  object: { namespace?: string; labels?: Record<string, string> },
): boolean {
  if (selector.namespace && object.namespace !== selector.namespace)
    return false;
  return matchesLabelSelector(selector.requirements, object.labels);
}
