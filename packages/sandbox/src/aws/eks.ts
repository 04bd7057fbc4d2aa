/*
 * EKS (REST-JSON): DescribeCluster (`GET /clusters/{name}`), which the portal
 * uses to discover a cluster's OIDC issuer, ARN and API endpoint; the EKS Pod
 * Identity association API (`/clusters/{name}/pod-identity-associations`) and
 * DescribeAddon (`GET /clusters/{name}/addons/{addonName}`), which onboarding
 * of a Pod Identity cluster uses. Every call is authorised through the world
 * like AWS does (identity policies of the caller on the cluster, association
 * or add-on ARN; creating or updating an association also needs
 * `iam:PassRole` on the role, for `pods.eks.amazonaws.com`).
 */
import crypto from 'node:crypto';
import { AwsWorld, Caller } from './world';
import {
  AddonRecord,
  ClusterRecord,
  PodIdentityAssociationRecord,
  parseArn,
} from './state';
import { AwsError } from './wire';

/** The service principal EKS Pod Identity assumes roles as. */
export const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';

export interface EksClusterSeed {
  accountId: string;
  region: string;
  name: string;
  /** Kubernetes API URL (e.g. the sandbox API server). */
  endpoint?: string;
  /** Full issuer URL; default `https://oidc.eks.<region>.amazonaws.com/id/<32 hex>`. */
  oidcIssuer?: string;
  version?: string;
  roleArn?: string;
  certificateAuthorityData?: string;
  /** Add-ons installed (ACTIVE), e.g. `['eks-pod-identity-agent']`. */
  addons?: string[];
}

export function createEksCluster(
  world: AwsWorld,
  seed: EksClusterSeed,
): ClusterRecord {
  const account = world.requireAccount(seed.accountId);
  const id = crypto
    .createHash('md5')
    .update(`${seed.accountId}/${seed.region}/${seed.name}`)
    .digest('hex')
    .toUpperCase();
  const cluster: ClusterRecord = {
    name: seed.name,
    region: seed.region,
    arn: `arn:aws:eks:${seed.region}:${seed.accountId}:cluster/${seed.name}`,
    endpoint:
      seed.endpoint ?? `https://${id}.gr7.${seed.region}.eks.amazonaws.com`,
    oidcIssuer:
      seed.oidcIssuer ??
      `https://oidc.eks.${seed.region}.amazonaws.com/id/${id}`,
    version: seed.version ?? '1.33',
    status: 'ACTIVE',
    roleArn:
      seed.roleArn ?? `arn:aws:iam::${seed.accountId}:role/eks-cluster-role`,
    createdAt: world.now().toISOString(),
    certificateAuthorityData:
      seed.certificateAuthorityData ??
      Buffer.from('sandbox-ca').toString('base64'),
    tags: {},
  };
  account.clusters[`${seed.region}/${seed.name}`] = cluster;
  for (const addon of seed.addons ?? [])
    createEksAddon(world, {
      accountId: seed.accountId,
      region: seed.region,
      clusterName: seed.name,
      addonName: addon,
    });
  world.persist();
  return cluster;
}

/** Versions the stand-in reports for the add-ons it knows. */
const ADDON_VERSIONS: Record<string, string> = {
  'eks-pod-identity-agent': 'v1.3.8-eksbuild.2',
};

/**
 * Install (or set the status of) an add-on of a seeded cluster; idempotent.
 * There is no CreateAddon API in the stand-in.
 */
export function createEksAddon(
  world: AwsWorld,
  opts: {
    accountId: string;
    region: string;
    clusterName: string;
    addonName: string;
    status?: string;
    addonVersion?: string;
  },
): AddonRecord {
  const cluster = world.requireAccount(opts.accountId).clusters[
    `${opts.region}/${opts.clusterName}`
  ];
  if (!cluster)
    throw new Error(
      `No EKS cluster ${opts.clusterName} in ${opts.accountId}/${opts.region}; create it with createEksCluster first`,
    );
  const addons = (cluster.addons ??= {});
  const now = world.now().toISOString();
  const existing = addons[opts.addonName];
  const addon: AddonRecord = existing
    ? { ...existing, status: opts.status ?? existing.status, modifiedAt: now }
    : {
        addonName: opts.addonName,
        addonVersion:
          opts.addonVersion ??
          ADDON_VERSIONS[opts.addonName] ??
          'v1.0.0-eksbuild.1',
        addonArn: `arn:aws:eks:${opts.region}:${opts.accountId}:addon/${
          opts.clusterName
        }/${opts.addonName}/${crypto.randomUUID()}`,
        status: opts.status ?? 'ACTIVE',
        createdAt: now,
        modifiedAt: now,
        tags: {},
      };
  addons[opts.addonName] = addon;
  world.persist();
  return addon;
}

