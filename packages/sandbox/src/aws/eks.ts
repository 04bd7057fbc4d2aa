/*
 * EKS (REST-JSON): DescribeCluster only — `GET /clusters/{name}` — which the
 * portal uses to discover a cluster's OIDC issuer, ARN and API endpoint.
 */
import crypto from 'node:crypto';
import { AwsWorld, Caller } from './world';
import { ClusterRecord } from './state';
import { AwsError } from './wire';

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
}

export function createEksCluster(world: AwsWorld, seed: EksClusterSeed): ClusterRecord {
  const account = world.requireAccount(seed.accountId);
  const id = crypto.createHash('md5').update(`${seed.accountId}/${seed.region}/${seed.name}`).digest('hex').toUpperCase();
  const cluster: ClusterRecord = {
    name: seed.name,
    region: seed.region,
    arn: `arn:aws:eks:${seed.region}:${seed.accountId}:cluster/${seed.name}`,
    endpoint: seed.endpoint ?? `https://${id}.gr7.${seed.region}.eks.amazonaws.com`,
    oidcIssuer: seed.oidcIssuer ?? `https://oidc.eks.${seed.region}.amazonaws.com/id/${id}`,
    version: seed.version ?? '1.33',
    status: 'ACTIVE',
    roleArn: seed.roleArn ?? `arn:aws:iam::${seed.accountId}:role/eks-cluster-role`,
    createdAt: world.now().toISOString(),
    certificateAuthorityData: seed.certificateAuthorityData ?? Buffer.from('sandbox-ca').toString('base64'),
    tags: {},
  };
  account.clusters[`${seed.region}/${seed.name}`] = cluster;
  world.persist();
  return cluster;
}

/** Handle `GET /clusters/{name}`; returns the REST-JSON body. */
export function describeCluster(world: AwsWorld, caller: Caller, region: string, name: string): Record<string, unknown> {
  const arn = `arn:aws:eks:${region}:${caller.accountId}:cluster/${name}`;
  world.authorize(caller, 'eks:DescribeCluster', arn, {
    region,
    resourceAccountId: caller.accountId,
    errorCode: 'AccessDeniedException',
  });
  const cluster = world.account(caller.accountId)?.clusters[`${region}/${name}`];
  if (!cluster) {
    throw new AwsError('ResourceNotFoundException', `No cluster found for name: ${name}.`, { status: 404 });
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
      resourcesVpcConfig: { subnetIds: [], securityGroupIds: [], endpointPublicAccess: true, endpointPrivateAccess: false },
      kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
      identity: { oidc: { issuer: cluster.oidcIssuer } },
      status: cluster.status,
      certificateAuthority: { data: cluster.certificateAuthorityData },
      platformVersion: 'eks.1',
      tags: cluster.tags,
    },
  };
}
