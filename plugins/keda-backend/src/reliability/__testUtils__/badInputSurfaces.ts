import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import {
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
  kedaRequestSchema,
  parseQueueUrl,
} from '@keda-self-service/plugin-keda-common';
import { readKedaConfig } from '@keda-self-service/plugin-keda-node';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import { JANE } from '../../requests/__testUtils__/policyPermissions';
import {
  CLUSTER,
  ORDERS,
  ORDERS_REF,
  type BadInputWorld,
} from './badInputWorld';

/** What a surface did with one input. */
export interface Outcome {
  rejected: boolean;
  /** the message the caller was given (empty when accepted) */
  message: string;
}

/**
 * One way a value reaches the product: the template's form, a scaffolder
 * action (its input schema, validated as the scaffolder's workflow runner
 * does, then its handler) or a REST endpoint of the keda backend.
 */
export interface Surface {
  id: string;
  /** where the surface takes a corpus field (a dotted path in its input), or undefined */
  pathOf(field: string): string | undefined;
  /** sends the valid base input with `field` set to `value` */
  send(field: string, value: unknown): Promise<Outcome>;
  /** sends the valid base input (for a workload of its own) */
  control(workload: string): Promise<Outcome>;
}

export const EXTERNAL_ID = '5d41402abc4b2a76b9719d911017c592';
export const QUEUE_URL =
  'https://sqs.eu-west-1.amazonaws.com/222222222222/orders';

const ajv = new Ajv({ allErrors: true, strict: false });

function dotted(error: ErrorObject): string {
  const segments = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'required') {
    segments.push(String(error.params.missingProperty));
  }
  if (error.keyword === 'additionalProperties') {
    segments.push(String(error.params.additionalProperty));
  }
  return segments.join('.') || '(input)';
}

const ajvMessages = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map(e => `${dotted(e)}: ${e.message}`);

/** `obj` with the dotted `at` set to `value` (arrays by index), copied. */
export function setPath(obj: unknown, at: string, value: unknown): any {
  const copy = structuredClone(obj) as any;
  const keys = at.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key];
  }
  node[keys[keys.length - 1]] = value;
  return copy;
}

/** The request fields of keda-common's schema, as the corpus names them. */
const REQUEST_FIELDS = [
  'entityRef',
  'cluster',
  'namespace',
  'workload',
  'workload.kind',
  'workload.name',
  'kubernetesId',
  'queueUrl',
  'minReplicas',
  'maxReplicas',
  'idleReplicas',
  'queueLength',
  'activationQueueLength',
  'pollingInterval',
  'cooldownPeriod',
  'scaleOnInFlight',
  'scaleOnDelayed',
  'providerMode',
  'serviceAccountName',
  'fallback',
  'fallback.failureThreshold',
  'fallback.replicas',
  'awsEndpoint',
  'requestId',
].map(f => `request.${f}`);

function baseRequest(workload = 'orders-worker') {
  return {
    entityRef: ORDERS_REF,
    cluster: CLUSTER,
    namespace: 'shop',
    workload: { kind: 'Deployment', name: workload },
    kubernetesId: 'orders-worker',
    queueUrl: QUEUE_URL,
    minReplicas: 0,
    maxReplicas: 5,
    queueLength: 5,
  };
}

// ---------------------------------------------------------------- the form

const TEMPLATE = path.resolve(
  __dirname,
  '../../../../../templates/keda-sqs-autoscaling/template.yaml',
);

/** Template parameter → corpus field (the form's names for request fields). */
const FORM_FIELDS: Record<string, string> = {
  'request.entityRef': 'component',
  'request.cluster': 'cluster',
  'request.queueUrl': 'queueUrl',
  'request.namespace': 'namespace',
  'request.workload.name': 'workloadName',
  'request.workload.kind': 'workloadKind',
  'request.minReplicas': 'minReplicas',
  'request.maxReplicas': 'maxReplicas',
  'request.queueLength': 'queueLength',
  'request.activationQueueLength': 'activationQueueLength',
  'request.pollingInterval': 'pollingInterval',
  'request.cooldownPeriod': 'cooldownPeriod',
  'request.scaleOnInFlight': 'scaleOnInFlight',
  'request.scaleOnDelayed': 'scaleOnDelayed',
  'request.providerMode': 'providerMode',
  'request.serviceAccountName': 'serviceAccountName',
};

