import { ResponseError } from '@backstage/errors';
import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import type { JsonObject } from '@backstage/types';
import type { SignalApi } from '@backstage/plugin-signals-react';
import { signalApiRef } from '@backstage/plugin-signals-react';
import type { KedaRequestRecord } from '@keda-self-service/plugin-keda-common';
import { kedaApiRef, type KedaRequestsApi } from '../../../api';
import { KedaRequestsPage } from '../KedaRequestsPage';
import { SAM } from './requestRecords';

// Test helpers of the requests page tests. The decisions a user may take
// come from the records' `allowedActions` (the backend's answer), so each
// test says what the backend allows.

export type MockedRequestsApi = { [K in keyof KedaRequestsApi]: jest.Mock };

/** A request API over an in-memory list of records. */
export function requestsApi(records: KedaRequestRecord[]): MockedRequestsApi {
  const byId = (id: string) => {
    const record = records.find(r => r.id === id);
    if (!record) throw new Error(`no record ${id} in the test data`);
    return record;
  };
  const decide =
    (state: KedaRequestRecord['state'], decision: string) =>
    async (id: string, body: { comment?: string } = {}) => {
      const record = byId(id);
      const next: KedaRequestRecord = {
        ...record,
        state,
        // decided: this user has nothing left to decide
        allowedActions: [],
        decisions: [
          ...record.decisions,
          {
            actor: SAM,
            decision: decision as any,
            comment: body.comment,
            at: '2026-11-28T07:00:00.000Z',
          },
        ],
      };
      records[records.indexOf(record)] = next;
      return next;
    };
  return {
    // a fresh array per call, as over HTTP
    listRequests: jest.fn(async () => [...records]),
    getRequest: jest.fn(async (id: string) => byId(id)),
    approveRequest: jest.fn(decide('provisioning', 'approved')),
    rejectRequest: jest.fn(decide('rejected', 'rejected')),
    withdrawRequest: jest.fn(decide('withdrawn', 'withdrawn')),
    retryRequest: jest.fn(decide('provisioning', 'retried')),
  };
}

/**
 * A signal API whose `emit` delivers a message to the page's subscribers,
 * as the signals plugin does when the backend publishes.
 */
export function fakeSignals() {
  const subscribers = new Map<string, Set<(message: any) => void>>();
  const api: SignalApi = {
    subscribe(channel, onMessage) {
      const set = subscribers.get(channel) ?? new Set();
      set.add(onMessage as (message: any) => void);
      subscribers.set(channel, set);
      return { unsubscribe: () => set.delete(onMessage as any) };
    },
  };
  return {
    api,
    emit: (channel: string, message: object) =>
      subscribers.get(channel)?.forEach(fn => fn(message)),
    subscriberCount: (channel: string) => subscribers.get(channel)?.size ?? 0,
  };
}

export function renderPage(
  api: MockedRequestsApi,
  options: {
    path?: string;
    user: string;
    signals?: SignalApi;
    /** app config */
    config?: JsonObject;
  },
) {
  return renderInTestApp(<KedaRequestsPage />, {
    mountPath: '/keda',
    config: options.config,
    initialRouteEntries: [options.path ?? '/keda'],
    apis: [
      [kedaApiRef, api],
      mockApis.identity({ userEntityRef: options.user }),
      ...(options.signals ? [[signalApiRef, options.signals] as const] : []),
    ],
  });
}

export const detailPath = (id: string) => `/keda/requests/${id}`;

/** The error KedaClient throws for the backend's 409 answer. */
export function conflict(message: string): Promise<ResponseError> {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name: 'ConflictError', message },
        request: {
          method: 'POST',
          url: '/api/keda/requests/req-orders/approve',
        },
        response: { statusCode: 409 },
      }),
      {
        status: 409,
        statusText: 'Conflict',
        headers: { 'Content-Type': 'application/json' },
      },
    ),
  );
}
