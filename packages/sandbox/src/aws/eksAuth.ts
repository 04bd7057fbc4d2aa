/*
 * EKS Auth (REST-JSON, signing name `eks-auth`, API version 2023-11-26):
 * AssumeRoleForPodIdentity — `POST /clusters/{clusterName}/assume-role-for-pod-identity`
 * with `{ token }` — the call the EKS Pod Identity agent on a node makes,
 * signed with the node role's credentials, to turn a pod's projected
 * service account token into credentials of the role its pod identity
 * association names.
 *
 * Like AWS: the caller needs `eks-auth:AssumeRoleForPodIdentity` on the
 * cluster; the token must be signed by the cluster's issuer (when its keys
 * are registered), be for the audience `pods.eks.amazonaws.com` and not be
 * expired; the association is looked up by the token's namespace and service
 * account; the role's trust policy is evaluated for the service principal
 * `pods.eks.amazonaws.com` with `sts:AssumeRole` and `sts:TagSession` and
 * the session tags EKS sets as `aws:RequestTag/...` (all transitive).
 */
import crypto from 'node:crypto';
import { associationFor, POD_IDENTITY_SERVICE } from './eks';
import { PolicyDocument } from './policyDocument';
import { evaluatePolicies } from './policyEvaluator';
import { ClusterRecord, parseArn, RoleRecord } from './state';
import {
  decodeWebIdentityToken,
  issueSession,
  verifyWebIdentitySignature,
} from './sts';
import { AwsError } from './wire';
import { AwsWorld, Caller } from './world';

/** The audience of the projected token the Pod Identity webhook mounts. */
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';

/** How long the credentials last (the agent refreshes them before expiry). */
const POD_IDENTITY_SESSION_SECONDS = 6 * 3600;

const PATH = /^\/clusters\/([^/]+)\/assume-role-for-pod-identity$/;

/** The operation a request names, or undefined when the stand-in does not serve it. */
export function eksAuthOperationOf(
  method: string,
  path: string,
): { operation: string; clusterName: string } | undefined {
  const m = PATH.exec(path);
  return m && method === 'POST'
    ? {
        operation: 'AssumeRoleForPodIdentity',
        clusterName: decodeURIComponent(m[1]),
      }
    : undefined;
}

interface KubernetesClaims {
  namespace?: string;
  serviceaccount?: { name?: string };
  pod?: { name?: string; uid?: string };
}

