/*
 * One HTTP endpoint for IAM, STS, SQS, EKS and IAM Access Analyzer (policy
 * checks) that unmodified AWS SDK v3 clients reach through `endpoint` (or
 * AWS_ENDPOINT_URL). Requests are routed
 * by the service in the SigV4 credential scope, like a real regional
 * front end would by host name.
 *
 * Admin endpoints (not AWS): GET/POST/DELETE /_sandbox/faults,
 * POST /_sandbox/reset, GET /_sandbox/health.
 */
import express, { Request, Response } from 'express';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  ACCESS_ANALYZER_ROUTES,
  accessAnalyzerHandlers,
} from './accessAnalyzer';
import {
  createEksAddon,
  createEksCluster,
  deleteEksAddon,
  EksClusterSeed,
  eksOperationOf,
  handleEksRequest,
} from './eks';
import { assumeRoleForPodIdentity, eksAuthOperationOf } from './eksAuth';
import {
  FaultInjector,
  FaultRule,
  FaultRuleSet,
  parseFaultRuleSet,
  AwsServiceName,
} from './faults';
import { IAM_NAMESPACE, iamHandlers, QueryHandler } from './iam';
import { PolicyDocument } from './policyDocument';
import { UnsupportedConditionError } from './policyEvaluator';
import { parseAuthorization, verifySignature } from './sigv4';
import { SQS_ERROR_TYPES, sqsHandlers } from './sqs';
import {
  ClusterRecord,
  loadState,
  ManagedPolicyRecord,
  queueUrl,
  rootCredentialsFor,
  StateData,
  UserRecord,
} from './state';
import { STS_NAMESPACE, stsHandlers } from './sts';
import {
  AwsError,
  newRequestId,
  QueryParams,
  queryErrorResponse,
  queryResponse,
} from './wire';
import { AwsWorld, Caller, Credentials } from './world';

export interface AwsStandInOptions {
  /** Interface to bind; default 127.0.0.1 (never bind wider without need). */
  host?: string;
  /** Port; default 4566, use 0 in tests for an ephemeral port. */
  port?: number;
  /** JSON state file: loaded on start, written atomically after each change. */
  stateFile?: string;
  logger?: (msg: string) => void;
  /** Verify SigV4 signatures with the stored secrets (default true). */
  verifySignatures?: boolean;
  /**
   * Form of the queue URLs SQS returns. `aws` (default): the canonical
   * `https://sqs.<region>.amazonaws.com/<account>/<name>` that keda-common
   * parses and KEDA is given; clients must then set `endpoint` explicitly (or
   * `useQueueUrlAsEndpoint: false`), because the SQS client otherwise sends
   * to the queue URL's host. `endpoint`: `<stand-in url>/<account>/<name>`,
   * for clients configured only through AWS_ENDPOINT_URL.
   */
  queueUrlStyle?: 'aws' | 'endpoint';
  /** Clock in epoch ms (tests advance it to expire visibility timeouts and sessions). */
  clock?: () => number;
}

export interface AwsStandIn {
  /** Base URL to use as the SDK `endpoint`, e.g. http://127.0.0.1:4566. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** The live state (read it in tests; mutate only through the helpers). */
  readonly state: StateData;
  /** Create an account (idempotent); returns its root credentials (deterministic, see rootCredentialsFor). */
  createAccount(id: string, opts?: { alias?: string }): Credentials;
  /** Access key for root, an IAM user or (for seeding) a role session. */
  createAccessKey(
    principalArn: string,
    accessKeyId?: string,
    secretAccessKey?: string,
  ): Credentials;
  /** IAM user with inline and attached policies (no IAM API for users in the stand-in). */
  createUser(
    accountId: string,
    userName: string,
    opts?: {
      path?: string;
      inlinePolicies?: Record<string, PolicyDocument>;
      attachedPolicyArns?: string[];
    },
  ): UserRecord;
  createManagedPolicy(
    accountId: string,
    name: string,
    document: PolicyDocument,
    path?: string,
  ): ManagedPolicyRecord;
  createEksCluster(seed: EksClusterSeed): ClusterRecord;
  /**
   * Install an add-on on a seeded cluster (idempotent; `status` default
   * ACTIVE), e.g. `eks-pod-identity-agent`; there is no CreateAddon API.
   */
  createEksAddon(opts: {
    accountId: string;
    region: string;
    clusterName: string;
    addonName: string;
    status?: string;
  }): void;
  /** Remove an add-on of a seeded cluster. */
  deleteEksAddon(opts: {
    accountId: string;
    region: string;
    clusterName: string;
    addonName: string;
  }): void;
  /**
   * Register an OIDC issuer's signing keys (JWKS); from then on
   * AssumeRoleWithWebIdentity rejects tokens of that issuer whose signature
   * does not verify. Issuers without keys are trusted unverified.
   */
  setIssuerKeys(issuer: string, jwks: { keys: ReadonlyArray<object> }): void;
  /** The most recent AWS calls (up to 500), oldest first. */
  requestLog(): AwsRequestRecord[];
  /** Replace the fault rules; `seed` seeds the PRNG their `probability` is drawn from. */
  setFaults(rules: FaultRule[], seed?: number): void;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** The fault rules still in force (a rule with `times` is gone once used up) and their seed. */
  faults(): FaultRuleSet;
  /** Forget everything (accounts, keys, queues …) and persist the empty state. */
  reset(): void;
}

