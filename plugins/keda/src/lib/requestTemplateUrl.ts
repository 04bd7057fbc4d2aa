/**
 * Path of the self-service template that requests KEDA autoscaling, under the
 * scaffolder's standard mount point (`/create`, selected-template route
 * `/templates/:namespace/:templateName`).
 */
export const KEDA_REQUEST_TEMPLATE_PATH =
  '/create/templates/default/keda-sqs-autoscaling';

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
