/**
 * Kubernetes API errors. The real API server answers every failure with a
 * `Status` object; clients (`@kubernetes/client-node`, kubectl, client-go)
 * branch on `code` and `reason`, so the stand-in must produce the same shape.
 */

/** One field-level cause in `Status.details.causes`. */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** The `reason` values of `metav1.StatusReason` used by the stand-in. */
export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Unauthorized'
  | 'Forbidden'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'Gone'
  | 'Expired'
  | 'InternalError';

/** A failure that the HTTP layer turns into a `Status` response. */
export class KubernetesApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: StatusCause[];
  };

  constructor(
    code: number,
    reason: StatusReason,
    message: string,
    details?: KubernetesApiError['details'],
  ) {
    super(message);
    this.name = 'KubernetesApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** The `Status` object the API server writes for this error. */
  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `<plural>.<group>` as Kubernetes prints it in messages (`deployments.apps`). */
export function qualifiedResource(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export function notFound(
  plural: string,
  group: string,
  name: string,
): KubernetesApiError {
  return new KubernetesApiError(
    404,
    'NotFound',
    `${qualifiedResource(plural, group)} "${name}" not found`,
    { name, group, kind: plural },
  );
}

export function alreadyExists(
  plural: string,
  group: string,
  name: string,
): KubernetesApiError {
  return new KubernetesApiError(
    409,
    'AlreadyExists',
    `${qualifiedResource(plural, group)} "${name}" already exists`,
    { name, group, kind: plural },
  );
}

export function conflict(
  plural: string,
  group: string,
  name: string,
): KubernetesApiError {
  return new KubernetesApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(
      plural,
      group,
    )} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind: plural },
  );
}

/**
 * 422 Invalid, formatted like the API server:
 * `ScaledObject.keda.sh "x" is invalid: spec.maxReplicaCount: Invalid value: ...`.
 */
export function invalid(
  kind: string,
  group: string,
  name: string,
  causes: StatusCause[],
): KubernetesApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const summary = causes
    .map(c => (c.field ? `${c.field}: ${c.message}` : c.message))
    .join(', ');
  const message =
    causes.length > 1
      ? `${qualifiedKind} "${name}" is invalid: [${summary}]`
      : `${qualifiedKind} "${name}" is invalid: ${summary}`;
  return new KubernetesApiError(422, 'Invalid', message, {
    name,
    group,
    kind,
    causes,
  });
}

export function badRequest(message: string): KubernetesApiError {
  return new KubernetesApiError(400, 'BadRequest', message);
}

export function gone(message: string): KubernetesApiError {
  return new KubernetesApiError(410, 'Expired', message);
}
