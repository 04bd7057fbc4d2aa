import { parseEntityRef } from '@backstage/catalog-model';
import {
  KEDA_AUTOSCALING_TEMPLATE,
  KEDA_DECOMMISSION_TEMPLATE,
  type KedaTemplateRef,
} from '@keda-self-service/plugin-keda-common';

/** The self-service template that requests KEDA autoscaling. */
export const KEDA_REQUEST_TEMPLATE: KedaTemplateRef = {
  namespace: KEDA_AUTOSCALING_TEMPLATE.namespace,
  templateName: KEDA_AUTOSCALING_TEMPLATE.templateName,
};

/** The self-service template that removes KEDA autoscaling. */
export const KEDA_DECOMMISSION_TEMPLATE_REF: KedaTemplateRef = {
  namespace: KEDA_DECOMMISSION_TEMPLATE.namespace,
  templateName: KEDA_DECOMMISSION_TEMPLATE.templateName,
};

/**
 * A template named in app config (`keda.frontend.templates.*`: a template
 * entity ref, kind and namespace optional), or `fallback` when not set.
 * Throws an error naming `key` for anything but a template ref, so a typo
 * shows on the card instead of a link to a missing template.
 */
export function templateRefFromConfig(
  value: string | undefined,
  key: string,
  fallback: KedaTemplateRef,
): KedaTemplateRef {
  if (value === undefined) return fallback;
  let ref;
  try {
    ref = parseEntityRef(value, {
      defaultKind: 'template',
      defaultNamespace: 'default',
    });
  } catch (e) {
    throw new Error(
      `${key}: "${value}" is not an entity ref (${
        (e as Error).message
      }); use e.g. template:default/${fallback.templateName}`,
    );
  }
  if (ref.kind.toLocaleLowerCase('en-US') !== 'template') {
    throw new Error(
      `${key}: "${value}" is a ${ref.kind}, not a template; use e.g. template:default/${fallback.templateName}`,
    );
  }
  return { namespace: ref.namespace, templateName: ref.name };
}

/**
 * Path of a template under the scaffolder's standard mount point
 * (`/create`, selected-template route `/templates/:namespace/:templateName`),
 * used when the app has not bound the scaffolder route.
 */
export function standardTemplatePath(template: KedaTemplateRef): string {
  return `/create/templates/${encodeURIComponent(
    template.namespace,
  )}/${encodeURIComponent(template.templateName)}`;
}

/** Standard path of the autoscaling request template. */
export const KEDA_REQUEST_TEMPLATE_PATH = standardTemplatePath(
  KEDA_REQUEST_TEMPLATE,
);

/**
 * A template link with its form pre-filled. The scaffolder's template page
 * reads initial form data from the `formData` query parameter as
 * URL-encoded JSON (`useFormDataFromQuery` in
 * `@backstage/plugin-scaffolder-react`); the keys must be the template's
 * parameter names, which is why they come from the template constants.
 */
export function templateUrlWithFormData(
  templatePath: string,
  formData: Record<string, string>,
): string {
  return `${templatePath}?formData=${encodeURIComponent(
    JSON.stringify(formData),
  )}`;
}

/** Link to the autoscaling request template with the component preselected. */
export function requestTemplateUrl(
  entityRef: string,
  templatePath: string = KEDA_REQUEST_TEMPLATE_PATH,
): string {
  return templateUrlWithFormData(templatePath, {
    [KEDA_AUTOSCALING_TEMPLATE.parameters.component]: entityRef,
  });
}

/**
 * Link to the decommission template with the component preselected and,
 * when known, the request to remove.
 */
export function decommissionTemplateUrl(
  target: { entityRef: string; requestId?: string },
  templatePath: string = standardTemplatePath(KEDA_DECOMMISSION_TEMPLATE_REF),
): string {
  const { parameters } = KEDA_DECOMMISSION_TEMPLATE;
  return templateUrlWithFormData(templatePath, {
    [parameters.component]: target.entityRef,
    ...(target.requestId ? { [parameters.requestId]: target.requestId } : {}),
  });
}
