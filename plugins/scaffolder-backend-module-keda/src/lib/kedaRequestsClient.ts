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
  KedaRequestPreflight,
  KedaRequestProgressBody,
  KedaRequestRecord,
  KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './generated/openapi';

/**
 * Client of the keda backend's request API (POST /requests, POST
 * /requests/preflight, GET /requests, GET /requests/:id, POST
 * /requests/:id/progress, POST /requests/:id/decommission), calling as the
 * task's initiator: the backend's permission checks and decision log then
 * see the person who ran the template, not the scaffolder.
 *
 * A thin wrapper over an `openapi-fetch` client typed by the keda backend's
 * OpenAPI document (`./generated/openapi.ts`, `yarn openapi:clients`).
 *
 * @public
 */
export class KedaRequestsClient {
  private readonly client: Client<paths>;

  constructor(
    private readonly options: {
      discovery: DiscoveryService;
      auth: AuthService;
    },
  ) {
    // the global fetch as it is at call time, not when the client was made
    this.client = createClient<paths>({ fetch: request => fetch(request) });
    this.client.use({
      async onResponse({ request, response, options: { baseUrl } }) {
        if (!response.ok) {
          throw await responseError(
            response,
            `${request.method} ${pathBelow(baseUrl, request.url)}`,
          );
        }
        return undefined;
      },
    });
  }

  /** The base URL and the initiator's token for one call. */
  private async as(credentials: BackstageCredentials) {
    const baseUrl = await this.options.discovery.getBaseUrl('keda');
    const { token } = await this.options.auth.getPluginRequestToken({
      onBehalfOf: credentials,
      targetPluginId: 'keda',
    });
    return { baseUrl, headers: { Authorization: `Bearer ${token}` } };
  }

  /** Creates a request, or returns the one this task already created (200). */
  async create(body: CreateKedaRequestBody, credentials: BackstageCredentials) {
    const { data, response } = await this.client.request('post', '/requests', {
      ...(await this.as(credentials)),
      body,
    });
    const record: KedaRequestRecord = plain(data);
    return { record, created: response.status === 201 };
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
    const { data } = await this.client.request('post', '/requests/preflight', {
      ...(await this.as(credentials)),
      body: {
        request,
        ...(options.externalId ? { externalId: options.externalId } : {}),
        ...(options.taskId ? { taskId: options.taskId } : {}),
      },
    });
    return plain(data);
  }

  async get(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord> {
    const { data } = await this.client.request('get', '/requests/{id}', {
      ...(await this.as(credentials)),
      params: { path: { id } },
    });
    return plain(data);
  }

  async progress(
    id: string,
    body: KedaRequestProgressBody,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord> {
    const { data } = await this.client.request(
      'post',
      '/requests/{id}/progress',
      {
        ...(await this.as(credentials)),
        params: { path: { id } },
        body,
      },
    );
    return plain(data);
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
    const { data } = await this.client.request('get', '/requests', {
      ...(await this.as(credentials)),
      params: {
        query: {
          entityRef: filter.entityRef || undefined,
          cluster: filter.cluster || undefined,
          // repeated: ?state=provisioned&state=failed
          state: filter.state?.length ? filter.state : undefined,
        },
      },
    });
    return plain(data).items;
  }

  /** Marks a provisioned (or failed) request as taken down. */
  async decommission(
    id: string,
    body: { comment?: string },
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord> {
    const { data } = await this.client.request(
      'post',
      '/requests/{id}/decommission',
      {
        ...(await this.as(credentials)),
        params: { path: { id } },
        body,
      },
    );
    return plain(data);
  }
}

/**
 * A 2xx answer's body as plain values of this realm: openapi-fetch parses
 * with `response.json()`, whose objects come from the realm of the global
 * fetch; the scaffolder only takes plain records as template values (its
 * check is by prototype), so a step's outputs must be this realm's.
 */
function plain<T>(data: T | undefined): T {
  return JSON.parse(JSON.stringify(data ?? null));
}

/** `/requests/…?…` of a URL below the keda backend's base URL. */
function pathBelow(baseUrl: string, url: string): string {
  const { pathname, search } = new URL(url);
  const base = new URL(baseUrl).pathname.replace(/\/$/, '');
  return `${pathname.slice(base.length)}${search}`;
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