/** Remove an add-on of a seeded cluster (tests: a cluster without the Pod Identity agent). */
export function deleteEksAddon(
  world: AwsWorld,
  opts: {
    accountId: string;
    region: string;
    clusterName: string;
    addonName: string;
  },
): void {
  const cluster = world.requireAccount(opts.accountId).clusters[
    `${opts.region}/${opts.clusterName}`
  ];
  if (cluster?.addons) delete cluster.addons[opts.addonName];
  world.persist();
}

/** Handle `GET /clusters/{name}`; returns the REST-JSON body. */
export function describeCluster(
  world: AwsWorld,
  caller: Caller,
  region: string,
  name: string,
): Record<string, unknown> {
  const arn = `arn:aws:eks:${region}:${caller.accountId}:cluster/${name}`;
  world.authorize(caller, 'eks:DescribeCluster', arn, {
    region,
    resourceAccountId: caller.accountId,
    errorCode: 'AccessDeniedException',
  });
  const cluster = world.account(caller.accountId)?.clusters[
    `${region}/${name}`
  ];
  if (!cluster) {
    throw new AwsError(
      'ResourceNotFoundException',
      `No cluster found for name: ${name}.`,
      { status: 404 },
    );
  }
  return {
    cluster: {
      name: cluster.name,
      arn: cluster.arn,
      // REST-JSON timestamps are epoch seconds.
      createdAt: Date.parse(cluster.createdAt) / 1000,
      version: cluster.version,
      endpoint: cluster.endpoint,
      roleArn: cluster.roleArn,
      resourcesVpcConfig: {
        subnetIds: [],
        securityGroupIds: [],
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
      },
      kubernetesNetworkConfig: {
        serviceIpv4Cidr: '10.100.0.0/16',
        ipFamily: 'ipv4',
      },
      identity: { oidc: { issuer: cluster.oidcIssuer } },
      status: cluster.status,
      certificateAuthority: { data: cluster.certificateAuthorityData },
      platformVersion: 'eks.1',
      tags: cluster.tags,
    },
  };
}

// ------------------------------------------------------------- routing

/** The EKS operations the stand-in serves, by method and path. */
const EKS_ROUTES: Array<{
  method: string;
  pattern: RegExp;
  operation: string;
}> = [
  {
    method: 'GET',
    pattern: /^\/clusters\/([^/]+)$/,
    operation: 'DescribeCluster',
  },
  {
    method: 'POST',
    pattern: /^\/clusters\/([^/]+)\/pod-identity-associations$/,
    operation: 'CreatePodIdentityAssociation',
  },
  {
    method: 'GET',
    pattern: /^\/clusters\/([^/]+)\/pod-identity-associations$/,
    operation: 'ListPodIdentityAssociations',
  },
  {
    method: 'GET',
    pattern: /^\/clusters\/([^/]+)\/pod-identity-associations\/([^/]+)$/,
    operation: 'DescribePodIdentityAssociation',
  },
  {
    method: 'POST',
    pattern: /^\/clusters\/([^/]+)\/pod-identity-associations\/([^/]+)$/,
    operation: 'UpdatePodIdentityAssociation',
  },
  {
    method: 'DELETE',
    pattern: /^\/clusters\/([^/]+)\/pod-identity-associations\/([^/]+)$/,
    operation: 'DeletePodIdentityAssociation',
  },
  {
    method: 'GET',
    pattern: /^\/clusters\/([^/]+)\/addons\/([^/]+)$/,
    operation: 'DescribeAddon',
  },
];

