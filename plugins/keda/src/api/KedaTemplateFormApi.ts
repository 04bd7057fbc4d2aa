import type {
  KedaClusterInfo,
  KedaPlanPreview,
  KedaRequestInput,
} from '@keda-self-service/plugin-keda-common';

/**
 * What the template form's field extensions (`KedaClusterPicker`,
 * `KedaPlanPreview`) ask the keda backend: `GET /clusters` and the dry-run
 * plan `POST /plan`. Both throw a `ResponseError` on a non-2xx answer.
 *
 * @public
 */
export interface KedaTemplateFormApi {
  /** The configured clusters with account and region. */
  listClusters(options?: { signal?: AbortSignal }): Promise<KedaClusterInfo[]>;

  /**
   * What running the template with this request would plan, with the same
   * checks as recording it (permission, ownership, a request in flight) and
   * guardrail violations listed rather than refused. Writes nothing.
   */
  previewPlan(
    request: KedaRequestInput,
    options?: { signal?: AbortSignal },
  ): Promise<KedaPlanPreview>;
}

/** Names of the {@link KedaTemplateFormApi} methods, for runtime checks. */
export const TEMPLATE_FORM_METHODS: ReadonlyArray<keyof KedaTemplateFormApi> = [
  'listClusters',
  'previewPlan',
];
