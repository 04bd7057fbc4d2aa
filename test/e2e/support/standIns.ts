import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import {
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import {
  iamRoleArn,
  parseQueueUrl,
  policyJson,
  scalerRoleName,
  scalerRolePermissionPolicy,
  scalerRoleTrustPolicy,
  type KedaClusterSpec,
  type PolicyDocument,
  type SqsQueue,
} from '@keda-self-service/plugin-keda-common';
import { rootCredentialsFor } from '../../../packages/sandbox/src/aws/state';

// Direct access to the local stand-ins (packages/sandbox) for browser
// scenes that set up their own state: the AWS stand-in through the AWS SDK
// with an account's root keys, the Kubernetes stand-in through its REST API
// with the kubeconfig the sandbox writes. Every fact (accounts, cluster,
// operator role, role path and prefix) is read from app-config.yaml, the
// file the portal and the sandbox read too.

export const root = resolve(__dirname, '../../..');
const awsEndpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';

const appConfig = parse(readFileSync(resolve(root, 'app-config.yaml'), 'utf8'));
const clusterConfig = appConfig.keda.clusters[0];

/** The KEDA cluster of app-config.yaml as the policy builders take it. */
export const cluster: KedaClusterSpec = {
  name: clusterConfig.name,
  accountId: String(clusterConfig.accountId),
  region: clusterConfig.region,
  kedaVersion: clusterConfig.kedaVersion,
  identity: clusterConfig.identity,
  operator: {
    namespace: clusterConfig.operator.namespace,
    serviceAccount: clusterConfig.operator.serviceAccount,
    roleName: clusterConfig.operator.roleName,
    rolePath: clusterConfig.operator.rolePath,
  },
};
const roles: { path: string; namePrefix: string } = appConfig.keda.roles;
/** The account whose queues KEDA may read (where scaler roles live). */
export const queueAccountId = String(
  appConfig.keda.guardrails.allowedQueueAccounts[0],
);
const queueRegion = cluster.region;

const iam = new IAMClient({
  endpoint: awsEndpoint,
  region: 'us-east-1',
  credentials: rootCredentialsFor(queueAccountId),
});
const sqs = new SQSClient({
  endpoint: awsEndpoint,
  region: queueRegion,
  credentials: rootCredentialsFor(queueAccountId),
});

/** A queue of the queue account, created if missing (CreateQueue is idempotent). */
export async function ensureQueue(name: string): Promise<SqsQueue> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name }),
  );
  return parseQueueUrl(QueueUrl!);
}

/** The URL SQS calls take (the SDK sends it to the configured endpoint). */
function queueUrlOf(queue: SqsQueue): string {
  return queue.url;
}

export async function purgeQueue(queue: SqsQueue) {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrlOf(queue) }));
}

export async function sendMessages(queue: SqsQueue, count: number) {
  for (let sent = 0; sent < count; sent += 10) {
    const batch = Math.min(10, count - sent);
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrlOf(queue),
        Entries: Array.from({ length: batch }, (_, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify({ scene: true, n: sent + i }),
        })),
      }),
    );
  }
}

/**
 * Consumes the queue the way a worker does: receive, then delete what was
 * received in one DeleteMessageBatch, until a receive comes back empty.
 * Returns how many were deleted.
 */
export async function drainQueue(queue: SqsQueue): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrlOf(queue),
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) return deleted;
    const { Failed = [] } = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrlOf(queue),
        Entries: Messages.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle!,
        })),
      }),
    );
    if (Failed.length) {
      throw new Error(
        `DeleteMessageBatch on ${queue.url} failed for ${
          Failed.length
        } message(s): ${Failed.map(f => `${f.Code}: ${f.Message}`).join('; ')}`,
      );
    }
    deleted += Messages.length;
  }
}

/** Visible + in-flight + delayed messages (what KEDA may count). */
export async function queueDepth(queue: SqsQueue): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrlOf(queue),
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(Attributes).reduce((sum, v) => sum + Number(v), 0);
}

/** A scaler role as the portal provisions it: name, ARN and correct trust. */
export interface ScalerRole {
  name: string;
  arn: string;
  trust: PolicyDocument;
}

export function scalerRoleFor(
  namespace: string,
  workloadName: string,
): ScalerRole {
  const name = scalerRoleName({
    namePrefix: roles.namePrefix,
    cluster: cluster.name,
    namespace,
    workloadKind: 'Deployment',
    workloadName,
  });
  return {
    name,
    arn: iamRoleArn('aws', queueAccountId, roles.path, name),
    trust: scalerRoleTrustPolicy({
      cluster,
      queueAccountId,
      providerMode: 'aws',
    }),
  };
}

