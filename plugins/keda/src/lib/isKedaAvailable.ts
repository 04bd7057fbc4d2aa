import type { Entity } from '@backstage/catalog-model';
import type { FilterPredicate } from '@backstage/filter-predicates';

/**
 * Annotation that ties an entity to its Kubernetes objects by the
 * `backstage.io/kubernetes-id` label (the Kubernetes plugin's convention,
 * which the keda backend follows to find ScaledObjects).
 * @public
 */
export const KUBERNETES_ID_ANNOTATION = 'backstage.io/kubernetes-id';

/**
 * Alternative to {@link KUBERNETES_ID_ANNOTATION}: a label selector query.
 * @public
 */
export const KUBERNETES_LABEL_SELECTOR_ANNOTATION =
  'backstage.io/kubernetes-label-selector';

/**
 * Whether the scaling card applies to an entity: only entities that can be
 * matched to Kubernetes objects can have a ScaledObject.
 *
 * @public
 */
export function isKedaAvailable(entity: Entity): boolean {
  const annotations = entity.metadata.annotations ?? {};
  return Boolean(
    annotations[KUBERNETES_ID_ANNOTATION] ||
      annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION],
  );
}

/**
 * The same rule as {@link isKedaAvailable} as an entity filter predicate for
 * the new frontend system's `EntityCardBlueprint` (serialisable, so an app can
 * read or override it in `app.extensions` config).
 *
 * @public
 */
export const kedaEntityFilter: FilterPredicate = {
  $any: [
    { [`metadata.annotations.${KUBERNETES_ID_ANNOTATION}`]: { $exists: true } },
    {
      [`metadata.annotations.${KUBERNETES_LABEL_SELECTOR_ANNOTATION}`]: {
        $exists: true,
      },
    },
  ],
};
