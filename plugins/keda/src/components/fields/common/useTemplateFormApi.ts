import { useApi } from '@backstage/frontend-plugin-api';
import type { ApiHolder } from '@backstage/core-plugin-api';
import { kedaApiRef, type KedaApi } from '../../../api';
import {
  TEMPLATE_FORM_METHODS,
  type KedaTemplateFormApi,
} from '../../../api/KedaTemplateFormApi';

/**
 * The keda API as the field extensions need it; throws naming the missing
 * methods when the app registered a stand-in without them.
 */
export function templateFormApiOf(
  api: KedaApi | undefined,
): KedaTemplateFormApi {
  const missing = TEMPLATE_FORM_METHODS.filter(
    method => typeof api?.[method] !== 'function',
  );
  if (!api || missing.length > 0) {
    throw new Error(
      `The app's keda API (${kedaApiRef.id}) lacks ${missing.join(
        ', ',
      )}; register KedaClient (the keda plugin does by default)`,
    );
  }
  return api as KedaTemplateFormApi;
}

/** {@link templateFormApiOf} for components. */
export function useTemplateFormApi(): KedaTemplateFormApi {
  return templateFormApiOf(useApi(kedaApiRef));
}

/** {@link templateFormApiOf} for field validators (they get an ApiHolder). */
export function templateFormApiFrom(
  apiHolder: ApiHolder,
): KedaTemplateFormApi | undefined {
  const api = apiHolder.get(kedaApiRef);
  try {
    return templateFormApiOf(api);
  } catch {
    return undefined;
  }
}
