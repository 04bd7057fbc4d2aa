import {
  coreServices,
  createServiceFactory,
  type BackendFeature,
  type ServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { notificationService } from '@backstage/plugin-notifications-node';
import type { KedaRequestRecord } from '@keda-self-service/plugin-keda-common';
// Test only: the tests run the actions against the real keda backend plugin.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import kedaPlugin from '@keda-self-service/plugin-keda-backend';
import {
  membershipUserInfo,
  startLocalTestBackend,
  type LocalTestBackend,
  type RecordedRequest,
} from '@internal/test-backend';

/** The user the tests read request records as (GET /api/keda/requests…). */
export const KEDA_READER = 'user:default/keda-test-reader';

/** Options of {@link startKedaBackend}. */
export interface KedaBackendOptions {
  /** the root config (`app`, `keda`, …) */
  config: object;
  /** the catalog the keda backend (and the scaffolder) reads */
  entities: Entity[];
  /** user entity ref → the groups the user is a member of (userInfo) */
  memberships?: Record<string, string[]>;
  /** more features in the same backend (the scaffolder and its modules) */
  features?: BackendFeature[];
  /** service factories replacing the mock defaults (e.g. permissions) */
  services?: ServiceFactory[];
}

/** A started {@link startKedaBackend}. */
export interface KedaBackend {
  local: LocalTestBackend;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** `http://127.0.0.1:<port>/api/keda` */
  kedaBaseUrl: string;
  /**
   * The requests that reached the keda backend's API (method, path below
   * `/api/keda`, Authorization header, JSON body, status), in order, except
   * the test's own reads as {@link KEDA_READER}.
   */
  calls(): RecordedRequest[];
  /** A call to the keda API as `user` (a user token of the mock auth). */
  call(
    user: string,
    method: string,
    path: string,
    body?: object,
  ): Promise<{ status: number; body: any }>;
  /** `GET /requests` as {@link KEDA_READER}, oldest first. */
  records(filter?: { entityRef?: string }): Promise<KedaRequestRecord[]>;
  /** `GET /requests/:id` as {@link KEDA_READER}. */
  record(id: string): Promise<KedaRequestRecord>;
  stop(): Promise<void>;
}

/**
 * The real keda backend plugin (`kedaPlugin`) in a local test backend
 * (`startLocalTestBackend`: mock core services, SQLite in memory, bound to
 * 127.0.0.1), with a catalog mock, a user-info service answering
 * `memberships` and notifications that go nowhere. The requests to its API
 * are recorded.
 */
export async function startKedaBackend(
  options: KedaBackendOptions,
): Promise<KedaBackend> {
  const memberships = options.memberships ?? {};
  const local = await startLocalTestBackend({
    config: options.config,
    recordRequests: '/api/keda',
    services: options.services,
    features: [
      kedaPlugin,
      ...(options.features ?? []),
      catalogServiceMock.factory({ entities: options.entities }),
      createServiceFactory({
        service: coreServices.userInfo,
        deps: {},
        factory: () => membershipUserInfo(memberships),
      }),
      createServiceFactory({
        service: notificationService,
        deps: {},
        factory: () => ({ send: async () => {} }),
      }),
    ],
  });
  const kedaBaseUrl = `${local.baseUrl}/api/keda`;
  const readerHeader = mockCredentials.user.header(KEDA_READER);

  const call: KedaBackend['call'] = async (user, method, path, body) => {
    const response = await fetch(`${kedaBaseUrl}${path}`, {
      method,
      headers: {
        authorization: mockCredentials.user.header(user),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await response.json() };
  };
  const read = async (path: string) => {
    const { status, body } = await call(KEDA_READER, 'GET', path);
    if (status !== 200) {
      throw new Error(
        `GET /api/keda${path}: ${status} ${JSON.stringify(body)}`,
      );
    }
    return body;
  };

  return {
    local,
    baseUrl: local.baseUrl,
    kedaBaseUrl,
    calls: () => local.requests.filter(r => r.authorization !== readerHeader),
    call,
    records: async (filter = {}) => {
      const query = filter.entityRef
        ? `?entityRef=${encodeURIComponent(filter.entityRef)}`
        : '';
      const { items } = await read(`/requests${query}`);
      // the API answers newest first
      return (items as KedaRequestRecord[]).reverse();
    },
    record: id => read(`/requests/${encodeURIComponent(id)}`),
    stop: () => local.stop(),
  };
}

/** A component the keda backend finds in the catalog, owned by `owner`. */
export function componentEntity(name: string, owner: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default' },
    spec: { type: 'service', owner, lifecycle: 'production' },
  };
}