/** The operation a request names, or undefined when the stand-in does not serve it. */
export function eksOperationOf(
  method: string,
  path: string,
): { operation: string; params: string[] } | undefined {
  for (const route of EKS_ROUTES) {
    const m = route.pattern.exec(path);
    if (m && route.method === method)
      return {
        operation: route.operation,
        params: m.slice(1).map(decodeURIComponent),
      };
  }
  return undefined;
}

export interface EksRequest {
  world: AwsWorld;
  caller: Caller;
  region: string;
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  body: Record<string, unknown>;
}

/** Handle a REST-JSON EKS request; returns the response body. */
export function handleEksRequest(req: EksRequest): Record<string, unknown> {
  const route = eksOperationOf(req.method, req.path);
  if (!route) {
    throw new AwsError(
      'InvalidRequestException',
      `${req.method} ${req.path} is not supported by the AWS stand-in (EKS: DescribeCluster, DescribeAddon and the Pod Identity association API).`,
    );
  }
  const [clusterName, id] = route.params;
  switch (route.operation) {
    case 'DescribeCluster':
      return describeCluster(req.world, req.caller, req.region, clusterName);
    case 'CreatePodIdentityAssociation':
      return createPodIdentityAssociation(req, clusterName);
    case 'ListPodIdentityAssociations':
      return listPodIdentityAssociations(req, clusterName);
    case 'DescribePodIdentityAssociation':
      return {
        association: associationBody(
          findAssociation(
            req,
            clusterName,
            id,
            'eks:DescribePodIdentityAssociation',
          ),
        ),
      };
    case 'UpdatePodIdentityAssociation':
      return updatePodIdentityAssociation(req, clusterName, id);
    case 'DeletePodIdentityAssociation':
      return deletePodIdentityAssociation(req, clusterName, id);
    default:
      return describeAddon(req, clusterName, id);
  }
}

// ------------------------------------------------ pod identity associations

const clusterArnOf = (region: string, accountId: string, name: string) =>
  `arn:aws:eks:${region}:${accountId}:cluster/${name}`;
const associationArnOf = (
  region: string,
  accountId: string,
  cluster: string,
  id: string,
) =>
  `arn:aws:eks:${region}:${accountId}:podidentityassociation/${cluster}/${id}`;

function authorizeEks(
  req: EksRequest,
  action: string,
  resource: string,
  context?: Record<string, string>,
) {
  req.world.authorize(req.caller, action, resource, {
    region: req.region,
    resourceAccountId: req.caller.accountId,
    errorCode: 'AccessDeniedException',
    ...(context ? { context } : {}),
  });
}

function requireCluster(req: EksRequest, name: string): ClusterRecord {
  const cluster = req.world.account(req.caller.accountId)?.clusters[
    `${req.region}/${name}`
  ];
  if (!cluster)
    throw new AwsError(
      'ResourceNotFoundException',
      `No cluster found for name: ${name}.`,
      { status: 404 },
    );
  return cluster;
}

function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterException', message);
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0)
    throw invalidParameter(
      `${field} is required and must be a non-empty string.`,
    );
  return value;
}

