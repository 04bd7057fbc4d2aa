import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  canTransition,
  plan,
  type CreateKedaRequestBody,
  type KedaRequestProgressBody,
  type KedaRequestRecord,
} from '@internal/plugin-keda-common';
import { clusterSpecOf, readKedaConfig } from '@internal/plugin-keda-node';
import type { Config } from '@backstage/config';

export interface RecordedCall {
  method: string;
  path: string;
  authorization?: string;
  body?: any;
}

/**
 * A local stand-in for the keda backend's request API (contract:
 * plugins/keda-backend/src/schema/openapi.yaml): recomputes the plan from its own config,
 * auto-approves by the guardrails, is idempotent on taskId and enforces the
 * state machine of keda-common on progress.
 */
export async function startKedaBackendStub(config: Config) {
  const records = new Map<string, KedaRequestRecord>();
  const byTask = new Map<string, string>();
  const calls: RecordedCall[] = [];
  let next = 1;

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
    try {
      if (req.method === 'POST' && path === '/requests') {
        const create = body as CreateKedaRequestBody;
        const key = create.idempotencyKey ?? create.taskId;
        if (key && byTask.has(key)) {
          send(200, records.get(byTask.get(key)!));
          return;
        }
        const keda = readKedaConfig(config);
        const cluster = keda.clusters.find(
          c => c.name === create.request.cluster,
        )!;
        const p = plan({
          request: { ...create.request, requestId: undefined },
          cluster: clusterSpecOf(cluster) as any,
          roles: keda.roles,
          guardrails: keda.guardrails,
          externalId: create.externalId,
        });
        const id = `req-${String(next++).padStart(4, '0')}`;
        const now = new Date(0).toISOString();
        const auto = !p.guardrails.approvalRequired;
        const record: KedaRequestRecord = {
          id,
          entityRef: p.request.entityRef,
          requester: 'user:default/mock',
          cluster: p.cluster.name,
          queueUrl: p.queue.url,
          state: auto ? 'provisioning' : 'pending',
          autoApproved: auto,
          approvalReasons: p.guardrails.reasons.map(r => r.message),
          plan: p,
          pullRequest: create.pullRequest,
          createdAt: now,
          updatedAt: now,
          decisions: [
            { actor: 'user:default/mock', decision: 'created', at: now },
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
