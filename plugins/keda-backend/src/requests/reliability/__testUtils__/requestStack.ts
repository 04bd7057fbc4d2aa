/*
 * One "backend instance" of the request API for the reliability suites
 * (#16): the real router, service and store, with its own knex connection
 * pool, behind an HTTP server on 127.0.0.1 (ephemeral port), answering
 * errors through Backstage's own error middleware. Several stacks on one
 * database share nothing but the database (and the scaffolder, as replicas
 * do): see CountingScaffolder.
 */
import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import type { KedaRequestRecord } from '@keda-self-service/plugin-keda-common';
import express from 'express';
import type { Knex } from 'knex';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ORDERS } from '../../__testUtils__/requestsApp';
import {
  membershipUserInfo,
  policyPermissions,
} from '../../__testUtils__/policyPermissions';
import {
  testClusterService,
  testKedaConfig,
} from '../../__testUtils__/requests';
import { KedaRequestService } from '../../KedaRequestService';
import { KedaRequestStore } from '../../KedaRequestStore';
import { createRequestsRouter } from '../../router';
import type { ProvisioningLauncher } from '../../ScaffolderProvisioning';

/**
 * The scaffolder all instances start provisioning tasks in, counting the
 * tasks started per request. `beforeAnswer` runs after a task is created
 * and before its id is answered (the fault suite takes its locks there).
 */
export class CountingScaffolder implements ProvisioningLauncher {
  private readonly tasks = new Map<string, string[]>();
  private next = 0;
  beforeAnswer?: (requestId: string) => Promise<void>;
  /** a pause before answering, to vary interleavings (default none) */
  latency: () => Promise<void> = async () => {};

  async start(options: {
    requestId: string;
    onBehalfOf: BackstageCredentials;
  }): Promise<{ taskId: string }> {
    const taskId = `task-${++this.next}`;
    this.tasks.set(options.requestId, [
      ...(this.tasks.get(options.requestId) ?? []),
      taskId,
    ]);
    await this.latency();
    await this.beforeAnswer?.(options.requestId);
    return { taskId };
  }

  /** the tasks started for a request */
  tasksOf(requestId: string): string[] {
    return this.tasks.get(requestId) ?? [];
  }
}

export interface ApiAnswer {
  status: number;
  body: any;
}

export interface RequestStack {
  name: string;
  store: KedaRequestStore;
  service: KedaRequestService;
  /** calls the API as `user` */
  as(user: string): {
    get(path: string): Promise<ApiAnswer>;
    post(path: string, body?: object): Promise<ApiAnswer>;
  };
  stop(): Promise<void>;
}

/** Starts one instance on `knex` (already migrated). */
export async function startRequestStack(options: {
  name: string;
  knex: Knex;
  scaffolder: CountingScaffolder;
}): Promise<RequestStack> {
  const store = new KedaRequestStore(options.knex);
  const service = new KedaRequestService({
    store,
    keda: testKedaConfig,
    clusters: testClusterService(),
    permissions: policyPermissions(),
    userInfo: membershipUserInfo(),
    catalog: {
      getEntityByRef: async ref =>
        ref === 'component:default/orders-worker' ? ORDERS : undefined,
    },
    launcher: options.scaffolder,
    auditor: mockServices.auditor.mock({
      createEvent: (async () => ({
        success: async () => {},
        fail: async () => {},
      })) as any,
    }),
    logger: mockServices.logger.mock(),
  });
  const app = express();
  app.use(
    await createRequestsRouter({ httpAuth: mockServices.httpAuth(), service }),
  );
  app.use(
    MiddlewareFactory.create({
      config: mockServices.rootConfig(),
      logger: mockServices.logger.mock(),
    }).error(),
  );
  const server = http.createServer(app);
  await new Promise<void>(resolve =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (
    user: string,
    method: string,
    path: string,
    body?: object,
  ): Promise<ApiAnswer> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: mockCredentials.user.header(user),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body && JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text, which the suites report
    }
    return { status: res.status, body: parsed };
  };
  return {
    name: options.name,
    store,
    service,
    as: user => ({
      get: path => call(user, 'GET', path),
      post: (path, body = {}) => call(user, 'POST', path, body),
    }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close(e => (e ? reject(e) : resolve()));
      }),
  };
}

/** The decisions that take a request out of `pending`. */
export const DECIDING = ['approved', 'rejected', 'withdrawn'] as const;

export const decidingDecisions = (record: KedaRequestRecord) =>
  record.decisions.filter(d =>
    (DECIDING as readonly string[]).includes(d.decision),
  );
