/** The self-service template that requests KEDA autoscaling. */
export const KEDA_REQUEST_TEMPLATE = {
  namespace: 'default',
  templateName: 'keda-sqs-autoscaling',
} as const;

/**
 * Path of that template under the scaffolder's standard mount point
 * (`/create`, selected-template route `/templates/:namespace/:templateName`),
 * used when the app has not bound the scaffolder route.
 */
export const KEDA_REQUEST_TEMPLATE_PATH = `/create/templates/${KEDA_REQUEST_TEMPLATE.namespace}/${KEDA_REQUEST_TEMPLATE.templateName}`;

/**
 * Link to the autoscaling request template with the entity preselected.
 *
 * The scaffolder's template page reads initial form data from the
 * `formData` query parameter as URL-encoded JSON (`useFormDataFromQuery` in
 * `@backstage/plugin-scaffolder-react`); the template's `entityRef` parameter
 * is the component picker.
 */
export function requestTemplateUrl(
  entityRef: string,
  templatePath: string = KEDA_REQUEST_TEMPLATE_PATH,
): string {
  const formData = encodeURIComponent(JSON.stringify({ entityRef }));
  return `${templatePath}?formData=${formData}`;
}
