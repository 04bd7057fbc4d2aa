/*
 * STS (awsQuery protocol, API version 2011-06-15): GetCallerIdentity,
 * AssumeRole and AssumeRoleWithWebIdentity — the calls KEDA's aws pod
 * identity makes. AssumeRole evaluates the target role's trust policy (as
 * stored: principals by unique id), which must allow the caller in every
 * case, and the caller's own permission to sts:AssumeRole: always
 * cross-account, and in the same account when the trust names the account
 * rather than the caller (policyEvaluator.ts).
 */
import crypto from 'node:crypto';
import { PolicyDocument } from './policyDocument';
import { evaluatePolicies, RequestContext } from './policyEvaluator';
import {
  newSecret,
  newSessionKeyId,
  OidcProviderRecord,
  parseArn,
  RoleRecord,
  sessionArn,
} from './state';
import { issuerHostPath, QueryCallContext, QueryHandler } from './iam';
import { AwsError, validationError, XmlValue } from './wire';
import { Caller } from './world';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** Role chaining caps sessions at one hour (domain-keda-iam.md, IAM trap 4). */
const CHAINED_MAX_SECONDS = 3600;
const MIN_SESSION_SECONDS = 900;

function validateSessionName(name: string): void {
  if (!/^[\w+=,.@-]{2,64}$/.test(name)) {
    throw validationError(
      `1 validation error detected: Value '${name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64`,
    );
  }
}