/** One AWS call as the stand-in saw it (a tiny CloudTrail for tests and the demo). */
export interface AwsRequestRecord {
  time: string;
  service: AwsServiceName;
  operation: string;
  region: string;
  /** Caller ARN, or undefined for unsigned / unauthenticated calls. */
  principal?: string;
  status: number;
  /** AWS error code when the call failed. */
  errorCode?: string;
}

const REQUEST_LOG_SIZE = 500;

/** Operations AWS accepts without a signature. */
const UNSIGNED_OPERATIONS = new Set([
  'sts:AssumeRoleWithWebIdentity',
  'sts:AssumeRoleWithSAML',
]);

interface Route {
  service: AwsServiceName;
  operation: string;
  region: string;
  /** `eks-auth` for the EKS Auth API, which is logged and faulted as service `eks`. */
  scope?: string;
}

export async function startAwsStandIn(
  opts: AwsStandInOptions = {},
): Promise<AwsStandIn> {
  const log = opts.logger ?? (() => {});
  const clock = opts.clock ?? Date.now;
  const world = new AwsWorld(loadState(opts.stateFile), opts.stateFile, clock);
  const faults = new FaultInjector();
  const verify = opts.verifySignatures ?? true;
  let closing = false;
  const requests: AwsRequestRecord[] = [];
  const record = (
    route: Route,
    principal: string | undefined,
    status: number,
    errorCode?: string,
  ) => {
    requests.push({
      time: new Date(clock()).toISOString(),
      service: route.service,
      operation: route.operation,
      region: route.region,
      ...(principal ? { principal } : {}),
      status,
      ...(errorCode ? { errorCode } : {}),
    });
    if (requests.length > REQUEST_LOG_SIZE)
      requests.splice(0, requests.length - REQUEST_LOG_SIZE);
  };
  let baseUrl = '';
  const queueUrlFor =
    opts.queueUrlStyle === 'endpoint'
      ? (_region: string, accountId: string, name: string) =>
          `${baseUrl}/${accountId}/${name}`
      : queueUrl;

  const app = express();
  app.disable('x-powered-by');
  app.use(express.raw({ type: () => true, limit: '10mb' }));

  app.get('/_sandbox/health', (_req, res) => {
    res.json({ status: 'ok', accounts: Object.keys(world.data.accounts) });
  });
  app.get('/_sandbox/requests', (_req, res) => {
    res.json({ requests });
  });
  app.get('/_sandbox/faults', (_req, res) => {
    res.json(faults.ruleSet());
  });
  app.post('/_sandbox/faults', (req, res) => {
    try {
      const body = req.body?.length
        ? JSON.parse(req.body.toString('utf8'))
        : {};
      const ruleSet = parseFaultRuleSet(body);
      faults.set(ruleSet.faults, ruleSet.seed);
      res.json(faults.ruleSet());
    } catch (e) {
      res.status(400).json({ error: (e as Error).message });
    }
  });
  app.delete('/_sandbox/faults', (_req, res) => {
    faults.clear();
    res.status(204).end();
  });
  app.post('/_sandbox/reset', (_req, res) => {
    world.reset();
    faults.clear();
    res.status(204).end();
  });

  app.use((req, res) => {
    handleAwsRequest(req, res).catch(err => {
      log(
        `aws stand-in: unexpected error: ${
          (err as Error).stack ?? String(err)
        }`,
      );
      if (!res.headersSent)
        res
          .status(500)
          .type('text/plain')
          .send('internal error in AWS stand-in');
    });
  });

  async function handleAwsRequest(req: Request, res: Response): Promise<void> {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const requestId = newRequestId();
    const auth = parseAuthorization(req.header('authorization'));
    const route = routeOf(req, body, auth?.service, auth?.region);
    if (!route) {
      res
        .status(400)
        .type('text/plain')
        .send(
          'AWS stand-in: cannot tell the service of this request (no SigV4 credential scope)',
        );
      return;
    }
    const respondError = (error: AwsError) =>
      sendError(res, route.service, error, requestId);
    let callerArn: string | undefined;
    const fault = faults.take(route.service, route.operation);
    /**
     * Answers a performed call, unless an `after` fault delays the answer,
     * replaces it with an error or resets the connection (the effect stays).
     */
    const succeed = async (send: () => void) => {
      const after = fault.after;
      if (after?.latencyMs && !(await stall(res, after.latencyMs))) {
        record(route, callerArn, 0, 'ClientClosedRequest');
        return;
      }
      if (after?.reset) {
        record(route, callerArn, 0, 'ConnectionReset');
        res.socket?.destroy();
        return;
      }
      if (after?.error) {
        log(
          `aws ${route.service}:${route.operation} performed, then → ${after.error.code} (fault)`,
        );
        record(route, callerArn, after.error.status, after.error.code);
        respondError(after.error);
        return;
      }
      send();
      record(route, callerArn, 200);
    };
    try {
      // A stalled call whose client went away (killed, timed out) is dropped
      // unperformed, as if it never reached the service.
      if (fault.latencyMs && !(await stall(res, fault.latencyMs))) {
        record(route, undefined, 0, 'ClientClosedRequest');
        return;
      }
      if (fault.reset) {
        record(route, undefined, 0, 'ConnectionReset');
        res.socket?.destroy();
        return;
      }
      if (fault.error) throw fault.error;

      let caller: Caller | undefined;
      if (auth) {
        caller = world.resolveCaller(
          auth.accessKeyId,
          req.header('x-amz-security-token'),
        );
        if (verify) {
          const ok = await verifySignature(
            {
              method: req.method,
              url: req.originalUrl,
              headers: req.headers,
              body,
            },
            auth,
            caller.key,
          );
          if (!ok) {
            throw new AwsError(
              'SignatureDoesNotMatch',
              'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
              { status: 403 },
            );
          }
        }
      } else if (
        !UNSIGNED_OPERATIONS.has(`${route.service}:${route.operation}`)
      ) {
        throw new AwsError(
          'MissingAuthenticationToken',
          'Request is missing Authentication Token',
          { status: 403 },
        );
      }
      callerArn = caller?.principal.arn;
      log(
        `aws ${route.service}:${route.operation} ${route.region} by ${
          callerArn ?? 'anonymous'
        }`,
      );

      if (route.service === 'iam' || route.service === 'sts') {
        const handlers = route.service === 'iam' ? iamHandlers : stsHandlers;
        const handler: QueryHandler | undefined = handlers[route.operation];
        if (!handler) {
          throw new AwsError(
            'InvalidAction',
            `Could not find operation ${route.operation} for version ${
              route.service === 'iam' ? '2010-05-08' : '2011-06-15'
            }`,
          );
        }
        const params = QueryParams.fromBody(body.toString('utf8'));
        const result = await handler({
          world,
          caller,
          region: route.region,
          params,
        });
        const ns = route.service === 'iam' ? IAM_NAMESPACE : STS_NAMESPACE;
        await succeed(() =>
          res
            .status(200)
            .set('x-amzn-RequestId', requestId)
            .type('text/xml')
            .send(queryResponse(route.operation, ns, result, requestId)),
        );
        return;
      }
      if (route.service === 'sqs') {
        const handler = sqsHandlers[route.operation];
        if (!handler)
          throw new AwsError(
            'UnsupportedOperation',
            `Operation ${route.operation} is not supported by the AWS stand-in.`,
          );
        let input: Record<string, unknown> = {};
        try {
          if (body.length) input = JSON.parse(body.toString('utf8'));
        } catch {
          throw new AwsError(
            'SerializationException',
            'Request body is not valid JSON.',
          );
        }
        const result = await handler({
          world,
          caller: caller!,
          region: route.region,
          input,
          isClosing: () => closing,
          queueUrl: queueUrlFor,
        });
        await succeed(() =>
          res
            .status(200)
            .set('x-amzn-RequestId', requestId)
            .type('application/x-amz-json-1.0')
            .send(JSON.stringify(result)),
        );
        return;
      }
      if (route.service === 'access-analyzer') {
        const handler = accessAnalyzerHandlers[route.operation];
        if (req.method !== 'POST' || !handler) {
          throw new AwsError(
            'ResourceNotFoundException',
            `${req.method} ${req.path} is not supported by the AWS stand-in (Access Analyzer: policy checks only).`,
            { status: 404 },
          );
        }
        let input: Record<string, unknown> = {};
        try {
          if (body.length) input = JSON.parse(body.toString('utf8'));
        } catch {
          throw new AwsError(
            'ValidationException',
            'Request body is not valid JSON.',
          );
        }
        const query = Object.fromEntries(
          Object.entries(req.query).map(([k, v]) => [
            k,
            typeof v === 'string' ? v : undefined,
          ]),
        );
        const result = handler({
          world,
          caller: caller!,
          region: route.region,
          input,
          query,
        });
        await succeed(() =>
          res.status(200).set('x-amzn-RequestId', requestId).json(result),
        );
        return;
      }
      // EKS and EKS Auth (REST-JSON).
      let input: Record<string, unknown> = {};
      try {
        if (body.length) input = JSON.parse(body.toString('utf8'));
      } catch {
        throw new AwsError(
          'InvalidParameterException',
          'Request body is not valid JSON.',
        );
      }
      const query = Object.fromEntries(
        Object.entries(req.query).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : undefined,
        ]),
      );
      const eksRequest = {
        world,
        caller: caller!,
        region: route.region,
        method: req.method,
        path: req.path,
        query,
        body: input,
      };
      const result =
        route.scope === 'eks-auth'
          ? assumeRoleForPodIdentity(eksRequest)
          : handleEksRequest(eksRequest);
      await succeed(() =>
        res.status(200).set('x-amzn-RequestId', requestId).json(result),
      );
    } catch (e) {
      // A policy using a condition operator the evaluator does not model:
      // fail loudly, naming it, instead of guessing a decision.
      const error =
        e instanceof UnsupportedConditionError
          ? new AwsError(
              'InternalFailure',
              `AWS stand-in cannot evaluate this request: ${e.message}`,
              { status: 500 },
            )
          : e;
      if (error instanceof AwsError) {
        log(
          `aws ${route.service}:${route.operation} → ${error.code}: ${error.message}`,
        );
        record(route, callerArn, error.status, error.code);
        respondError(error);
        return;
      }
      throw e;
    }
  }

  const server = http.createServer(app);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', s => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 4566, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}`;
  baseUrl = url;
  log(`AWS stand-in (IAM, STS, SQS, EKS, EKS Auth) listening on ${url}`);

  return {
    url,
    port: address.port,
    get state() {
      return world.data;
    },
    async close() {
      if (closing) return;
      closing = true;
      world.flush();
      await new Promise<void>(resolve => {
        server.close(() => resolve());
        // SDK clients keep connections alive; end idle ones so close() returns.
        for (const s of sockets) s.destroy();
      });
      // Requests that were still running may have changed state after the first flush.
      world.flush();
    },
    createAccount: (id, o) => world.createAccount(id, o),
    createAccessKey: (arn, id, secret) =>
      world.createAccessKey(arn, id, secret),
    createUser: (account, name, o) => world.createUser(account, name, o),
    createManagedPolicy: (account, name, doc, path) =>
      world.createManagedPolicy(account, name, doc, path),
    createEksCluster: seed => createEksCluster(world, seed),
    createEksAddon: o => {
      createEksAddon(world, o);
    },
    deleteEksAddon: o => deleteEksAddon(world, o),
    requestLog: () => requests.map(r => ({ ...r })),
    setIssuerKeys: (issuer, jwks) => {
      world.data.issuerKeys = {
        ...world.data.issuerKeys,
        [issuer.replace(/\/$/, '')]: {
          keys: jwks.keys.map(k => ({ ...k } as JsonWebKey)),
        },
      };
      world.persist();
    },
    setFaults: (rules, seed) => faults.set(rules, seed),
    addFault: rule => faults.add(rule),
    clearFaults: () => faults.clear(),
    faults: () => faults.ruleSet(),
    reset: () => world.reset(),
  };
}

