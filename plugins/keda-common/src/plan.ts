import {
  DEFAULT_GITOPS_PATH,
  type KedaClusterSpec,
  type KedaGuardrails,
  type KedaRolesConfig,
} from './config';
import {
  ENTITY_REF_ANNOTATION,
  KUBERNETES_ID_LABEL,
  MANAGED_BY_VALUE,
  QUEUE_ARN_ANNOTATION,
  REQUEST_ID_ANNOTATION,
  REQUESTED_BY_ANNOTATION,
  ROLE_TAG_KEYS,
  SCALER_ROLE_ARN_ANNOTATION,
} from './constants';
import { evaluateGuardrails, type GuardrailEvaluation } from './guardrails';
import {
  clusterPartition,
  operatorRoleArn,
  operatorRolePermissionPolicy,
  operatorRoleTrustPolicy,
  queueAccessPolicy,
  scalerRolePermissionPolicy,
  scalerRoleTrustPolicy,
  TRUST_POLICY_MAX_CHARS,
} from './iam/documents';
import { policySize, type PolicyDocument } from './iam/policyDocument';
import {
  assertExternalId,
  assertIamPath,
  assertIamRoleName,
  generateExternalId,
  iamRoleArn,
  scalerRoleName,
} from './iam/roleNames';
import { compareKedaVersion, kedaSupportsExternalId } from './kedaVersion';
import {
  buildKustomization,
  buildScaledObject,
  buildServiceAccount,
  buildTriggerAuthentication,
  toYaml,
} from './manifests/render';
import { kubernetesName } from './names';
import { parseQueueUrl, type SqsQueue } from './queueUrl';
import {
  parseKedaRequest,
  WORKLOAD_API_VERSIONS,
  type KedaRequest,
  type KedaRequestInput,
} from './request';
import { renderPlanSummary } from './summary';

/** Inline policy names on the roles we manage. @public */
export const OPERATOR_PERMISSION_POLICY_NAME = 'keda-assume-scaler-roles';
/** @public */
export const SCALER_PERMISSION_POLICY_NAME = 'keda-read-queue-depth';

/**
 * Role chaining caps a session at one hour, so a longer maximum would only
 * mislead (IAM trap 4 in the domain notes).
 * @public
 */
export const SCALER_ROLE_MAX_SESSION_SECONDS = 3600;

/** A file the pull request adds to the GitOps repository. @public */
export interface PlannedFile {
  path: string;
  content: string;
}

/** The cluster-side KEDA operator role (account A) as it must be. @public */
export interface OperatorRolePlan {
  name: string;
  path: string;
  arn: string;
  accountId: string;
  trustPolicy: PolicyDocument;
  permissionPolicy: PolicyDocument;
  permissionPolicyName: string;
}

/** The scaler role in the queue account (account B) as it must be. @public */
export interface ScalerRolePlan {
  name: string;
  path: string;
  arn: string;
  accountId: string;
  trustPolicy: PolicyDocument;
  permissionPolicy: PolicyDocument;
  permissionPolicyName: string;
  tags: Record<string, string>;
  /** required by the trust policy; absent for KEDA before 2.20 and mode aws-eks */
  externalId?: string;
  permissionsBoundaryArn?: string;
  maxSessionDuration: number;
  description: string;
}

/**
 * The queue policy alternative: no scaler role, the operator role reads the
 * queue directly. Not applied by default; shown so the platform team can
 * choose it where roles in queue accounts are not wanted.
 * @public
 */
export interface QueuePolicyAlternative {
  queueArn: string;
  queueUrl: string;
  policy: PolicyDocument;
  operatorPermissionPolicy: PolicyDocument;
}

/**
 * Everything later steps need, computed once: the PR, the approval page and
 * the provisioning all read this. Plain JSON (stored and sent over HTTP).
 * @public
 */