/**
 * The form of templates/keda-sqs-autoscaling as the scaffolder validates it:
 * its parameters' JSON schema (ajv, as the form's RJSF validator), then the
 * field extensions' validators — KedaQueuePicker (keda-common's queue URL
 * parser), KedaClusterPicker (a configured cluster) and KedaPlanPreview on
 * Review (keda-common's request schema over the request the plan step would
 * get, then the keda backend's plan preview, POST /plan, for guardrails).
 */
function formSurface(world: BadInputWorld): Surface {
  const template = yaml.parse(fs.readFileSync(TEMPLATE, 'utf8'));
  const pages = template.spec.parameters as Array<{
    properties: Record<string, object>;
    required?: string[];
  }>;
  const validate: ValidateFunction = ajv.compile({
    type: 'object',
    properties: Object.assign({}, ...pages.map(p => p.properties)),
    required: pages.flatMap(p => p.required ?? []),
  });
  const clusters = readKedaConfig(world.config).clusters.map(c => c.name);
  const base = (workload = 'orders-worker') => ({
    component: ORDERS_REF,
    cluster: CLUSTER,
    queueUrl: QUEUE_URL,
    namespace: 'shop',
    workloadName: workload,
    workloadKind: 'Deployment',
    minReplicas: 0,
    maxReplicas: 5,
    queueLength: 5,
    activationQueueLength: 0,
    pollingInterval: 30,
    cooldownPeriod: 300,
    scaleOnInFlight: true,
    scaleOnDelayed: false,
    providerMode: 'aws',
    planPreview: {},
  });

  // plugins/keda's kedaRequestFromForm: what the plan step's input builds.
  const requestFromForm = (values: Record<string, unknown>) => {
    const blank = (v: unknown) => v === undefined || v === null || v === '';
    const pick = (name: string) =>
      blank(values[name]) ? undefined : values[name];
    const annotations = ORDERS.metadata.annotations!;
    const request: Record<string, unknown> = {};
    for (const key of Object.keys(kedaRequestSchema.shape)) {
      if (
        [
          'entityRef',
          'namespace',
          'workload',
          'kubernetesId',
          'requestId',
        ].includes(key)
      )
        continue;
      if (!blank(values[key])) request[key] = values[key];
    }
    request.entityRef = pick('component');
    request.namespace =
      pick('namespace') ??
      annotations[KUBERNETES_NAMESPACE_ANNOTATION] ??
      'default';
    request.workload = {
      ...(pick('workloadKind') ? { kind: pick('workloadKind') } : {}),
      name: pick('workloadName') ?? annotations[KUBERNETES_ID_ANNOTATION],
    };
    request.kubernetesId = annotations[KUBERNETES_ID_ANNOTATION];
    return request;
  };

  const submit = async (values: Record<string, unknown>): Promise<Outcome> => {
    const errors: string[] = [];
    if (!validate(values)) errors.push(...ajvMessages(validate.errors));
    // KedaQueuePicker
    if (typeof values.queueUrl === 'string' && values.queueUrl.trim()) {
      try {
        parseQueueUrl(values.queueUrl);
      } catch (e) {
        errors.push(`queueUrl: ${(e as Error).message}`);
      }
    }
    // KedaClusterPicker
    if (values.cluster && !clusters.includes(values.cluster as string)) {
      errors.push(
        `cluster: "${
          values.cluster
        }" is not a configured cluster; choose one of ${clusters.join(', ')}`,
      );
    }
    // KedaPlanPreview (on Review)
    const request = requestFromForm(values);
    const parsed = kedaRequestSchema.safeParse(request);
    if (!parsed.success) {
      errors.push(
        ...parsed.error.issues.map(
          i => `${i.path.join('.') || '(request)'}: ${i.message}`,
        ),
      );
    } else {
      const res = await fetch(`${world.backendUrl}/plan`, {
        method: 'POST',
        headers: {
          authorization: mockCredentials.user.header(JANE),
          'content-type': 'application/json',
        },
        body: JSON.stringify({ request }),
      });
      const body = await res.json();
      if (!res.ok) {
        errors.push(body?.error?.message ?? `HTTP ${res.status}`);
      } else {
        for (const v of body.violations ?? []) {
          errors.push(`${v.field ? `${v.field}: ` : ''}${v.message}`);
        }
      }
    }
    return { rejected: errors.length > 0, message: errors.join('; ') };
  };

  return {
    id: 'form',
    pathOf: field => FORM_FIELDS[field],
    send: (field, value) => submit(setPath(base(), FORM_FIELDS[field], value)),
    control: workload => submit(base(workload)),
  };
}

// ------------------------------------------------------------- the actions

interface ActionLike {
  id: string;
  schema?: { input?: unknown };
  handler(ctx: any): Promise<void>;
}

