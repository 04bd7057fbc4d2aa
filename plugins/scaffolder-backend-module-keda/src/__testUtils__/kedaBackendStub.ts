import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  canTransition,
  KEDA_CURRENT_STATES,
  KEDA_IN_FLIGHT_STATES,
  kedaWorkloadKey,
  parseKedaRequest,
  plan,
  type CreateKedaRequestBody,
  type KedaClusterSpec,
  type KedaPlan,
  type KedaRequestPreflight,
  type KedaRequestPreflightBody,
  type KedaRequestProgressBody,
  type KedaRequestRecord,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  KedaClusterService,
  KedaGuardrailError,
  readKedaConfig,
} from '@keda-self-service/plugin-keda-node';
import type { Config } from '@backstage/config';

export interface RecordedCall {
  method: string;
  path: string;
  authorization?: string;
  body?: any;
}

/** Who owns what, as the keda backend reads it from the catalog. */
export interface KedaBackendStubOptions {
  /**
   * entity ref → owner group. With it, preflight enforces ownership (and an
   * entity not listed is "not in the catalog"); without it, anybody may ask.
   */
  owners?: Record<string, string>;
  /** user entity ref → the groups the user is a member of */
  memberships?: Record<string, string[]>;
}

class StubError extends Error {
  constructor(readonly status: number, name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The user a mock plugin request token is on behalf of. */
function userOf(authorization: string | undefined): string | undefined {
  const match = /^Bearer mock-service-token:(.*)$/.exec(authorization ?? '');
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]).obo;
  } catch {
    return undefined;
  }
}

/**
 * A local stand-in for the keda backend's request API (contract:
 * plugins/keda-backend/src/schema/openapi.yaml): recomputes the plan from its own config,
 * auto-approves by the guardrails, is idempotent on taskId and enforces the
 * state machine of keda-common on progress. Preflight applies the backend's
 * rules: ownership (with `options.owners`), one request in flight per
 * workload (409), the workload's ExternalId, and "a change to a request an
 * approver approved needs approval again". Create keeps the workload's
 * ExternalId and applies that last rule too, but does not re-check
 * ownership or the request in flight.
 */