export interface KedaPlan {
  request: KedaRequest;
  requester?: string;
  cluster: KedaClusterSpec;
  queue: SqsQueue;
  kedaFeatures: { externalId: boolean };
  names: {
    scaledObject: string;
    triggerAuthentication: string;
    serviceAccount?: string;
  };
  operatorRole: OperatorRolePlan;
  scalerRole: ScalerRolePlan;
  queuePolicy: QueuePolicyAlternative;
  /** folder in the GitOps repository, e.g. `clusters/prod-eu/shop/orders-worker` */
  manifestDirectory: string;
  gitops?: { repoUrl: string; path: string };
  manifests: PlannedFile[];
  guardrails: GuardrailEvaluation;
  summaryMarkdown: string;
}

/** @public */
export interface KedaPlanInput {
  request: KedaRequest | KedaRequestInput;
  cluster: KedaClusterSpec;
  roles: KedaRolesConfig;
  guardrails: KedaGuardrails;
  /** reuse the stored ExternalId on re-plans; a fresh one is generated otherwise */
  externalId?: string;
  /** user entity ref of the requester, recorded on the objects */
  requester?: string;
}

// IAM tag limits: 50 tags, keys ≤ 128, values ≤ 256 characters, letters,
// digits, spaces and _ . : / = + - @ only.
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
function checkTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags);
  if (entries.length > 50) {
    throw new Error(
      `A scaler role would get ${entries.length} tags; IAM allows 50. Remove some from keda.roles.tags`,
    );
  }
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > 128 || value.length > 256) {
      throw new Error(
        `Tag "${key.slice(
          0,
          40,
        )}" exceeds IAM's limits (key 1–128, value ≤ 256 characters); shorten it in keda.roles.tags`,
      );
    }
    if (!TAG_CHARS.test(key) || !TAG_CHARS.test(value)) {
      throw new Error(
        `Tag "${key.slice(
          0,
          40,
        )}" has characters IAM refuses in tags; use letters, digits, spaces and _ . : / = + - @ in keda.roles.tags`,
      );
    }
  }
}

function gitopsDirectory(
  cluster: KedaClusterSpec,
  namespace: string,
  name: string,
): string {
  const template = cluster.gitops?.path ?? DEFAULT_GITOPS_PATH;
  return template
    .replace(/\{cluster\}/g, cluster.name)
    .replace(/\{namespace\}/g, namespace)
    .replace(/\{name\}/g, name)
    .replace(/^\/+|\/+$/g, '');
}

/**
 * A cluster's KEDA operator role (account A) as it must be: its name, path
 * and ARN, the trust policy (IRSA web identity or EKS Pod Identity) and the
 * permission policy that lets it assume scaler roles under `keda.roles.path`
 * with `keda.roles.namePrefix` in the allowed queue accounts only. The one
 * place this is planned: `plan` uses it for a request and the cluster
 * onboarding step for the role itself.
 *
 * @throws Error for invalid configuration (naming the config field), and
 *   when clusters sharing the role make its trust policy exceed IAM's size.
 * @public
 */
export function planOperatorRole(input: {
  cluster: KedaClusterSpec;
  roles: Pick<KedaRolesConfig, 'path' | 'namePrefix'>;
  guardrails: Pick<KedaGuardrails, 'allowedQueueAccounts'>;
}): OperatorRolePlan {
  const { cluster, roles, guardrails } = input;
  assertIamRoleName(
    cluster.operator.roleName,
    `keda.clusters[${cluster.name}].operator.roleName`,
  );
  if (cluster.operator.rolePath) {
    assertIamPath(
      cluster.operator.rolePath,
      `keda.clusters[${cluster.name}].operator.rolePath`,
    );
  }
  const trustPolicy = operatorRoleTrustPolicyOrEmpty(cluster);
  if (policySize(trustPolicy) > TRUST_POLICY_MAX_CHARS) {
    throw new Error(
      `The operator role trust policy of cluster "${
        cluster.name
      }" would be ${policySize(
        trustPolicy,
      )} characters, above IAM's ${TRUST_POLICY_MAX_CHARS}: ${
        trustPolicy.Statement.length
      } clusters share it (keda.clusters[].operator.sharedRole); let fewer clusters share one operator role`,
    );
  }
  return {
    name: cluster.operator.roleName,
    path: cluster.operator.rolePath ?? '/',
    arn: operatorRoleArn(cluster),
    accountId: cluster.accountId,
    trustPolicy,
    permissionPolicy: operatorRolePermissionPolicy({
      cluster,
      queueAccountIds: guardrails.allowedQueueAccounts,
      scalerRolePath: roles.path,
      scalerRoleNamePrefix: roles.namePrefix,
    }),
    permissionPolicyName: OPERATOR_PERMISSION_POLICY_NAME,
  };
}