let taskCounter = 0;

/**
 * An action as the scaffolder runs a step: the input is checked against the
 * action's JSON schema first (the workflow runner's check, here with ajv),
 * then the handler runs with a context for the initiator.
 */
function actionSurface(
  world: BadInputWorld,
  id: string,
  fields: Record<string, string>,
  base: (workload: string) => Record<string, unknown>,
  /** the running task's id; default a fresh one per run */
  taskId?: () => string,
): Surface {
  const action = world.actions.get(id) as ActionLike | undefined;
  if (!action) throw new Error(`no action ${id}`);
  const validate = ajv.compile(action.schema?.input as object);
  const run = async (input: Record<string, unknown>): Promise<Outcome> => {
    if (!validate(input)) {
      return {
        rejected: true,
        message: `Invalid input passed to action ${id}, ${ajvMessages(
          validate.errors,
        ).join(', ')}`,
      };
    }
    taskCounter++;
    const workspacePath = path.join(world.workspaceRoot, `task-${taskCounter}`);
    fs.mkdirSync(workspacePath);
    try {
      await action.handler({
        input,
        logger: mockServices.logger.mock(),
        workspacePath,
        isDryRun: false,
        signal: new AbortController().signal,
        secrets: {},
        output: () => {},
        checkpoint: async ({ fn }: { fn: () => Promise<unknown> }) => fn(),
        getInitiatorCredentials: async () => world.initiator(),
        createTemporaryDirectory: async () =>
          fs.mkdtempSync(path.join(workspacePath, 'tmp-')),
        user: { ref: world.initiatorRef },
        task: { id: taskId?.() ?? `bad-input-task-${taskCounter}` },
      });
      return { rejected: false, message: '' };
    } catch (e) {
      return { rejected: true, message: String((e as Error)?.message ?? e) };
    } finally {
      // an empty workspace is not a side effect; a file in it is
      if (fs.readdirSync(workspacePath).length === 0)
        fs.rmdirSync(workspacePath);
    }
  };
  return {
    id,
    pathOf: field => fields[field],
    send: (field, value) =>
      run(setPath(base('orders-worker'), fields[field], value)),
    control: workload => run(base(workload)),
  };
}

const same = (names: string[]) => Object.fromEntries(names.map(n => [n, n]));

function requestActionFields(extra: string[]) {
  return { ...same(REQUEST_FIELDS), ...same(extra) };
}

// --------------------------------------------------------------- the API

