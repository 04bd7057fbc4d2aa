import type { Entity } from '@backstage/catalog-model';
import {
  KEDA_AUTOSCALING_TEMPLATE,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
  kedaRequestSchema,
  type KedaRequestInput,
} from '@keda-self-service/plugin-keda-common';

/**
 * The template parameters that are not request fields of the same name:
 * the component (entity ref) and the workload's namespace, name and kind.
 * Every other request field (`cluster`, `queueUrl`, `minReplicas`, …) is the
 * template parameter of the same name.
 */
export const TEMPLATE_PARAMETERS = {
  component: KEDA_AUTOSCALING_TEMPLATE.parameters.component,
  namespace: 'namespace',
  workloadName: 'workloadName',
  workloadKind: 'workloadKind',
} as const;

// Request fields the template derives instead of asking for them directly.
const DERIVED = new Set(['entityRef', 'namespace', 'workload', 'kubernetesId']);
// Set by the backend only.
const BACKEND_ONLY = new Set(['requestId']);

const isBlank = (value: unknown) =>
  value === undefined || value === null || value === '';

/**
 * The KEDA request the template's `keda:plan` step would get for these form
 * values, as its `input.request` builds it: the same-named parameters, the
 * entity ref from `component`, and the namespace, workload name and
 * Kubernetes id defaulting to the component's Kubernetes annotations
 * (namespace `default` without one). Blank fields are left out, so the
 * request schema's defaults apply as they do in the action.
 */
export function kedaRequestFromForm(
  formData: Record<string, unknown> | undefined,
  component?: Entity,
): KedaRequestInput {
  const values = formData ?? {};
  const annotations = component?.metadata.annotations ?? {};
  const request: Record<string, unknown> = {};
  for (const key of Object.keys(kedaRequestSchema.shape)) {
    if (DERIVED.has(key) || BACKEND_ONLY.has(key)) continue;
    if (!isBlank(values[key])) request[key] = values[key];
  }
  const pick = (name: string) =>
    isBlank(values[name]) ? undefined : values[name];
  const kubernetesId = annotations[KUBERNETES_ID_ANNOTATION];
  request.entityRef = pick(TEMPLATE_PARAMETERS.component);
  request.namespace =
    pick(TEMPLATE_PARAMETERS.namespace) ??
    annotations[KUBERNETES_NAMESPACE_ANNOTATION] ??
    'default';
  request.workload = {
    ...(pick(TEMPLATE_PARAMETERS.workloadKind)
      ? { kind: pick(TEMPLATE_PARAMETERS.workloadKind) }
      : {}),
    name: pick(TEMPLATE_PARAMETERS.workloadName) ?? kubernetesId,
  };
  request.kubernetesId = kubernetesId;
  return request as KedaRequestInput;
}

/** A field of the request and what is wrong with it. */
export interface RequestIssue {
  field: string;
  message: string;
}

/**
 * The request schema's own verdict (the one the action and the backend
 * apply): every invalid field, or an empty list.
 */
export function requestIssues(request: KedaRequestInput): RequestIssue[] {
  const result = kedaRequestSchema.safeParse(request);
  if (result.success) return [];
  return result.error.issues.map(issue => ({
    field: issue.path.join('.') || '(request)',
    message: issue.message,
  }));
}