export async function startKedaBackendStub(
  config: Config,
  options: KedaBackendStubOptions = {},
) {
  const records = new Map<string, KedaRequestRecord>();
  const byTask = new Map<string, string>();
  const calls: RecordedCall[] = [];
  let next = 1;

  const workloadRecords = (key: string) =>
    [...records.values()].filter(r => kedaWorkloadKey(r.plan.request) === key);
  const currentOf = (key: string) =>
    workloadRecords(key)
      .filter(r => KEDA_CURRENT_STATES.includes(r.state))
      .at(-1);
  const workloadExternalIdOf = (record?: KedaRequestRecord) =>
    record?.externalId ?? record?.plan.scalerRole.externalId;

  /**
   * What the backend's `prepare` works out: with `checks` (preflight) also
   * the requester, ownership, the request in flight, a foreign ExternalId
   * and guardrail violations are refused.
   */
  function prepare(
    body: KedaRequestPreflightBody,
    requester: string | undefined,
    checks: boolean,
  ): { preflight: KedaRequestPreflight; plan: KedaPlan } {
    if (checks && !requester) {
      throw new StubError(
        403,
        'NotAllowedError',
        "A KEDA request is recorded on behalf of the user who ran the template; call with the initiator's credentials",
      );
    }
    let request;
    try {
      request = parseKedaRequest(body?.request);
    } catch (e) {
      throw new StubError(400, 'InputError', String((e as Error).message));
    }
    const keda = readKedaConfig(config);
    // the backend's own cluster lookup
    const clusters = new KedaClusterService({
      keda: () => keda,
      aws: () => {
        throw new Error('the keda backend stub has no AWS');
      },
    });
    let cluster;
    try {
      cluster = clusters.cluster(request.cluster, {
        field: 'request.cluster',
      });
    } catch (e) {
      throw new StubError(400, 'InputError', String((e as Error).message));
    }
    const owner = options.owners?.[request.entityRef];
    if (checks && options.owners && keda.guardrails.requireOwnership) {
      if (!owner) {
        throw new StubError(
          400,
          'InputError',
          `request.entityRef: '${request.entityRef}' was not found in the catalog or you may not read it`,
        );
      }
      const refs = [requester!, ...(options.memberships?.[requester!] ?? [])];
      const approver = keda.approvals.approverGroups.some(g =>
        refs.includes(g),
      );
      if (!refs.includes(owner) && !approver) {
        throw new StubError(
          403,
          'NotAllowedError',
          `${requester} may not request autoscaling for ${
            request.entityRef
          }: it is owned by ${owner}, and only members of the owner (or the approver groups ${keda.approvals.approverGroups.join(
            ', ',
          )}) may. Ask ${owner} to run the template`,
        );
      }
    }
    const key = kedaWorkloadKey(request);
    const inFlight = workloadRecords(key).find(r =>
      KEDA_IN_FLIGHT_STATES.includes(r.state),
    );
    if (checks && inFlight) {
      throw new StubError(
        409,
        'ConflictError',
        `${request.entityRef} (${key}) already has request ${inFlight.id} in flight (${inFlight.state}, by ${inFlight.requester}); withdraw it or wait until it is decided and provisioned, then run the template again`,
      );
    }
    const current = currentOf(key);
    const externalId = workloadExternalIdOf(current);
    if (
      checks &&
      externalId &&
      body.externalId &&
      body.externalId !== externalId
    ) {
      throw new StubError(
        409,
        'ConflictError',
        `externalId: the run planned with another ExternalId than ${key} has (request ${
          current!.id
        }); run the template again so that keda:plan uses the workload's ExternalId`,
      );
    }
    const p = plan({
      request: { ...request, requestId: undefined },
      cluster: clusterSpecOf(cluster) as KedaClusterSpec,
      roles: keda.roles,
      guardrails: keda.guardrails,
      externalId: externalId ?? body.externalId,
    });
    if (checks && p.guardrails.violations.length > 0) {
      throw new StubError(
        400,
        'InputError',
        new KedaGuardrailError(p.guardrails.violations, {
          fieldPrefix: 'request.',
        }).message,
      );
    }
    const approvalReasons = p.guardrails.reasons.map(r => r.message);
    if (current && !current.autoApproved) {
      approvalReasons.push(
        `It changes request ${current.id}, which an approver approved: a change to an approved request needs approval again`,
      );
    }
    return {
      plan: p,
      preflight: {
        ...(p.scalerRole.externalId
          ? { externalId: p.scalerRole.externalId }
          : {}),
        autoApproved: approvalReasons.length === 0,
        approvalReasons,
        ...(owner ? { owner } : {}),
        ...(current
          ? { supersedes: { id: current.id, state: current.state } }
          : {}),
      },
    };
  }

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length
      ? JSON.parse(Buffer.concat(chunks).toString('utf8'))
      : undefined;
    const path = (req.url ?? '').replace(/^\/api\/keda/, '');
    calls.push({
      method: req.method!,
      path,
      authorization: req.headers.authorization,
      body,
    });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (!req.headers.authorization?.startsWith('Bearer ')) {
      send(401, {
        error: { name: 'AuthenticationError', message: 'Missing credentials' },
      });
      return;
    }
    const requester = userOf(req.headers.authorization);
    try {
      if (req.method === 'POST' && path === '/requests/preflight') {
        send(200, prepare(body, requester, true).preflight);
        return;
      }
      if (req.method === 'POST' && path === '/requests') {
        const create = body as CreateKedaRequestBody;
        const key = create.idempotencyKey ?? create.taskId;
        if (key && byTask.has(key)) {
          send(200, records.get(byTask.get(key)!));
          return;
        }
        // the workload's ExternalId; a change to an approved request needs approval
        const { plan: p, preflight: decided } = prepare(
          create,
          requester,
          false,
        );
        const id = `req-${String(next++).padStart(4, '0')}`;
        const now = new Date(0).toISOString();
        const auto = decided.autoApproved;
        const record: KedaRequestRecord = {
          id,
          entityRef: p.request.entityRef,
          requester: requester ?? 'user:default/mock',
          ...(options.owners?.[p.request.entityRef]
            ? { owner: options.owners[p.request.entityRef] }
            : {}),
          cluster: p.cluster.name,
          queueUrl: p.queue.url,
          state: auto ? 'provisioning' : 'pending',
          autoApproved: auto,
          approvalReasons: decided.approvalReasons,
          plan: p,
          pullRequest: create.pullRequest,
          createdAt: now,
          updatedAt: now,
          ...(p.scalerRole.externalId
            ? { externalId: p.scalerRole.externalId }
            : {}),
          decisions: [
            {
              actor: requester ?? 'user:default/mock',
              decision: 'created',
              at: now,
            },
          ],
        };
        records.set(id, record);
        if (key) byTask.set(key, id);
        send(201, record);
        return;
      }
      if (req.method === 'GET' && path.startsWith('/requests?')) {
        const query = new URLSearchParams(path.slice('/requests?'.length));
        const states = query.getAll('state');
        const items = [...records.values()].filter(
          r =>
            (!query.get('entityRef') ||
              r.entityRef === query.get('entityRef')) &&
            (!query.get('cluster') || r.cluster === query.get('cluster')) &&
            (states.length === 0 || states.includes(r.state)),
        );
        send(200, { items });
        return;
      }
      const decommission = /^\/requests\/([^/]+)\/decommission$/.exec(path);
      if (req.method === 'POST' && decommission) {
        const record = records.get(decodeURIComponent(decommission[1]));
        if (!record) {
          send(404, {
            error: {
              name: 'NotFoundError',
              message: `No request ${decommission[1]}`,
            },
          });
          return;
        }
        if (!canTransition(record.state, 'decommissioned')) {
          send(409, {
            error: {
              name: 'ConflictError',
              message: `Request ${record.id} is ${record.state}; cannot be decommissioned`,
            },
          });
          return;
        }
        record.state = 'decommissioned';
        record.decisions.push({
          actor: 'user:default/mock',
          decision: 'decommissioned',
          comment: body?.comment,
          at: new Date(0).toISOString(),
        });
        send(200, record);
        return;
      }
      const get = /^\/requests\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && get) {
        const record = records.get(decodeURIComponent(get[1]));
        if (!record) {
          send(404, {
            error: { name: 'NotFoundError', message: `No request ${get[1]}` },
          });
          return;
        }
        send(200, record);
        return;
      }
      const progress = /^\/requests\/([^/]+)\/progress$/.exec(path);
      if (req.method === 'POST' && progress) {
        const record = records.get(decodeURIComponent(progress[1]));
        const update = body as KedaRequestProgressBody;
        if (!record) {
          send(404, {
            error: {
              name: 'NotFoundError',
              message: `No request ${progress[1]}`,
            },
          });
          return;
        }
        if (!canTransition(record.state, update.state)) {
          send(409, {
            error: {
              name: 'ConflictError',
              message: `Request ${record.id} is ${record.state}; cannot become ${update.state}`,
            },
          });
          return;
        }
        record.state = update.state;
        record.provisioning = {
          taskId: update.taskId,
          roleArns: update.roleArns,
          error: update.error,
          verification: update.verification,
        };
        send(200, record);
        return;
      }
      send(404, {
        error: {
          name: 'NotFoundError',
          message: `No route ${req.method} ${path}`,
        },
      });
    } catch (error) {
      if (error instanceof StubError) {
        send(error.status, {
          error: { name: error.name, message: error.message },
        });
        return;
      }
      send(500, { error: { name: 'Error', message: String(error) } });
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/keda`,
    records,
    calls,
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  };
}