function sessionDuration(
  requested: number | undefined,
  role: RoleRecord,
  chained: boolean,
): number {
  const seconds = requested ?? 3600;
  if (seconds < MIN_SESSION_SECONDS) {
    throw validationError(
      `1 validation error detected: Value '${seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${MIN_SESSION_SECONDS}`,
    );
  }
  if (chained && seconds > CHAINED_MAX_SECONDS) {
    throw validationError(
      `The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.`,
    );
  }
  if (seconds > role.maxSessionDuration) {
    throw validationError(
      `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
    );
  }
  return seconds;
}

/** Look up the role an ARN names; `undefined` when it does not exist (AWS then says AccessDenied). */
function targetRole(
  ctx: QueryCallContext,
  arn: string,
): RoleRecord | undefined {
  const parsed = parseArn(arn);
  if (
    !parsed ||
    parsed.service !== 'iam' ||
    !parsed.resource.startsWith('role/')
  ) {
    throw validationError(`${arn} is invalid`);
  }
  const role = ctx.world.account(parsed.account)?.roles[
    parsed.resource.split('/').pop()!.toLowerCase()
  ];
  return role && role.arn === arn ? role : undefined;
}

/** Store a new session of the role and answer with its credentials (also used by EKS Auth). */
export function issueSession(
  ctx: Pick<QueryCallContext, 'world' | 'region'>,
  role: RoleRecord,
  sessionName: string,
  seconds: number,
  extra: {
    chained: boolean;
    webIdentitySubject?: string;
    sessionTags?: Record<string, string>;
    transitiveTagKeys?: string[];
  },
): Record<string, XmlValue> {
  const accountId = parseArn(role.arn)!.account;
  const accessKeyId = newSessionKeyId();
  const secretAccessKey = newSecret();
  const sessionToken = crypto.randomBytes(48).toString('base64');
  const expiration = new Date(ctx.world.clock() + seconds * 1000).toISOString();
  const arn = sessionArn(accountId, role.roleName, sessionName);
  role.lastUsed = { date: ctx.world.now().toISOString(), region: ctx.region };
  ctx.world.data.accessKeys[accessKeyId] = {
    accessKeyId,
    secretAccessKey,
    sessionToken,
    kind: 'assumed-role',
    accountId,
    principalArn: arn,
    roleName: role.roleName,
    roleId: role.roleId,
    sessionName,
    expiration,
    chained: extra.chained,
    ...(extra.webIdentitySubject
      ? { webIdentitySubject: extra.webIdentitySubject }
      : {}),
    ...(extra.sessionTags && Object.keys(extra.sessionTags).length
      ? { sessionTags: extra.sessionTags }
      : {}),
    ...(extra.transitiveTagKeys?.length
      ? { transitiveTagKeys: extra.transitiveTagKeys }
      : {}),
  };
  ctx.world.persist();
  return {
    Credentials: {
      AccessKeyId: accessKeyId,
      SecretAccessKey: secretAccessKey,
      SessionToken: sessionToken,
      Expiration: expiration,
    },
    AssumedRoleUser: {
      AssumedRoleId: `${role.roleId}:${sessionName}`,
      Arn: arn,
    },
    PackedPolicySize: 0,
  };
}

function requireCaller(ctx: QueryCallContext): Caller {
  if (!ctx.caller)
    throw new AwsError(
      'MissingAuthenticationToken',
      'Request is missing Authentication Token',
      { status: 403 },
    );
  return ctx.caller;
}

interface WebIdentityClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp?: number;
  [k: string]: unknown;
}

/**
 * Decode a JWT without verifying it. Verification happens separately, and
 * only for issuers whose keys were registered (see verifyWebIdentitySignature).
 */
export function decodeWebIdentityToken(token: string): WebIdentityClaims {
  const parts = token.split('.');
  const invalid = () =>
    new AwsError(
      'InvalidIdentityToken',
      'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
    );
  if (parts.length !== 3) throw invalid();
  let claims: WebIdentityClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    typeof claims.iss !== 'string' ||
    typeof claims.sub !== 'string' ||
    claims.aud === undefined
  )
    throw invalid();
  return claims;
}

const JWT_ALGORITHMS: Record<
  string,
  { hash: string; dsaEncoding?: 'ieee-p1363' }
> = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  ES384: { hash: 'sha384', dsaEncoding: 'ieee-p1363' },
};

/**
 * Verify a JWT's signature against the issuer's registered JWKS (the key
 * named by `kid`, or any key when the token has none).
 */
export function verifyWebIdentitySignature(
  token: string,
  jwks: { keys: JsonWebKey[] },
): boolean {
  const [headerPart, payloadPart, signaturePart] = token.split('.');
  let header: { alg?: string; kid?: string };
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  const algorithm = header.alg ? JWT_ALGORITHMS[header.alg] : undefined;
  if (!algorithm) return false;
  const candidates = jwks.keys.filter(
    k => !header.kid || (k as { kid?: string }).kid === header.kid,
  );
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart ?? '', 'base64url');
  return candidates.some(jwk => {
    try {
      const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
      return crypto.verify(
        algorithm.hash,
        signed,
        algorithm.dsaEncoding
          ? { key, dsaEncoding: algorithm.dsaEncoding }
          : key,
        signature,
      );
    } catch {
      return false;
    }
  });
}

export const stsHandlers: Record<string, QueryHandler> = {
  GetCallerIdentity(ctx) {
    // Always allowed, even under an explicit deny (AWS documents this).
    const caller = requireCaller(ctx);
    return {
      UserId: caller.userId,
      Account: caller.accountId,
      Arn: caller.principal.arn,
    };
  },

  AssumeRole(ctx) {
    const caller = requireCaller(ctx);
    const { params, world } = ctx;
    const arn = params.required('RoleArn');
    const sessionName = params.required('RoleSessionName');
    validateSessionName(sessionName);
    const externalId = params.optional('ExternalId');
    if (
      externalId !== undefined &&
      !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)
    ) {
      throw validationError(
        `1 validation error detected: Value '${externalId}' at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224`,
      );
    }
    const denied = () =>
      new AwsError(
        'AccessDenied',
        `User: ${caller.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`,
        {
          status: 403,
        },
      );
    if (caller.principal.kind === 'root') {
      throw new AwsError(
        'AccessDenied',
        'Roles may not be assumed by root accounts.',
        { status: 403 },
      );
    }
    const role = targetRole(ctx, arn);
    if (!role) throw denied();
    const context: RequestContext = { 'sts:RoleSessionName': sessionName };
    if (externalId !== undefined) context['sts:ExternalId'] = externalId;
    // Transitive tags of the calling session pass on to the new one (role
    // chaining with session tags, e.g. EKS Pod Identity's) and count as tags
    // of this request.
    const sessionTags: Record<string, string> = {};
    const inheritedKeys = (caller.key.transitiveTagKeys ?? []).filter(
      k => caller.key.sessionTags?.[k] !== undefined,
    );
    for (const k of inheritedKeys) sessionTags[k] = caller.key.sessionTags![k];
    for (const tag of params.structList('Tags'))
      sessionTags[tag.required('Key')] = tag.optional('Value') ?? '';
    const transitiveTagKeys = [
      ...new Set([...inheritedKeys, ...params.list('TransitiveTagKeys')]),
    ];
    // Passing session tags needs sts:TagSession on both sides as well
    // (what EKS Pod Identity does implicitly; domain-keda-iam.md).
    const actions = Object.keys(sessionTags).length
      ? ['sts:AssumeRole', 'sts:TagSession']
      : ['sts:AssumeRole'];
    if (actions.length > 1) {
      context['aws:TagKeys'] = Object.keys(sessionTags);
      for (const [k, v] of Object.entries(sessionTags))
        context[`aws:RequestTag/${k}`] = v;
    }
    for (const action of actions) {
      try {
        world.authorize(caller, action, role.arn, {
          region: ctx.region,
          resourceAccountId: parseArn(role.arn)!.account,
          resourcePolicy: {
            name: `trust policy of ${role.arn}`,
            document: JSON.parse(role.trustPolicy) as PolicyDocument,
          },
          context,
        });
      } catch (e) {
        if (e instanceof AwsError && e.code === 'AccessDenied') {
          throw new AwsError(
            'AccessDenied',
            `User: ${caller.principal.arn} is not authorized to perform: ${action} on resource: ${arn}`,
            {
              status: 403,
            },
          );
        }
        throw e;
      }
    }
    const chained = caller.key.kind === 'assumed-role';
    const seconds = sessionDuration(
      params.optionalInt('DurationSeconds'),
      role,
      chained,
    );
    return issueSession(ctx, role, sessionName, seconds, {
      chained,
      sessionTags,
      transitiveTagKeys,
    });
  },

  AssumeRoleWithWebIdentity(ctx) {
    const { params, world } = ctx;
    const arn = params.required('RoleArn');
    const sessionName = params.required('RoleSessionName');
    validateSessionName(sessionName);
    const token = params.required('WebIdentityToken');
    const claims = decodeWebIdentityToken(token);
    const jwks = world.data.issuerKeys?.[claims.iss.replace(/\/$/, '')];
    if (jwks && !verifyWebIdentitySignature(token, jwks)) {
      throw new AwsError(
        'InvalidIdentityToken',
        'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.',
      );
    }
    if (claims.exp !== undefined && claims.exp * 1000 <= world.clock()) {
      throw new AwsError(
        'ExpiredTokenException',
        `Token expired: current date/time ${world
          .now()
          .toISOString()} must be before the expiration date/time ${new Date(
          claims.exp * 1000,
        ).toISOString()}`,
      );
    }
    const role = targetRole(ctx, arn);
    const accountId = parseArn(arn)!.account;
    const hostPath = issuerHostPath(claims.iss);
    const provider: OidcProviderRecord | undefined =
      world.account(accountId)?.oidcProviders[
        `arn:aws:iam::${accountId}:oidc-provider/${hostPath}`
      ];
    if (!provider) {
      throw new AwsError(
        'InvalidIdentityToken',
        `No OpenIDConnect provider found in your account for ${claims.iss}`,
      );
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const audience = audiences.find(a => provider.clientIds.includes(a));
    if (!audience)
      throw new AwsError('InvalidIdentityToken', 'Incorrect token audience');
    const denied = new AwsError(
      'AccessDenied',
      'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      { status: 403 },
    );
    if (!role) throw denied;
    const result = evaluatePolicies({
      principal: {
        kind: 'web-identity',
        arn: provider.arn,
        federatedProvider: provider.arn,
      },
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: role.arn,
      resourceAccountId: accountId,
      resourcePolicy: {
        name: `trust policy of ${role.arn}`,
        document: JSON.parse(role.trustPolicy) as PolicyDocument,
      },
      context: {
        [`${hostPath}:sub`]: claims.sub,
        [`${hostPath}:aud`]: audience,
        [`${hostPath}:oaud`]: audiences,
        'aws:FederatedProvider': provider.arn,
        'sts:RoleSessionName': sessionName,
        'aws:RequestedRegion': ctx.region,
      },
    });
    if (result.decision !== 'allowed') throw denied;
    const seconds = sessionDuration(
      params.optionalInt('DurationSeconds'),
      role,
      false,
    );
    return {
      ...issueSession(ctx, role, sessionName, seconds, {
        chained: false,
        webIdentitySubject: claims.sub,
      }),
      SubjectFromWebIdentityToken: claims.sub,
      Provider: claims.iss,
      Audience: audience,
    };
  },
};
