import { ResponseError } from '@backstage/errors';
import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import {
  kedaIamProvisionPermission,
  kedaRequestApprovePermission,
  type KedaRequestRecord,
} from '@internal/plugin-keda-common';
import { kedaApiRef, type KedaRequestsApi } from '../../../api';
import { KedaRequestsPage } from '../KedaRequestsPage';
import { SAM } from './requestRecords';

// The answers of the permission mock. AuthorizeResult is a string enum of
// @backstage/plugin-permission-common, which this package does not depend on
// directly; its values are the strings 'ALLOW' and 'DENY'.
type PermissionAnswer = ReturnType<
  Extract<
    NonNullable<Parameters<typeof mockApis.permission>[0]>['authorize'],
    (...args: any[]) => unknown
  >
>;
const ALLOW = 'ALLOW' as unknown as PermissionAnswer;
const DENY = 'DENY' as unknown as PermissionAnswer;

// Test helpers of the requests page tests.
//
// usePermission caches answers in SWR's module-global cache (deduplicated for
// 2 s), so one test file must not switch the user's permissions between
// tests: approver tests and developer tests live in separate files.

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
    listRequests: jest.fn(async () => records),
    getRequest: jest.fn(async (id: string) => byId(id)),
    approveRequest: jest.fn(decide('provisioning', 'approved')),
    rejectRequest: jest.fn(decide('rejected', 'rejected')),
    withdrawRequest: jest.fn(decide('withdrawn', 'withdrawn')),
    retryRequest: jest.fn(decide('provisioning', 'retried')),
  };
}

/** The permission API of a platform engineer (`approver`) or a developer. */
export function permissions(role: 'approver' | 'developer') {
  return mockApis.permission({
    authorize: request =>
      role === 'approver' &&
      [
        kedaRequestApprovePermission.name,
        kedaIamProvisionPermission.name,
      ].includes(request.permission.name)
        ? ALLOW
        : DENY,
  });
}

export function renderPage(
  api: MockedRequestsApi,
  options: { path?: string; user: string; role: 'approver' | 'developer' },
) {
  return renderInTestApp(<KedaRequestsPage />, {
    mountPath: '/keda',
    initialRouteEntries: [options.path ?? '/keda'],
    apis: [
      [kedaApiRef, api],
      permissions(options.role),
      mockApis.identity({ userEntityRef: options.user }),
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
