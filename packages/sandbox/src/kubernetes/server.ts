import http from 'node:http';
import https from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { badRequest, KubernetesApiError } from './errors';
import { ServiceAccountIssuer } from './oidc';
import { patchTypeOf } from './patch';
import {
  apiVersionOf,
  BUILTIN_RESOURCES,
  KUBERNETES_PLUGIN_EXTRA_RESOURCES,
  loadCustomResourceDefinitions,
  ResourceRegistry,
  ResourceType,
} from './resources';
import {
  AdmissionHook,
  KubernetesObject,
  KubernetesObjectStore,
  Subresource,
  WatchEvent,
} from './store';
import { IncludeObject, toTable } from './table';
import { kedaAdmission } from './admission';
import { OutageState, parseOutageRequest, type OutageStatus } from './outages';
import { generateServingCertificate, ServingCertificate } from './tls';
import { RequestCounter, RequestCounts, verbOf } from './requestCounts';

/** Kubernetes version the stand-in reports (EKS 1.32 line). */
const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface KubernetesStandInOptions {
  /** Interface to bind; default 127.0.0.1 (never a public interface). */
  host?: string;
  /** Default 6443; 0 picks a free port (tests). */
  port?: number;
  /** JSON file holding the cluster state across restarts. */
  stateFile?: string;
  /** Bearer tokens with full access. Default: one generated token. */
  tokens?: string[];
  /** Bearer tokens that may only get/list/watch (writes → 403 Forbidden). */
  readOnlyTokens?: string[];
  /** Directory with the KEDA CRD YAML files. */
  crdDir?: string;
  /**
   * The service account issuer URL (the EKS cluster's OIDC issuer). Default:
   * the server's own URL, which then serves the discovery document and JWKS.
   */
  issuerUrl?: string;
  /** Changes kept for resuming watches (default 5000); older resourceVersions get 410. */
  historyLimit?: number;
  /** How often a watch with `allowWatchBookmarks=true` gets a BOOKMARK. */
  bookmarkIntervalMs?: number;
  /** Namespaces that always exist (default: default, kube-system, kube-public, keda). */
  namespaces?: string[];
  /**
   * Serve HTTPS with a self-signed certificate (generated with openssl unless
   * given). Needed for kubectl, which never sends a bearer token over HTTP.
   */
  tls?: boolean | ServingCertificate;
  /**
   * Also serve the other object types the Backstage Kubernetes plugin
   * fetches by default (services, statefulsets, jobs, ingresses, …), so its
   * entity tab shows no 404 errors. Default false.
   */
  kubernetesPluginObjectTypes?: boolean;
  /** Give Deployments a ReplicaSet and Running pods (default true). */
  simulatePods?: boolean;
  /**
   * The clock for creation timestamps and service account tokens (default:
   * the system clock). Tests pass the same clock to every stand-in.
   */
  now?: () => number;
  /** Extra admission hooks after KEDA's (tests, demos). */
  admission?: AdmissionHook[];
}