function validateTags(tags: unknown): Record<string, string> {
  if (tags === undefined) return {};
  if (!tags || typeof tags !== 'object' || Array.isArray(tags))
    throw invalidParameter('tags must be a map of strings.');
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > 50)
    throw invalidParameter('Number of tags exceeds the limit of 50.');
  for (const [k, v] of entries) {
    if (
      typeof v !== 'string' ||
      k.length < 1 ||
      k.length > 128 ||
      v.length > 256 ||
      k.toLowerCase().startsWith('aws:')
    ) {
      throw invalidParameter(
        `Tag ${k} is invalid: keys are 1-128 characters not starting with aws:, values at most 256.`,
      );
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * The role an association binds: a role ARN of the cluster's account (a role
 * in another account goes in targetRoleArn, which the stand-in does not
 * model); the caller must be allowed to pass it to EKS Pod Identity.
 */
function checkRole(req: EksRequest, cluster: ClusterRecord, roleArn: string) {
  const arn = parseArn(roleArn);
  if (!arn || arn.service !== 'iam' || !arn.resource.startsWith('role/')) {
    throw invalidParameter(`roleArn ${roleArn} is not a valid IAM role ARN.`);
  }
  if (arn.account !== req.caller.accountId) {
    throw invalidParameter(
      `roleArn ${roleArn} must be in the cluster's account ${req.caller.accountId}; the AWS stand-in does not model targetRoleArn.`,
    );
  }
  authorizeEks(req, 'iam:PassRole', roleArn, {
    'iam:PassedToService': POD_IDENTITY_SERVICE,
    'iam:AssociatedResourceArn': cluster.arn,
  });
}

function associationBody(
  a: PodIdentityAssociationRecord,
): Record<string, unknown> {
  return {
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
    associationArn: a.associationArn,
    associationId: a.associationId,
    tags: a.tags,
    createdAt: Date.parse(a.createdAt) / 1000,
    modifiedAt: Date.parse(a.modifiedAt) / 1000,
    disableSessionTags: a.disableSessionTags,
  };
}

function newAssociationId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `a-${Array.from(
    crypto.randomBytes(17),
    b => alphabet[b % alphabet.length],
  ).join('')}`;
}

function createPodIdentityAssociation(
  req: EksRequest,
  clusterName: string,
): Record<string, unknown> {
  authorizeEks(
    req,
    'eks:CreatePodIdentityAssociation',
    clusterArnOf(req.region, req.caller.accountId, clusterName),
  );
  const cluster = requireCluster(req, clusterName);
  const namespace = requiredString(req.body, 'namespace');
  const serviceAccount = requiredString(req.body, 'serviceAccount');
  const roleArn = requiredString(req.body, 'roleArn');
  const tags = validateTags(req.body.tags);
  const token =
    typeof req.body.clientRequestToken === 'string'
      ? req.body.clientRequestToken
      : undefined;
  if (req.body.targetRoleArn !== undefined)
    throw invalidParameter(
      'targetRoleArn is not supported by the AWS stand-in.',
    );
  const associations = (cluster.podIdentityAssociations ??= {});
  const existing = Object.values(associations).find(
    a => a.namespace === namespace && a.serviceAccount === serviceAccount,
  );
  if (existing) {
    // A retried create (same token, same input) answers with what it made.
    if (
      token &&
      existing.clientRequestToken === token &&
      existing.roleArn === roleArn
    ) {
      return { association: associationBody(existing) };
    }
    throw new AwsError(
      'ResourceInUseException',
      `Association already exists: ${existing.associationId}`,
      { status: 409 },
    );
  }
  checkRole(req, cluster, roleArn);
  const id = newAssociationId();
  const now = req.world.now().toISOString();
  const record: PodIdentityAssociationRecord = {
    associationId: id,
    associationArn: associationArnOf(
      req.region,
      req.caller.accountId,
      clusterName,
      id,
    ),
    clusterName,
    namespace,
    serviceAccount,
    roleArn,
    disableSessionTags: req.body.disableSessionTags === true,
    createdAt: now,
    modifiedAt: now,
    tags,
    ...(token ? { clientRequestToken: token } : {}),
  };
  associations[id] = record;
  req.world.persist();
  return { association: associationBody(record) };
}

function listPodIdentityAssociations(
  req: EksRequest,
  clusterName: string,
): Record<string, unknown> {
  authorizeEks(
    req,
    'eks:ListPodIdentityAssociations',
    clusterArnOf(req.region, req.caller.accountId, clusterName),
  );
  const cluster = requireCluster(req, clusterName);
  const { namespace, serviceAccount, nextToken } = req.query;
  const maxResults =
    req.query.maxResults === undefined ? 100 : Number(req.query.maxResults);
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
    throw invalidParameter('maxResults must be an integer between 1 and 100.');
  }
  const all = Object.values(cluster.podIdentityAssociations ?? {})
    .filter(
      a =>
        (!namespace || a.namespace === namespace) &&
        (!serviceAccount || a.serviceAccount === serviceAccount),
    )
    .sort((a, b) => a.associationId.localeCompare(b.associationId));
  let start = 0;
  if (nextToken) {
    start = Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0)
      throw invalidParameter('nextToken is invalid.');
  }
  const page = all.slice(start, start + maxResults);
  const more = start + maxResults < all.length;
  return {
    associations: page.map(a => ({
      clusterName: a.clusterName,
      namespace: a.namespace,
      serviceAccount: a.serviceAccount,
      associationArn: a.associationArn,
      associationId: a.associationId,
    })),
    ...(more
      ? {
          nextToken: Buffer.from(String(start + maxResults)).toString(
            'base64url',
          ),
        }
      : {}),
  };
}