function apiSurface(
  world: BadInputWorld,
  id: string,
  endpoint: string,
  fields: Record<string, string>,
  base: (workload: string) => Record<string, unknown>,
): Surface {
  const post = async (body: unknown): Promise<Outcome> => {
    const res = await fetch(`${world.backendUrl}${endpoint}`, {
      method: 'POST',
      headers: {
        authorization: mockCredentials.user.header(JANE),
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    if (!res.ok) {
      return {
        rejected: true,
        message: `HTTP ${res.status}: ${parsed?.error?.message ?? text}`,
      };
    }
    // POST /plan (the form's preview) lists guardrail violations instead of
    // refusing: a plan with violations is its refusal.
    const violations = (parsed?.violations ?? []) as Array<{
      field?: string;
      message: string;
    }>;
    return violations.length > 0
      ? {
          rejected: true,
          message: violations
            .map(v => `${v.field ? `${v.field}: ` : ''}${v.message}`)
            .join('; '),
        }
      : { rejected: false, message: '' };
  };
  return {
    id,
    pathOf: field => fields[field],
    send: (field, value) =>
      post(setPath(base('orders-worker'), fields[field], value)),
    control: workload => post(base(workload)),
  };
}

/** A request the progress action may report on. */
export interface ProgressTarget {
  id: string;
  scalerRoleArn: string;
  /** the task that recorded it: the one whose reports the backend takes */
  taskId: string;
}

/**
 * Records an auto-approved request (state provisioning) for `workload`
 * through the API, as its requester's run would.
 */
export async function recordRequest(
  world: BadInputWorld,
  workload: string,
): Promise<ProgressTarget> {
  const res = await fetch(`${world.backendUrl}/requests`, {
    method: 'POST',
    headers: {
      authorization: mockCredentials.user.header(JANE),
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      request: baseRequest(workload),
      externalId: EXTERNAL_ID,
      taskId: `record-${workload}`,
    }),
  });
  const body = await res.json();
  if (res.status !== 201 || body.state !== 'provisioning') {
    throw new Error(`could not record ${workload}: ${JSON.stringify(body)}`);
  }
  return {
    id: body.id,
    scalerRoleArn: body.plan.scalerRole.arn,
    taskId: `record-${workload}`,
  };
}

/**
 * Every surface, by id. `progressTarget` is the request the progress action
 * reports on: the controls' own, the cases' another.
 */
export function surfacesOf(
  world: BadInputWorld,
  progressTarget: () => ProgressTarget,
): Map<string, Surface> {
  const pullRequest = {
    url: 'https://github.com/acme/gitops/pull/7',
    number: 7,
    repoUrl: 'github.com?owner=acme&repo=gitops',
  };
  const surfaces: Surface[] = [
    formSurface(world),
    actionSurface(
      world,
      'keda:plan',
      requestActionFields(['externalId']),
      workload => ({ request: baseRequest(workload) }),
    ),
    actionSurface(
      world,
      'keda:aws:scaler-role:ensure',
      requestActionFields(['externalId', 'requester']),
      workload => ({
        request: baseRequest(workload),
        externalId: EXTERNAL_ID,
        autoApproved: true,
      }),
    ),
    actionSurface(
      world,
      'keda:request:record',
      requestActionFields([
        'externalId',
        'idempotencyKey',
        'pullRequest.url',
        'pullRequest.number',
        'pullRequest.repoUrl',
      ]),
      workload => ({
        request: baseRequest(workload),
        externalId: EXTERNAL_ID,
        pullRequest,
      }),
    ),
    actionSurface(
      world,
      'keda:aws:scaler-role:delete',
      {
        'request.cluster': 'cluster',
        'request.namespace': 'namespace',
        'request.workload.name': 'workloadName',
        'request.workload.kind': 'workloadKind',
        'request.queueUrl': 'queueUrl',
      },
      workload => ({
        cluster: CLUSTER,
        namespace: 'shop',
        workloadKind: 'Deployment',
        workloadName: workload,
        queueUrl: QUEUE_URL,
      }),
    ),
    actionSurface(
      world,
      'keda:aws:operator-role:ensure',
      { 'request.cluster': 'cluster', valuesPath: 'valuesPath' },
      () => ({ cluster: CLUSTER, valuesPath: 'helm/keda-values.yaml' }),
    ),
    actionSurface(
      world,
      'keda:request:progress',
      {
        'progress.id': 'id',
        'progress.state': 'state',
        'progress.error': 'error',
        'progress.roleArns.scaler': 'roleArns.scaler',
        'progress.verification': 'verification',
        'progress.verification.checks': 'verification.checks',
      },
      () => ({
        id: progressTarget().id,
        state: 'provisioned',
        roleArns: { scaler: progressTarget().scalerRoleArn },
        verification: { ok: true, checks: [] },
      }),
      () => progressTarget().taskId,
    ),
    actionSurface(
      world,
      'keda:github:pull-request:ready',
      {
        'github.repoUrl': 'repoUrl',
        'github.pullRequestNumber': 'pullRequestNumber',
      },
      () => ({
        repoUrl: 'github.com?owner=acme&repo=gitops',
        pullRequestNumber: 7,
        comment: 'Approved by the platform team',
      }),
    ),
    actionSurface(
      world,
      'keda:manifests:write',
      {
        'manifests.path': 'manifests.0.path',
        'manifests.content': 'manifests.0.content',
        'manifests.targetPath': 'targetPath',
      },
      workload => ({
        manifests: [
          {
            path: `clusters/prod-eu/shop/${workload}/scaledobject.yaml`,
            content: 'apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\n',
          },
        ],
        targetPath: 'gitops',
      }),
    ),
    apiSurface(
      world,
      'POST /requests',
      '/requests',
      {
        ...same(REQUEST_FIELDS),
        ...same([
          'externalId',
          'taskId',
          'idempotencyKey',
          'pullRequest.url',
          'pullRequest.number',
          'pullRequest.repoUrl',
        ]),
      },
      workload => ({
        request: baseRequest(workload),
        externalId: EXTERNAL_ID,
        pullRequest,
      }),
    ),
    apiSurface(
      world,
      'POST /requests/preflight',
      '/requests/preflight',
      { ...same(REQUEST_FIELDS), ...same(['externalId', 'taskId']) },
      workload => ({ request: baseRequest(workload), externalId: EXTERNAL_ID }),
    ),
    apiSurface(
      world,
      'POST /plan',
      '/plan',
      same(REQUEST_FIELDS),
      workload => ({ request: baseRequest(workload) }),
    ),
  ];
  return new Map(surfaces.map(s => [s.id, s]));
}
