import { useRouteRef } from '@backstage/core-plugin-api';
import type { KedaTemplateRef } from '@internal/plugin-keda-common';
import {
  KEDA_DECOMMISSION_TEMPLATE_REF,
  KEDA_REQUEST_TEMPLATE,
  standardTemplatePath,
} from '../lib/requestTemplateUrl';
import { scaffolderTemplateRouteRef } from '../routes';

/**
 * Path of a template in this app: through the scaffolder's
 * selected-template route when bound (it may be mounted elsewhere than
 * `/create`), else the standard path.
 */
export function useTemplatePath(template: KedaTemplateRef): string {
  const templateRoute = useRouteRef(scaffolderTemplateRouteRef);
  return (
    templateRoute?.({
      namespace: template.namespace,
      templateName: template.templateName,
    }) ?? standardTemplatePath(template)
  );
}

/** Path of the autoscaling request template in this app. */
export function useRequestTemplatePath(): string {
  return useTemplatePath(KEDA_REQUEST_TEMPLATE);
}

/** Path of the decommission template in this app. */
export function useDecommissionTemplatePath(): string {
  return useTemplatePath(KEDA_DECOMMISSION_TEMPLATE_REF);
}
