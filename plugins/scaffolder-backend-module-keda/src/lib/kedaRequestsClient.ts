import type {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import type {
  CreateKedaRequestBody,
  KedaRequestInput,
  KedaRequestList,
  KedaRequestPreflight,
  KedaRequestPreflightBody,
  KedaRequestProgressBody,
  KedaRequestRecord,
  KedaRequestState,
} from '@keda-self-service/plugin-keda-common';

/**
 * Client of the keda backend's request API (POST /requests, POST
 * /requests/preflight, GET /requests/:id, POST /requests/:id/progress),
 * calling as the task's
 * initiator: the backend's permission checks and decision log then see the
 * person who ran the template, not the scaffolder.
 */
export class KedaRequestsClient {
  constructor(
    private readonly options: {
      discovery: DiscoveryService;
      auth: AuthService;
    },
  ) {}

  private async call<T>(
    credentials: BackstageCredentials,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const baseUrl = await this.options.discovery.getBaseUrl('keda');
    const { token } = await this.options.auth.getPluginRequestToken({
      onBehalfOf: credentials,
      targetPluginId: 'keda',
    });
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) {
      throw await responseError(response, `${method} ${path}`);
    }
    // JSON.parse of the text (not response.json()): values then belong to
    // this realm, which the scaffolder's output checks rely on.
    return {
      status: response.status,
      body: JSON.parse(await response.text()) as T,
    };
  }

  /** Creates a request, or returns the one this task already created (200). */
  async create(body: CreateKedaRequestBody, credentials: BackstageCredentials) {
    const { status, body: record } = await this.call<KedaRequestRecord>(
      credentials,
      'POST',
      '/requests',
      body,
    );
    return { record, created: status === 201 };
  }

  /**
   * What recording this request would do, without writing anything
   * (POST /requests/preflight): the backend checks that the initiator may
   * ask for this workload (403), that the workload has no request in flight
   * (409) and the guardrails (400), and answers the workload's ExternalId and
   * its own approval verdict.
   */
  async preflight(
    request: KedaRequestInput,
    credentials: BackstageCredentials,
    options: { externalId?: string; taskId?: string } = {},
  ): Promise<KedaRequestPreflight> {
    const body: KedaRequestPreflightBody = {
      request,
      ...(options.externalId ? { externalId: options.externalId } : {}),
      ...(options.taskId ? { taskId: options.taskId } : {}),
    };
    return (
      await this.call<KedaRequestPreflight>(
        credentials,
        'POST',
        '/requests/preflight',
        body,
      )
    ).body;
  }

  async get(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord> {
    return (
      await this.call<KedaRequestRecord>(
        credentials,
        'GET',
        `/requests/${encodeURIComponent(id)}`,
      )
    ).body;
  }

  async progress(
    id: string,
    body: KedaRequestProgressBody,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord> {
    return (
      await this.call<KedaRequestRecord>(
        credentials,
        'POST',
        `/requests/${encodeURIComponent(id)}/progress`,
        body,
      )
    ).body;
  }

  /** Requests matching the filter (GET /requests). */
  async list(
    filter: {
      entityRef?: string;
      cluster?: string;
      state?: KedaRequestState[];
    },
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord[]> {
    const query = new URLSearchParams();
    if (filter.entityRef) query.set('entityRef', filter.entityRef);
    if (filter.cluster) query.set('cluster', filter.cluster);
    for (const state of filter.state ?? []) query.append('state', state);
    return (
      await this.call<KedaRequestList>(credentials, 'GET', `/requests?${query}`)
    ).body.items;
  }

  /** Marks a provisioned (or failed) request as taken down. */
  async decommission(
    id: string,
    body: { comment?: string },
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord> {
    return (
      await this.call<KedaRequestRecord>(
        credentials,
        'POST',
        `/requests/${encodeURIComponent(id)}/decommission`,
        body,
      )
    ).body;
  }
}

// The backend answers errors in Backstage's `{ error: { name, message } }`
// form; keep its message (it names the field or the state) and map the
// status to the matching Backstage error so the task log says what to do.
async function responseError(response: Response, what: string): Promise<Error> {
  const text = await response.text();
  let detail = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text);
    detail = parsed?.error?.message ?? detail;
  } catch {
    // not JSON: keep the text
  }
  const message = `keda backend: ${what} answered ${response.status} ${response.statusText}: ${detail}`;
  switch (response.status) {
    case 400:
      return new InputError(message);
    case 401:
    case 403:
      return new NotAllowedError(message);
    case 404:
      return new NotFoundError(message);
    case 409:
      return new ConflictError(message);
    case 502:
    case 503:
    case 504:
      return new ServiceUnavailableError(message);
    default:
      return new Error(message);
  }
}