export interface KubernetesStandIn {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`). */
  url: string;
  /** With `tls`: the serving certificate (PEM), to trust as the cluster CA. */
  caCertificate?: string;
  /** The first full-access bearer token. */
  token: string;
  /** In-process access to the same objects the HTTP API serves. */
  store: KubernetesObjectStore;
  /** Signs service account tokens; its JWKS is served under the issuer path. */
  issuer: ServiceAccountIssuer;
  registry: ResourceRegistry;
  /** Deletes every object and re-creates the initial namespaces. */
  reset(): void;
  /**
   * The outage knobs' state and counters (also `GET /_sandbox/outages`);
   * outages themselves are started only through `POST /_sandbox/outages`.
   */
  outages(): OutageStatus;
  /**
   * Kubernetes API requests served since start or the last reset, by verb
   * and resource (also `GET /_sandbox/requests`; `DELETE` resets).
   */
  requestCounts(): RequestCounts;
  resetRequestCounts(): void;
  close(): Promise<void>;
}

/**
 * The KEDA v2.20.2 CRDs vendored with the domain core
 * (`plugins/keda-common/crds/keda-v2.20.2`, see the README there): the same
 * schemas its rendered manifests are tested against.
 */
export function defaultCrdDir(): string {
  const packageDir = path.dirname(
    require.resolve('@keda-self-service/plugin-keda-common/package.json'),
  );
  return path.join(packageDir, 'crds', 'keda-v2.20.2');
}

interface ResourceRoute {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

type RouteMatch =
  | { kind: 'resource'; route: ResourceRoute }
  | { kind: 'discovery'; body: unknown }
  | undefined;

function writeJson(res: http.ServerResponse, code: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

function writeError(res: http.ServerResponse, error: unknown) {
  const apiError =
    error instanceof KubernetesApiError
      ? error
      : new KubernetesApiError(
          500,
          'InternalError',
          `Internal error occurred: ${(error as Error)?.message ?? error}`,
        );
  if (res.headersSent) {
    res.end();
    return;
  }
  writeJson(res, apiError.code, apiError.toStatus());
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new KubernetesApiError(
        413,
        'BadRequest',
        'the request body is larger than 3MiB',
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string | undefined): any {
  if (!text) throw badRequest('the request body is empty');
  const mime = (contentType ?? '').split(';')[0].trim();
  try {
    if (mime.endsWith('yaml')) return parseYaml(text);
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(
      `the request body is not valid ${
        mime.endsWith('yaml') ? 'YAML' : 'JSON'
      }: ${(e as Error).message}`,
    );
  }
}

function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}

/**
 * Starts a Kubernetes API server stand-in: discovery, CRUD, list and watch
 * for the resources of the KEDA journey (namespaces, service accounts,
 * events, config maps, secrets, deployments with `/scale`, HPAs and the KEDA
 * CRDs), bearer-token auth, Status errors, JSON (and apply YAML) bodies.
 */
export async function startKubernetesStandIn(
  options: KubernetesStandInOptions = {},
): Promise<KubernetesStandIn> {
  const host = options.host ?? '127.0.0.1';
  const tokens = options.tokens?.length
    ? options.tokens
    : [`sandbox-${Math.random().toString(36).slice(2)}`];
  const readOnlyTokens = options.readOnlyTokens ?? [];
  const crdTypes = loadCustomResourceDefinitions(
    options.crdDir ?? defaultCrdDir(),
  );
  const registry = new ResourceRegistry([
    ...BUILTIN_RESOURCES,
    ...(options.kubernetesPluginObjectTypes
      ? KUBERNETES_PLUGIN_EXTRA_RESOURCES
      : []),
    ...crdTypes,
  ]);
  const store = new KubernetesObjectStore({
    registry,
    stateFile: options.stateFile,
    historyLimit: options.historyLimit,
    simulatePods: options.simulatePods,
    now: options.now,
    admission: [kedaAdmission, ...(options.admission ?? [])],
    initialNamespaces: options.namespaces ?? [
      'default',
      'kube-system',
      'kube-public',
      'keda',
    ],
  });
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 15000;
  /** Open watch streams: how to end one cleanly, cut it, or silence it. */
  interface OpenWatch {
    end(): void;
    cut(): void;
    silence(): void;
  }
  const openWatches = new Set<OpenWatch>();
  /** Requests held unanswered (half-open) and silenced watches, until their client closes them. */
  const silent = new Set<http.ServerResponse>();
  const sockets = new Set<Socket>();
  const outages = new OutageState();
  const requests = new RequestCounter(options.now);
  const issuerHolder: { issuer?: ServiceAccountIssuer } = {};
  let serverAddress = '';

  const groupVersions = () => {
    const groups: Array<{
      name: string;
      versions: Array<{ groupVersion: string; version: string }>;
      preferredVersion: { groupVersion: string; version: string };
    }> = [];
    for (const [group, types] of registry.groups()) {
      if (group === '') continue;
      const versions = [...new Set(types.map(t => t.version))].map(v => ({
        groupVersion: `${group}/${v}`,
        version: v,
      }));
      groups.push({ name: group, versions, preferredVersion: versions[0] });
    }
    return groups;
  };

  const resourceList = (group: string, version: string) => {
    const types = registry
      .all()
      .filter(t => t.group === group && t.version === version);
    if (types.length === 0) return undefined;
    const resources: Array<Record<string, unknown>> = [];
    for (const t of types) {
      resources.push({
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: registry.verbs(),
        ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
        ...(t.categories.length ? { categories: t.categories } : {}),
      });
      if (t.subresources.status) {
        resources.push({
          name: `${t.plural}/status`,
          singularName: '',
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: ['get', 'patch', 'update'],
        });
      }
      if (t.subresources.scale) {
        resources.push({
          name: `${t.plural}/scale`,
          singularName: '',
          namespaced: t.namespaced,
          group: 'autoscaling',
          version: 'v1',
          kind: 'Scale',
          verbs: ['get', 'patch', 'update'],
        });
      }
    }
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources,
    };
  };

  const routeOf = (segments: string[]): RouteMatch => {
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api') {
      if (segments.length === 1) {
        return {
          kind: 'discovery',
          body: {
            kind: 'APIVersions',
            versions: ['v1'],
            serverAddressByClientCIDRs: [
              { clientCIDR: '0.0.0.0/0', serverAddress },
            ],
          },
        };
      }
      group = '';
      version = segments[1];
      rest = segments.slice(2);
    } else if (segments[0] === 'apis') {
      if (segments.length === 1) {
        return {
          kind: 'discovery',
          body: {
            kind: 'APIGroupList',
            apiVersion: 'v1',
            groups: groupVersions(),
          },
        };
      }
      if (segments.length === 2) {
        const found = groupVersions().find(g => g.name === segments[1]);
        return found
          ? {
              kind: 'discovery',
              body: { kind: 'APIGroup', apiVersion: 'v1', ...found },
            }
          : undefined;
      }
      group = segments[1];
      version = segments[2];
      rest = segments.slice(3);
    } else {
      return undefined;
    }
    if (rest.length === 0) {
      const list = resourceList(group, version);
      return list ? { kind: 'discovery', body: list } : undefined;
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const nsType = registry.byPath(group, version, 'namespaces');
      if (
        nsType &&
        rest.length === 3 &&
        ['status', 'finalize'].includes(rest[2])
      ) {
        // /api/v1/namespaces/<name>/status|finalize
        return {
          kind: 'resource',
          route: { type: nsType, name: rest[1], subresource: rest[2] },
        };
      }
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = registry.byPath(group, version, rest[0]);
    if (!type || rest.length > 3) return undefined;
    if (namespace && !type.namespaced) return undefined;
    return {
      kind: 'resource',
      route: { type, namespace, name: rest[1], subresource: rest[2] },
    };
  };

  const authorize = (req: http.IncomingMessage, write: boolean) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const token = match?.[1].trim();
    if (token && tokens.includes(token)) return;
    if (token && readOnlyTokens.includes(token)) {
      if (!write) return;
      throw new KubernetesApiError(
        403,
        'Forbidden',
        `${req.method} ${req.url} is forbidden: the read-only token may only get, list and watch`,
      );
    }
    throw new KubernetesApiError(401, 'Unauthorized', 'Unauthorized');
  };

  const serveWatch = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: ResourceRoute,
    query: URLSearchParams,
  ) => {
    const route = target;
    const table = wantsTable(req.headers.accept);
    const includeObject = (query.get('includeObject') ??
      'Metadata') as IncludeObject;
    const resourceVersion = query.get('resourceVersion') ?? undefined;
    outages.count('watches', route.type.plural);
    const resuming = Boolean(resourceVersion && resourceVersion !== '0');
    if (resuming) outages.counters.watchResumes++;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const timers: NodeJS.Timeout[] = [];
    let handle: { stop(): void } | undefined;
    let ended = false;
    const watch = {} as OpenWatch;
    const stopServing = () => {
      if (ended) return false;
      ended = true;
      handle?.stop();
      timers.forEach(t => clearTimeout(t));
      openWatches.delete(watch);
      return true;
    };
    const end = () => {
      if (stopServing()) res.end();
    };
    Object.assign(watch, {
      end,
      cut: () => {
        if (stopServing()) {
          outages.counters.watchesCut++;
          req.socket.destroy();
        }
      },
      silence: () => {
        if (stopServing()) {
          outages.counters.watchesSilenced++;
          silent.add(res);
          res.on('close', () => silent.delete(res));
        }
      },
    });
    openWatches.add(watch);
    const send = (event: WatchEvent) => {
      if (ended) return;
      const object =
        table &&
        (event.type === 'ADDED' ||
          event.type === 'MODIFIED' ||
          event.type === 'DELETED')
          ? toTable(route.type, [event.object], includeObject)
          : event.object;
      res.write(`${JSON.stringify({ type: event.type, object })}\n`);
    };
    req.on('close', end);
    const fieldSelectors = [query.get('fieldSelector')];
    if (route.name) fieldSelectors.push(`metadata.name=${route.name}`);
    try {
      handle = store.watch(
        route.type,
        {
          namespace: route.namespace,
          labelSelector: query.get('labelSelector') ?? undefined,
          fieldSelector: fieldSelectors.filter(Boolean).join(',') || undefined,
          resourceVersion,
          sendInitialEvents: query.get('sendInitialEvents') === 'true',
        },
        send,
      );
    } catch (e) {
      if (e instanceof KubernetesApiError) {
        if (e.code === 410) outages.counters.goneAnswered++;
        // A too-old resourceVersion is reported inside the stream, as the
        // real server does; informers re-list on code 410.
        res.write(
          `${JSON.stringify({ type: 'ERROR', object: e.toStatus() })}\n`,
        );
        end();
        return;
      }
      throw e;
    }
    if (query.get('allowWatchBookmarks') === 'true') {
      const tick = () => {
        send(store.bookmark(route.type));
        timers.push(setTimeout(tick, bookmarkIntervalMs).unref());
      };
      timers.push(setTimeout(tick, bookmarkIntervalMs).unref());
    }
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? 1800);
    if (timeoutSeconds > 0) {
      timers.push(setTimeout(end, timeoutSeconds * 1000).unref());
    }
  };

  const serveResource = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: ResourceRoute,
    query: URLSearchParams,
  ) => {
    const route = target;
    const { type, namespace, name } = route;
    const method = req.method ?? 'GET';
    const write = !['GET', 'HEAD'].includes(method);
    authorize(req, write);
    const dryRun = query.getAll('dryRun').includes('All');
    let subresource: Subresource | undefined;
    if (route.subresource) {
      if (route.subresource === 'status' && type.subresources.status) {
        subresource = 'status';
      } else if (route.subresource === 'scale' && type.subresources.scale) {
        subresource = 'scale';
      } else {
        throw new KubernetesApiError(
          404,
          'NotFound',
          `the server could not find the requested resource (${type.plural}/${route.subresource})`,
        );
      }
    }
    const table = wantsTable(req.headers.accept);
    const includeObject = (query.get('includeObject') ??
      'Metadata') as IncludeObject;
    const respond = (code: number, obj: KubernetesObject) =>
      writeJson(
        res,
        code,
        table && method === 'GET' ? toTable(type, [obj], includeObject) : obj,
      );
    const isWatch = ['true', '1'].includes(query.get('watch') ?? '');
    const verb = verbOf(method, Boolean(name), isWatch);
    if (verb) {
      const resource = [
        type.group ? `${type.plural}.${type.group}` : type.plural,
      ]
        .concat(route.subresource ? [route.subresource] : [])
        .join('/');
      requests.count(verb, resource);
    }

    if (method === 'GET' && (isWatch || !name)) {
      if (isWatch) {
        serveWatch(req, res, route, query);
        return;
      }
      outages.count('lists', type.plural);
      const list = store.list(type, {
        namespace,
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
      });
      if (table) {
        writeJson(
          res,
          200,
          toTable(type, list.items, includeObject, list.resourceVersion),
        );
        return;
      }
      writeJson(res, 200, {
        kind: type.listKind,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: list.resourceVersion },
        items: list.items,
      });
      return;
    }
    if (method === 'GET') {
      respond(
        200,
        subresource === 'scale'
          ? store.getScale(type, namespace, name!)
          : store.get(type, namespace, name!),
      );
      return;
    }
    if (method === 'POST' && !name) {
      const body = parseBody(await readBody(req), req.headers['content-type']);
      respond(201, store.create(type, namespace, body, { dryRun }));
      return;
    }
    if (method === 'PUT' && name) {
      const body = parseBody(await readBody(req), req.headers['content-type']);
      respond(
        200,
        store.update(type, namespace, name, body, { dryRun, subresource }),
      );
      return;
    }
    if (method === 'PATCH' && name) {
      const patchType = patchTypeOf(req.headers['content-type']);
      const body = parseBody(await readBody(req), req.headers['content-type']);
      const existed = Boolean(store.find(type, namespace, name));
      const result = store.patch(type, namespace, name, body, patchType, {
        dryRun,
        subresource,
        fieldManager: query.get('fieldManager') ?? undefined,
        force: query.get('force') === 'true',
      });
      respond(existed ? 200 : 201, result);
      return;
    }
    if (method === 'DELETE') {
      const text = await readBody(req);
      const body = text ? parseBody(text, 'application/json') : {};
      const deleteOptions = {
        dryRun: dryRun || (body.dryRun ?? []).includes('All'),
        preconditions: body.preconditions,
        propagationPolicy:
          body.propagationPolicy ?? query.get('propagationPolicy') ?? undefined,
      };
      if (!name) {
        const deleted = store.deleteCollection(type, {
          namespace,
          labelSelector: query.get('labelSelector') ?? undefined,
          fieldSelector: query.get('fieldSelector') ?? undefined,
          ...deleteOptions,
        });
        writeJson(res, 200, {
          kind: type.listKind,
          apiVersion: apiVersionOf(type),
          metadata: { resourceVersion: store.currentRevision() },
          items: deleted,
        });
        return;
      }
      respond(200, store.delete(type, namespace, name, deleteOptions));
      return;
    }
    throw new KubernetesApiError(
      405,
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource (${method} ${type.plural})`,
    );
  };

  const handle = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname
      .split('/')
      .filter(Boolean)
      .map(decodeURIComponent);
    if (outages.isActive('half-open')) {
      // Accepted, never answered: the client must give up by itself.
      outages.counters.requestsHeld++;
      silent.add(res);
      res.on('close', () => silent.delete(res));
      if (outages.headersWhileHalfOpen()) {
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Transfer-Encoding': 'chunked',
        });
        res.flushHeaders();
      }
      return;
    }
    const issuer = issuerHolder.issuer!;
    const issuerPath = new URL(issuer.issuerUrl).pathname.replace(/\/$/, '');
    // Service account issuer discovery is anonymous on EKS (the
    // system:service-account-issuer-discovery binding), as STS fetches it.
    if (url.pathname === `${issuerPath}/.well-known/openid-configuration`) {
      writeJson(res, 200, issuer.discoveryDocument());
      return;
    }
    if (url.pathname === `${issuerPath}/openid/v1/jwks`) {
      writeJson(res, 200, issuer.jwks());
      return;
    }
    if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (url.pathname === '/version') {
      writeJson(res, 200, SERVER_VERSION);
      return;
    }
    const match = routeOf(segments);
    if (!match) {
      authorize(req, false);
      throw new KubernetesApiError(
        404,
        'NotFound',
        'the server could not find the requested resource',
      );
    }
    if (match.kind === 'discovery') {
      authorize(req, false);
      writeJson(res, 200, match.body);
      return;
    }
    await serveResource(req, res, match.route, url.searchParams);
  };

  const outageStatus = (): OutageStatus => ({
    active: outages.active(),
    counters: JSON.parse(JSON.stringify(outages.counters)),
    open: {
      watches: openWatches.size,
      silent: silent.size,
      sockets: sockets.size,
    },
  });

  /** `GET /_sandbox/requests` reads the request counts, `DELETE` resets them. */
  const handleRequestCounts = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ) => {
    if (req.method === 'GET') {
      writeJson(res, 200, requests.snapshot());
    } else if (req.method === 'DELETE') {
      requests.reset();
      writeJson(res, 200, requests.snapshot());
    } else {
      writeJson(res, 405, { error: 'GET or DELETE' });
    }
  };

  /**
   * Admin endpoints (not Kubernetes): GET/POST/DELETE /_sandbox/outages,
   * GET/DELETE /_sandbox/requests.
   */
  const handleAdmin = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
  ) => {
    if (pathname === '/_sandbox/requests') {
      handleRequestCounts(req, res);
      return;
    }
    if (pathname !== '/_sandbox/outages') {
      writeJson(res, 404, { error: `no admin endpoint ${pathname}` });
      return;
    }
    if (req.method === 'GET') {
      writeJson(res, 200, outageStatus());
      return;
    }
    if (req.method === 'DELETE') {
      outages.clear();
      writeJson(res, 200, outageStatus());
      return;
    }
    if (req.method !== 'POST') {
      writeJson(res, 405, { error: 'GET, POST or DELETE' });
      return;
    }
    let request;
    try {
      const text = await readBody(req);
      request = parseOutageRequest(text ? JSON.parse(text) : {});
    } catch (e) {
      writeJson(res, 400, { error: (e as Error).message });
      return;
    }
    switch (request.outage) {
      case 'drop':
        for (const w of [...openWatches]) w.cut();
        break;
      case 'gone':
        store.compactPastEveryClient();
        // Clients resume at once, into the 410.
        for (const w of [...openWatches]) w.end();
        break;
      case 'half-open':
        outages.open('half-open', request.durationMs!, request.headers);
        for (const w of [...openWatches]) w.silence();
        break;
      case 'down':
        outages.open('down', request.durationMs!);
        for (const w of [...openWatches]) w.cut();
        break;
      default:
        break;
    }
    writeJson(res, 200, outageStatus());
    if (request.outage === 'down') {
      // Every other connection goes now; this one once the answer is out.
      res.on('finish', () => {
        for (const s of sockets) s.destroy();
      });
    }
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const pathname = (req.url ?? '/').split('?')[0];
    const work = pathname.startsWith('/_sandbox/')
      ? handleAdmin(req, res, pathname)
      : handle(req, res);
    work.catch(error => writeError(res, error));
  };
  let certificate: ServingCertificate | undefined;
  if (options.tls) {
    certificate =
      options.tls === true ? generateServingCertificate() : options.tls;
  }
  const server = certificate
    ? https.createServer(
        { key: certificate.key, cert: certificate.cert },
        listener,
      )
    : http.createServer(listener);
  server.on('connection', (socket: Socket) => {
    if (outages.isActive('down')) {
      outages.counters.connectionsRefused++;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 6443, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  serverAddress = `${host}:${address.port}`;
  const url = `${certificate ? 'https' : 'http'}://${serverAddress}`;
  const issuer = new ServiceAccountIssuer(
    options.issuerUrl ?? url,
    options.now,
  );
  issuerHolder.issuer = issuer;

  return {
    url,
    caCertificate: certificate?.cert,
    token: tokens[0],
    store,
    issuer,
    registry,
    reset: () => store.reset(),
    outages: outageStatus,
    requestCounts: () => requests.snapshot(),
    resetRequestCounts: () => requests.reset(),
    close: async () => {
      outages.clear();
      for (const w of [...openWatches]) w.end();
      store.close();
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}