/**
 * Creates the scaler role (or resets its trust policy) with the trust and
 * permission policy the portal's provisioning writes: the KEDA operator role
 * may assume it, and it may read the depth of exactly this queue.
 */
export async function ensureScalerRole(role: ScalerRole, queue: SqsQueue) {
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: role.name,
        Path: roles.path,
        AssumeRolePolicyDocument: policyJson(role.trust),
      }),
    );
  } catch (e) {
    if (
      (e as Error).name !== 'EntityAlreadyExistsException' &&
      (e as Error).name !== 'EntityAlreadyExists'
    ) {
      throw e;
    }
    await setTrustPolicy(role, role.trust);
  }
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: role.name,
      PolicyName: 'read-queue-depth',
      PolicyDocument: policyJson(scalerRolePermissionPolicy(queue)),
    }),
  );
}

/** UpdateAssumeRolePolicy: what someone editing the role in the console does. */
export async function setTrustPolicy(role: ScalerRole, trust: PolicyDocument) {
  await iam.send(
    new UpdateAssumeRolePolicyCommand({
      RoleName: role.name,
      PolicyDocument: policyJson(trust),
    }),
  );
}

// ---------------------------------------------------------------- Kubernetes

interface KubeconfigFile {
  clusters: Array<{
    cluster: { server: string; 'certificate-authority-data'?: string };
  }>;
  users: Array<{ user: { token: string } }>;
}

function kubeconfig() {
  // Written by the sandbox on start (scripts/start.sh → data/sandbox).
  const file: KubeconfigFile = parse(
    readFileSync(resolve(root, 'data/sandbox/kubeconfig'), 'utf8'),
  );
  const ca = file.clusters[0].cluster['certificate-authority-data'];
  return {
    server: new URL(file.clusters[0].cluster.server),
    ca: ca ? Buffer.from(ca, 'base64').toString('utf8') : undefined,
    token: file.users[0].user.token,
  };
}

/** One call to the Kubernetes stand-in's API; returns status and JSON body. */
export function kube(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const { server, ca, token } = kubeconfig();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((ok, fail) => {
    const req = httpsRequest(
      {
        host: server.hostname,
        port: server.port,
        path,
        method,
        ca,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload
            ? {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(payload),
              }
            : {}),
        },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          ok({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', fail);
    if (payload) req.write(payload);
    req.end();
  });
}

/** REST collection path of a namespaced kind the scenes create. */
export function collectionPath(
  kind: 'Deployment' | 'TriggerAuthentication' | 'ScaledObject',
  namespace: string,
): string {
  switch (kind) {
    case 'Deployment':
      return `/apis/apps/v1/namespaces/${namespace}/deployments`;
    case 'TriggerAuthentication':
      return `/apis/keda.sh/v1alpha1/namespaces/${namespace}/triggerauthentications`;
    default:
      return `/apis/keda.sh/v1alpha1/namespaces/${namespace}/scaledobjects`;
  }
}

/** Deletes an object if it exists (404 is fine: re-runs converge). */
export async function deleteObject(
  kind: Parameters<typeof collectionPath>[0],
  namespace: string,
  name: string,
) {
  const res = await kube(
    'DELETE',
    `${collectionPath(kind, namespace)}/${name}`,
  );
  if (res.status !== 200 && res.status !== 202 && res.status !== 404) {
    throw new Error(
      `DELETE ${kind} ${namespace}/${name}: ${res.status} ${JSON.stringify(
        res.body,
      )}`,
    );
  }
}

/**
 * Deletes the events about one object (`kubectl delete events
 * --field-selector involvedObject.name=<name>`): events outlive the object
 * they are about (1 h), and a re-run recreates objects with the same names.
 */
export async function deleteEventsAbout(namespace: string, name: string) {
  const selector = encodeURIComponent(`involvedObject.name=${name}`);
  const res = await kube(
    'DELETE',
    `/api/v1/namespaces/${namespace}/events?fieldSelector=${selector}`,
  );
  if (res.status !== 200) {
    throw new Error(
      `DELETE events about ${namespace}/${name}: ${res.status} ${JSON.stringify(
        res.body,
      )}`,
    );
  }
}

/** Creates an object; fails with the API server's message otherwise. */
export async function createObject(object: {
  kind: string;
  metadata: { namespace: string; name: string };
}) {
  const res = await kube(
    'POST',
    collectionPath(object.kind as any, object.metadata.namespace),
    object,
  );
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(
      `POST ${object.kind} ${object.metadata.namespace}/${
        object.metadata.name
      }: ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  return res.body;
}

export async function getObject(
  kind: Parameters<typeof collectionPath>[0],
  namespace: string,
  name: string,
) {
  const res = await kube('GET', `${collectionPath(kind, namespace)}/${name}`);
  return res.status === 200 ? res.body : undefined;
}
