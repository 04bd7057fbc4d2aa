import { configApiRef, useApi, useRouteRef } from '@backstage/core-plugin-api';
import type { KedaTemplateRef } from '@keda-self-service/plugin-keda-common';
import {
  KEDA_DECOMMISSION_TEMPLATE_REF,
  KEDA_REQUEST_TEMPLATE,
  standardTemplatePath,
  templateRefFromConfig,
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

/**
 * A KEDA template of this app: `keda.frontend.templates.<name>` when set
 * (a portal that keeps its own copy of the template under another name),
 * else the template of this repository.
 */
function useConfiguredTemplate(
  name: 'autoscaling' | 'decommission',
  fallback: KedaTemplateRef,
): KedaTemplateRef {
  const key = `keda.frontend.templates.${name}`;
  return templateRefFromConfig(
    useApi(configApiRef).getOptionalString(key),
    key,
    fallback,
  );
}

/** Path of the autoscaling request template in this app. */
export function useRequestTemplatePath(): string {
  return useTemplatePath(
    useConfiguredTemplate('autoscaling', KEDA_REQUEST_TEMPLATE),
  );
}

/** Path of the decommission template in this app. */
export function useDecommissionTemplatePath(): string {
  return useTemplatePath(
    useConfiguredTemplate('decommission', KEDA_DECOMMISSION_TEMPLATE_REF),
  );
}