/** Handle `AssumeRoleForPodIdentity`; returns the REST-JSON body. */
export function assumeRoleForPodIdentity(req: {
  world: AwsWorld;
  caller: Caller;
  region: string;
  method: string;
  path: string;
  body: Record<string, unknown>;
}): Record<string, unknown> {
  const route = eksAuthOperationOf(req.method, req.path);
  if (!route) {
    throw new AwsError(
      'InvalidRequestException',
      `${req.method} ${req.path} is not supported by the AWS stand-in (EKS Auth: AssumeRoleForPodIdentity only).`,
    );
  }
  const { world, caller, region } = req;
  const { clusterName } = route;
  if (!/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(clusterName)) {
    throw new AwsError(
      'InvalidParameterException',
      `clusterName ${clusterName} does not match [0-9A-Za-z][A-Za-z0-9\\-_]*.`,
    );
  }
  const clusterArn = `arn:aws:eks:${region}:${caller.accountId}:cluster/${clusterName}`;
  world.authorize(caller, 'eks-auth:AssumeRoleForPodIdentity', clusterArn, {
    region,
    resourceAccountId: caller.accountId,
    errorCode: 'AccessDeniedException',
  });
  const token = req.body.token;
  if (
    typeof token !== 'string' ||
    !/^[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+$/.test(token)
  ) {
    throw new AwsError(
      'InvalidParameterException',
      'token is required and must be a JWT.',
    );
  }
  const cluster: ClusterRecord | undefined = world.account(caller.accountId)
    ?.clusters[`${region}/${clusterName}`];
  if (!cluster)
    throw new AwsError(
      'ResourceNotFoundException',
      `No cluster found for name: ${clusterName}.`,
      { status: 404 },
    );

  const invalidToken = (why: string) =>
    new AwsError(
      'InvalidTokenException',
      `The service account token is invalid: ${why}.`,
      { status: 401 },
    );
  let claims;
  try {
    claims = decodeWebIdentityToken(token);
  } catch {
    throw invalidToken('not a JWT with iss, sub and aud');
  }
  const issuer = cluster.oidcIssuer.replace(/\/$/, '');
  if (claims.iss.replace(/\/$/, '') !== issuer)
    throw invalidToken(
      `issued by ${claims.iss}, not by cluster ${clusterName}`,
    );
  const jwks = world.data.issuerKeys?.[issuer];
  if (jwks && !verifyWebIdentitySignature(token, jwks))
    throw invalidToken('its signature does not verify');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(POD_IDENTITY_AUDIENCE))
    throw invalidToken(
      `its audience is ${audiences.join(', ')}, not ${POD_IDENTITY_AUDIENCE}`,
    );
  if (claims.exp !== undefined && claims.exp * 1000 <= world.clock()) {
    throw new AwsError(
      'ExpiredTokenException',
      'The service account token is expired.',
      { status: 400 },
    );
  }
  const k8s = (claims['kubernetes.io'] ?? {}) as KubernetesClaims;
  const subject = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub);
  const namespace = k8s.namespace ?? subject?.[1];
  const serviceAccount = k8s.serviceaccount?.name ?? subject?.[2];
  if (!namespace || !serviceAccount)
    throw invalidToken(`its subject ${claims.sub} is not a service account`);

  const association = associationFor(cluster, namespace, serviceAccount);
  if (!association) {
    throw new AwsError(
      'ResourceNotFoundException',
      `No Pod Identity Association found for service account ${serviceAccount} in namespace ${namespace} of cluster ${clusterName}.`,
      { status: 404 },
    );
  }
  const roleArn = parseArn(association.roleArn);
  const role: RoleRecord | undefined = roleArn
    ? world.account(roleArn.account)?.roles[
        roleArn.resource.split('/').pop()!.toLowerCase()
      ]
    : undefined;
  const denied = () =>
    new AwsError(
      'AccessDeniedException',
      `EKS Pod Identity could not assume ${association.roleArn} for ${namespace}/${serviceAccount} (association ${association.associationId}): its trust policy does not allow ${POD_IDENTITY_SERVICE} sts:AssumeRole and sts:TagSession with these session tags, or the role does not exist.`,
      { status: 403 },
    );
  if (!role || role.arn !== association.roleArn) throw denied();

  // The tags EKS puts on its AssumeRole (EKS user guide, "List of session
  // tags added by EKS Pod Identity"); pod name and uid only when the token
  // is bound to a pod.
  const tags: Record<string, string> = association.disableSessionTags
    ? {}
    : {
        'eks-cluster-arn': cluster.arn,
        'eks-cluster-name': cluster.name,
        'kubernetes-namespace': namespace,
        'kubernetes-service-account': serviceAccount,
        ...(k8s.pod?.name ? { 'kubernetes-pod-name': k8s.pod.name } : {}),
        ...(k8s.pod?.uid ? { 'kubernetes-pod-uid': k8s.pod.uid } : {}),
      };
  const actions = Object.keys(tags).length
    ? ['sts:AssumeRole', 'sts:TagSession']
    : ['sts:AssumeRole'];
  for (const action of actions) {
    const result = evaluatePolicies({
      principal: {
        kind: 'service',
        arn: POD_IDENTITY_SERVICE,
        service: POD_IDENTITY_SERVICE,
      },
      action,
      resource: role.arn,
      resourceAccountId: roleArn!.account,
      resourcePolicy: {
        name: `trust policy of ${role.arn}`,
        document: JSON.parse(role.trustPolicy) as PolicyDocument,
      },
      context: {
        'aws:SourceAccount': caller.accountId,
        'aws:RequestedRegion': region,
        'aws:TagKeys': Object.keys(tags),
        ...Object.fromEntries(
          Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v]),
        ),
      },
    });
    if (result.decision !== 'allowed') throw denied();
  }
  const sessionName = `eks-${clusterName}-${
    k8s.pod?.name ?? serviceAccount
  }-${crypto.randomUUID()}`.slice(0, 64);
  const issued = issueSession(
    { world, region },
    role,
    sessionName,
    POD_IDENTITY_SESSION_SECONDS,
    {
      chained: false,
      sessionTags: tags,
      transitiveTagKeys: Object.keys(tags),
    },
  ) as {
    Credentials: {
      AccessKeyId: string;
      SecretAccessKey: string;
      SessionToken: string;
      Expiration: string;
    };
    AssumedRoleUser: { AssumedRoleId: string; Arn: string };
  };
  return {
    subject: { namespace, serviceAccount },
    audience: POD_IDENTITY_AUDIENCE,
    podIdentityAssociation: {
      associationArn: association.associationArn,
      associationId: association.associationId,
    },
    assumedRoleUser: {
      arn: issued.AssumedRoleUser.Arn,
      assumeRoleId: issued.AssumedRoleUser.AssumedRoleId,
    },
    credentials: {
      sessionToken: issued.Credentials.SessionToken,
      secretAccessKey: issued.Credentials.SecretAccessKey,
      accessKeyId: issued.Credentials.AccessKeyId,
      // REST-JSON timestamps are epoch seconds.
      expiration: Date.parse(issued.Credentials.Expiration) / 1000,
    },
  };
}