/**
 * Waits `ms` before answering; false (at once) when the client closes the
 * connection meanwhile (or the stand-in closes), so the call is not performed.
 */
function stall(res: Response, ms: number): Promise<boolean> {
  return new Promise(resolve => {
    if (res.destroyed || res.socket?.destroyed) {
      resolve(false);
      return;
    }
    const pending: { timer?: ReturnType<typeof setTimeout> } = {};
    const onClose = () => {
      clearTimeout(pending.timer);
      resolve(false);
    };
    pending.timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

/** Decide service, operation and region of a request. */
function routeOf(
  req: Request,
  body: Buffer,
  scopeService?: string,
  scopeRegion?: string,
): Route | undefined {
  const target = req.header('x-amz-target');
  let service = scopeService as AwsServiceName | undefined;
  let params: QueryParams | undefined;
  const isForm = (req.header('content-type') ?? '').includes(
    'application/x-www-form-urlencoded',
  );
  if (isForm) params = QueryParams.fromBody(body.toString('utf8'));
  if (!service) {
    // Unsigned calls (AssumeRoleWithWebIdentity) carry no scope: infer from the payload.
    if (target?.startsWith('AmazonSQS.')) service = 'sqs';
    else if (params?.action && stsHandlers[params.action]) service = 'sts';
    else if (params?.action && iamHandlers[params.action]) service = 'iam';
    else if (req.path.startsWith('/clusters')) service = 'eks';
  }
  if ((service as string) === 'eks-auth') {
    return {
      service: 'eks',
      scope: 'eks-auth',
      operation:
        eksAuthOperationOf(req.method, req.path)?.operation ?? 'Unknown',
      region: scopeRegion ?? 'us-east-1',
    };
  }
  if (
    service !== 'iam' &&
    service !== 'sts' &&
    service !== 'sqs' &&
    service !== 'eks' &&
    service !== 'access-analyzer'
  )
    return undefined;
  const region = scopeRegion ?? 'us-east-1';
  if (service === 'access-analyzer') {
    return {
      service,
      operation: ACCESS_ANALYZER_ROUTES[req.path] ?? 'Unknown',
      region,
    };
  }
  if (service === 'sqs') {
    return {
      service,
      operation: target?.replace(/^AmazonSQS\./, '') ?? 'Unknown',
      region,
    };
  }
  if (service === 'eks') {
    return {
      service,
      operation: eksOperationOf(req.method, req.path)?.operation ?? 'Unknown',
      region,
    };
  }
  return {
    service,
    operation:
      params?.action ?? (req.query.Action as string | undefined) ?? 'Unknown',
    region,
  };
}

/** EKS names the shared auth errors differently from the query services. */
const EKS_ERROR_CODES: Record<string, string> = {
  AccessDenied: 'AccessDeniedException',
  InvalidClientTokenId: 'UnrecognizedClientException',
};

function sendError(
  res: Response,
  service: AwsServiceName,
  error: AwsError,
  requestId: string,
): void {
  if (service === 'iam' || service === 'sts') {
    const ns = service === 'iam' ? IAM_NAMESPACE : STS_NAMESPACE;
    res
      .status(error.status)
      .set('x-amzn-RequestId', requestId)
      .type('text/xml')
      .send(queryErrorResponse(error, ns, requestId));
    return;
  }
  if (service === 'sqs') {
    // JSON body plus the query-compatible code header the SDK maps to its error classes.
    const mapped = SQS_ERROR_TYPES[error.code];
    res
      .status(error.status)
      .set('x-amzn-RequestId', requestId)
      .set(
        'x-amzn-query-error',
        `${mapped?.queryCode ?? error.code};${error.fault}`,
      )
      .type('application/x-amz-json-1.0')
      .send(
        JSON.stringify({
          __type: mapped?.type ?? error.code,
          message: error.message,
        }),
      );
    return;
  }
  const code = EKS_ERROR_CODES[error.code] ?? error.code;
  res
    .status(error.status)
    .set('x-amzn-RequestId', requestId)
    .set('x-amzn-errortype', code)
    .json({ message: error.message });
}

export { rootCredentialsFor };
