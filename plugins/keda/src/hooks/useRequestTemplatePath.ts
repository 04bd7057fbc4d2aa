import { useRouteRef } from '@backstage/core-plugin-api';
import {
  KEDA_REQUEST_TEMPLATE,
  KEDA_REQUEST_TEMPLATE_PATH,
} from '../lib/requestTemplateUrl';
import { scaffolderTemplateRouteRef } from '../routes';

/**
 * Path of the autoscaling request template in this app: through the
 * scaffolder's selected-template route when bound (it may be mounted
 * elsewhere than `/create`), else the standard path.
 */
export function useRequestTemplatePath(): string {
  const templateRoute = useRouteRef(scaffolderTemplateRouteRef);
  return templateRoute?.(KEDA_REQUEST_TEMPLATE) ?? KEDA_REQUEST_TEMPLATE_PATH;
}