function findAssociation(
  req: EksRequest,
  clusterName: string,
  id: string,
  action: string,
): PodIdentityAssociationRecord {
  authorizeEks(
    req,
    action,
    associationArnOf(req.region, req.caller.accountId, clusterName, id),
  );
  const cluster = requireCluster(req, clusterName);
  const association = cluster.podIdentityAssociations?.[id];
  if (!association) {
    throw new AwsError(
      'ResourceNotFoundException',
      `No Pod Identity Association found for association id: ${id}.`,
      { status: 404 },
    );
  }
  return association;
}

function updatePodIdentityAssociation(
  req: EksRequest,
  clusterName: string,
  id: string,
): Record<string, unknown> {
  const association = findAssociation(
    req,
    clusterName,
    id,
    'eks:UpdatePodIdentityAssociation',
  );
  const cluster = requireCluster(req, clusterName);
  if (req.body.targetRoleArn !== undefined)
    throw invalidParameter(
      'targetRoleArn is not supported by the AWS stand-in.',
    );
  if (req.body.roleArn !== undefined) {
    const roleArn = requiredString(req.body, 'roleArn');
    checkRole(req, cluster, roleArn);
    association.roleArn = roleArn;
  }
  if (typeof req.body.disableSessionTags === 'boolean')
    association.disableSessionTags = req.body.disableSessionTags;
  association.modifiedAt = req.world.now().toISOString();
  req.world.persist();
  return { association: associationBody(association) };
}

function deletePodIdentityAssociation(
  req: EksRequest,
  clusterName: string,
  id: string,
): Record<string, unknown> {
  const association = findAssociation(
    req,
    clusterName,
    id,
    'eks:DeletePodIdentityAssociation',
  );
  delete requireCluster(req, clusterName).podIdentityAssociations![id];
  req.world.persist();
  return { association: associationBody(association) };
}

/** The association EKS Pod Identity uses for a service account, if any. */
export function associationFor(
  cluster: ClusterRecord,
  namespace: string,
  serviceAccount: string,
): PodIdentityAssociationRecord | undefined {
  return Object.values(cluster.podIdentityAssociations ?? {}).find(
    a => a.namespace === namespace && a.serviceAccount === serviceAccount,
  );
}

// ------------------------------------------------------------------ add-ons

function describeAddon(
  req: EksRequest,
  clusterName: string,
  addonName: string,
): Record<string, unknown> {
  const cluster = req.world.account(req.caller.accountId)?.clusters[
    `${req.region}/${clusterName}`
  ];
  const addon = cluster?.addons?.[addonName];
  authorizeEks(
    req,
    'eks:DescribeAddon',
    addon?.addonArn ??
      `arn:aws:eks:${req.region}:${req.caller.accountId}:addon/${clusterName}/${addonName}/*`,
  );
  requireCluster(req, clusterName);
  if (!addon) {
    throw new AwsError(
      'ResourceNotFoundException',
      `No addon: ${addonName} found in cluster: ${clusterName}`,
      { status: 404 },
    );
  }
  return {
    addon: {
      addonName: addon.addonName,
      clusterName,
      status: addon.status,
      addonVersion: addon.addonVersion,
      health: { issues: [] },
      addonArn: addon.addonArn,
      createdAt: Date.parse(addon.createdAt) / 1000,
      modifiedAt: Date.parse(addon.modifiedAt) / 1000,
      tags: addon.tags,
      podIdentityAssociations: [],
    },
  };
}