// A cluster missing its OIDC issuer is reported as a guardrail violation;
// the plan still renders (with an empty trust policy) so the form and the
// approval page can show the whole picture.
function operatorRoleTrustPolicyOrEmpty(
  cluster: KedaClusterSpec,
): PolicyDocument {
  if (cluster.identity === 'irsa' && !cluster.oidcIssuer) {
    return { Version: '2012-10-17', Statement: [] };
  }
  return operatorRoleTrustPolicy(cluster);
}

/**
 * Turns a request, the cluster it targets and the platform configuration into
 * the complete plan. Pure except for generating an ExternalId when none is
 * passed; deterministic when one is.
 *
 * @throws KedaRequestError for an invalid request, Error for invalid
 *   configuration (naming the config field).
 * @public
 */
export function plan(input: KedaPlanInput): KedaPlan {
  const request = parseKedaRequest(input.request);
  const { cluster, roles, guardrails, requester } = input;
  assertIamPath(roles.path, 'keda.roles.path');
  assertIamRoleName(
    `${roles.namePrefix}x`,
    'keda.roles.namePrefix (plus a suffix)',
  );
  try {
    compareKedaVersion(cluster.kedaVersion, '2.0.0');
  } catch (e) {
    throw new Error(
      `keda.clusters[${cluster.name}].kedaVersion: ${(e as Error).message}`,
    );
  }

  const queue = parseQueueUrl(request.queueUrl);
  const evaluation = evaluateGuardrails(request, cluster, queue, guardrails);
  const partition = clusterPartition(cluster);
  const externalIdSupported =
    request.providerMode === 'aws' &&
    kedaSupportsExternalId(cluster.kedaVersion);
  let externalId: string | undefined;
  if (externalIdSupported) {
    externalId = input.externalId ?? generateExternalId();
    assertExternalId(externalId);
  }

  // Kubernetes names. KEDA derives `keda-hpa-<name>` and both must be valid
  // label values (≤ 63), so the ScaledObject name stays within 54.
  const scaledObjectName = kubernetesName(
    request.workload.name,
    63 - 'keda-hpa-'.length,
  );
  const triggerAuthenticationName = kubernetesName(
    `${scaledObjectName}-sqs-auth`,
  );
  const serviceAccountName =
    request.providerMode === 'aws-eks' ? request.serviceAccountName : undefined;

  // IAM
  const operatorRole = planOperatorRole({ cluster, roles, guardrails });

  const roleName = scalerRoleName({
    namePrefix: roles.namePrefix,
    cluster: cluster.name,
    namespace: request.namespace,
    workloadKind: request.workload.kind,
    workloadName: request.workload.name,
  });
  const scalerArn = iamRoleArn(
    partition,
    queue.accountId,
    roles.path,
    roleName,
  );
  // Statements that need the cluster's OIDC issuer are left out without one;
  // the guardrails (or the warning below) already say why.
  const trustOperatorWebIdentity =
    Boolean(roles.trustOperatorWebIdentity) && Boolean(cluster.oidcIssuer);
  const trustPolicy = scalerRoleTrustPolicy({
    cluster,
    queueAccountId: queue.accountId,
    providerMode: request.providerMode,
    externalId,
    trustOperatorWebIdentity,
    workloadServiceAccount:
      serviceAccountName && cluster.oidcIssuer
        ? { namespace: request.namespace, name: serviceAccountName }
        : undefined,
  });
  if (request.providerMode === 'aws' && roles.trustOperatorWebIdentity) {
    evaluation.warnings.push(
      trustOperatorWebIdentity
        ? {
            code: 'web-identity-bypasses-external-id',
            message: `keda.roles.trustOperatorWebIdentity lets KEDA reach the scaler role with AssumeRoleWithWebIdentity, which checks no ExternalId, and needs the cluster's OIDC provider registered in account ${queue.accountId}`,
          }
        : {
            code: 'web-identity-without-issuer',
            message: `keda.roles.trustOperatorWebIdentity is set but cluster "${cluster.name}" has no oidcIssuer; the web identity statement is left out`,
          },
    );
  }
  if (policySize(trustPolicy) > TRUST_POLICY_MAX_CHARS) {
    throw new Error(
      `The scaler role trust policy would be ${policySize(
        trustPolicy,
      )} characters, above IAM's ${TRUST_POLICY_MAX_CHARS}; shorten keda.roles.path or the operator role name`,
    );
  }
  // Compared on every reconcile. The identity tags (cluster, namespace,
  // workload kind and name) also decide whose role an existing one is:
  // reconcile refuses a role whose identity tags name another workload.
  const tags: Record<string, string> = {
    ...roles.tags,
    [ROLE_TAG_KEYS.managedBy]: MANAGED_BY_VALUE,
    [ROLE_TAG_KEYS.entityRef]: request.entityRef,
    [ROLE_TAG_KEYS.cluster]: cluster.name,
    [ROLE_TAG_KEYS.namespace]: request.namespace,
    [ROLE_TAG_KEYS.workloadKind]: request.workload.kind,
    [ROLE_TAG_KEYS.workload]: `${request.workload.kind}/${request.workload.name}`,
    [ROLE_TAG_KEYS.queueArn]: queue.arn,
    ...(request.requestId
      ? { [ROLE_TAG_KEYS.requestId]: request.requestId }
      : {}),
  };
  checkTags(tags);
  const scalerRole: ScalerRolePlan = {
    name: roleName,
    path: roles.path,
    arn: scalerArn,
    accountId: queue.accountId,
    trustPolicy,
    permissionPolicy: scalerRolePermissionPolicy(queue),
    permissionPolicyName: SCALER_PERMISSION_POLICY_NAME,
    tags,
    ...(externalId ? { externalId } : {}),
    ...(roles.permissionsBoundaryArn
      ? { permissionsBoundaryArn: roles.permissionsBoundaryArn }
      : {}),
    maxSessionDuration: SCALER_ROLE_MAX_SESSION_SECONDS,
    // IAM descriptions: ≤ 1000 chars of a restricted set; keep it plain.
    description: `KEDA reads the depth of SQS queue ${queue.queueName} for ${request.namespace}/${request.workload.name} on cluster ${cluster.name}`,
  };

  const queuePolicy: QueuePolicyAlternative = {
    queueArn: queue.arn,
    queueUrl: queue.url,
    policy: queueAccessPolicy(queue, operatorRole.arn),
    operatorPermissionPolicy: operatorRolePermissionPolicy({
      cluster,
      queueAccountIds: guardrails.allowedQueueAccounts,
      scalerRolePath: roles.path,
      scalerRoleNamePrefix: roles.namePrefix,
      directQueueArns: [queue.arn],
    }),
  };

  // Manifests
  const labels = {
    [KUBERNETES_ID_LABEL]: request.kubernetesId,
    'app.kubernetes.io/managed-by': MANAGED_BY_VALUE,
  };
  const commonAnnotations: Record<string, string> = {
    [ENTITY_REF_ANNOTATION]: request.entityRef,
    ...(request.requestId
      ? { [REQUEST_ID_ANNOTATION]: request.requestId }
      : {}),
    ...(requester ? { [REQUESTED_BY_ANNOTATION]: requester } : {}),
  };
  const triggerAuthentication = buildTriggerAuthentication({
    metadata: {
      name: triggerAuthenticationName,
      namespace: request.namespace,
      labels,
      annotations: {
        ...commonAnnotations,
        [SCALER_ROLE_ARN_ANNOTATION]: scalerArn,
      },
    },
    providerMode: request.providerMode,
    ...(request.providerMode === 'aws' ? { roleArn: scalerArn } : {}),
    ...(externalId ? { externalId } : {}),
  });
  const scaledObject = buildScaledObject({
    metadata: {
      name: scaledObjectName,
      namespace: request.namespace,
      labels,
      annotations: {
        ...commonAnnotations,
        [QUEUE_ARN_ANNOTATION]: queue.arn,
        [SCALER_ROLE_ARN_ANNOTATION]: scalerArn,
      },
    },
    scaleTarget: {
      apiVersion: WORKLOAD_API_VERSIONS[request.workload.kind],
      kind: request.workload.kind,
      name: request.workload.name,
    },
    minReplicas: request.minReplicas,
    maxReplicas: request.maxReplicas,
    idleReplicas: request.idleReplicas,
    pollingInterval: request.pollingInterval,
    cooldownPeriod: request.cooldownPeriod,
    fallback: request.fallback,
    triggerAuthenticationName,
    trigger: {
      name: 'sqs-queue',
      queueUrl: queue.url,
      queueLength: request.queueLength,
      activationQueueLength: request.activationQueueLength,
      // Must equal the queue's region, or KEDA reports NonExistentQueue.
      awsRegion: queue.region,
      scaleOnInFlight: request.scaleOnInFlight,
      scaleOnDelayed: request.scaleOnDelayed,
      awsEndpoint: request.awsEndpoint ?? queue.endpoint,
    },
  });

  const manifestDirectory = gitopsDirectory(
    cluster,
    request.namespace,
    scaledObjectName,
  );
  const files: PlannedFile[] = [];
  const resourceFiles: string[] = [];
  const add = (file: string, content: string, isResource = true) => {
    files.push({ path: `${manifestDirectory}/${file}`, content });
    if (isResource) resourceFiles.push(file);
  };
  if (serviceAccountName) {
    add(
      'serviceaccount.yaml',
      toYaml(
        buildServiceAccount({
          metadata: {
            name: serviceAccountName,
            namespace: request.namespace,
            annotations: commonAnnotations,
          },
          roleArn: scalerArn,
        }),
      ),
    );
  }
  add('triggerauthentication.yaml', toYaml(triggerAuthentication));
  add('scaledobject.yaml', toYaml(scaledObject));
  files.push({
    path: `${manifestDirectory}/kustomization.yaml`,
    content: toYaml(
      buildKustomization({
        namespace: request.namespace,
        resources: resourceFiles,
      }),
    ),
  });
  // Reviewable IAM plan next to the manifests; not a Kubernetes resource.
  add(
    'iam-plan.json',
    `${JSON.stringify(
      {
        operatorRole: {
          arn: operatorRole.arn,
          trustPolicy: operatorRole.trustPolicy,
          permissionPolicy: operatorRole.permissionPolicy,
        },
        scalerRole: {
          arn: scalerRole.arn,
          permissionsBoundaryArn: scalerRole.permissionsBoundaryArn,
          trustPolicy: scalerRole.trustPolicy,
          permissionPolicy: scalerRole.permissionPolicy,
          tags: scalerRole.tags,
        },
      },
      null,
      2,
    )}\n`,
    false,
  );

  const result: Omit<KedaPlan, 'summaryMarkdown'> = {
    request,
    ...(requester ? { requester } : {}),
    cluster,
    queue,
    kedaFeatures: { externalId: kedaSupportsExternalId(cluster.kedaVersion) },
    names: {
      scaledObject: scaledObjectName,
      triggerAuthentication: triggerAuthenticationName,
      ...(serviceAccountName ? { serviceAccount: serviceAccountName } : {}),
    },
    operatorRole,
    scalerRole,
    queuePolicy,
    manifestDirectory,
    ...(cluster.gitops
      ? { gitops: { repoUrl: cluster.gitops.repoUrl, path: manifestDirectory } }
      : {}),
    manifests: files,
    guardrails: evaluation,
  };
  return { ...result, summaryMarkdown: renderPlanSummary(result) };
}
