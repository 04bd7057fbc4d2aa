import type {
  KedaRequestListFilter,
  KedaRequestRecord,
} from '@keda-self-service/plugin-keda-common';

/**
 * Client of the keda backend's request API (the approval flow):
 * `GET /requests`, `GET /requests/:id` and the decisions
 * `POST /requests/:id/{approve,reject,withdraw,retry}`.
 *
 * Every method throws a `ResponseError` on a non-2xx answer, so callers can
 * tell a 409 (someone else decided first) from a 403 (not allowed).
 *
 * @public
 */
export interface KedaRequestsApi {
  /** Requests matching the filter, newest first. */
  listRequests(
    filter?: KedaRequestListFilter,
    options?: { signal?: AbortSignal },
  ): Promise<KedaRequestRecord[]>;

  /** One request with its plan and decision log. */
  getRequest(
    id: string,
    options?: { signal?: AbortSignal },
  ): Promise<KedaRequestRecord>;

  /** Approve a pending request; the backend starts its provisioning task. */
  approveRequest(
    id: string,
    body?: { comment?: string },
  ): Promise<KedaRequestRecord>;

  /** Reject a pending request; the comment tells the requester why. */
  rejectRequest(
    id: string,
    body: { comment: string },
  ): Promise<KedaRequestRecord>;

  /** Withdraw one's own pending request. */
  withdrawRequest(
    id: string,
    body?: { comment?: string },
  ): Promise<KedaRequestRecord>;

  /** Start provisioning again after it failed (approvers). */
  retryRequest(id: string): Promise<KedaRequestRecord>;
}

/** Names of the {@link KedaRequestsApi} methods, for runtime checks. */
const REQUEST_METHODS: ReadonlyArray<keyof KedaRequestsApi> = [
  'listRequests',
  'getRequest',
  'approveRequest',
  'rejectRequest',
  'withdrawRequest',
  'retryRequest',
];

/**
 * True when `api` implements the whole request API. `KedaClient` does; a
 * status-only stand-in (fixtures, the dev app) does not.
 *
 * @public
 */
export function isKedaRequestsApi(api: unknown): api is KedaRequestsApi {
  return (
    typeof api === 'object' &&
    api !== null &&
    REQUEST_METHODS.every(
      method => typeof (api as Record<string, unknown>)[method] === 'function',
    )
  );
}

/** The methods a stand-in lacks, to name them in an error. */
export function missingRequestMethods(api: unknown): string[] {
  return REQUEST_METHODS.filter(
    method =>
      typeof (api as Record<string, unknown> | undefined)?.[method] !==
      'function',
  );
}
