import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import crypto from 'node:crypto';
import { AwsStandIn, startAwsStandIn } from './server';
import {
  allowDoc,
  CLUSTER_ACCOUNT,
  EXTERNAL_ID,
  fakeServiceAccountToken,
  ISSUER,
  operatorTrust,
  OPERATOR_SUBJECT,
  QUEUE_ACCOUNT,
  REGION,
  scalerTrust,
  sdkClients,
  SdkClients,
  sessionCredentials,
} from './__testUtils__/sdkClients';

// Each test drives a real HTTP server with SDK clients; leave room on a busy 2-core CI machine.
jest.setTimeout(30_000);

describe('STS stand-in', () => {
  let standIn: AwsStandIn;
  let now: number;
  let adminA: SdkClients;
  let adminB: SdkClients;
  const opened: SdkClients[] = [];
  const clientsFor = (creds: Parameters<typeof sdkClients>[1]) => {
    const c = sdkClients(standIn, creds, { region: REGION });
    opened.push(c);
    return c;
  };
  const A_ROLE = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/app`;
  const B_ROLE = `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/orders-scaler`;

  /** A session of role `app` in account A, seeded directly (not under test here). */
  const appSession = () => clientsFor(standIn.createAccessKey(A_ROLE));

  beforeEach(async () => {
    now = Date.parse('2026-11-28T06:00:00Z');
    standIn = await startAwsStandIn({ port: 0, clock: () => now });
    adminA = clientsFor(standIn.createAccount(CLUSTER_ACCOUNT));
    adminB = clientsFor(standIn.createAccount(QUEUE_ACCOUNT));
    await adminA.iam.send(
      new CreateRoleCommand({
        RoleName: 'app',
        AssumeRolePolicyDocument: JSON.stringify({
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: CLUSTER_ACCOUNT },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    await adminB.iam.send(
      new CreateRoleCommand({
        RoleName: 'orders-scaler',
        Path: '/keda/',
        AssumeRolePolicyDocument: scalerTrust(A_ROLE),
      }),
    );
  });

  afterEach(async () => {
    opened.splice(0).forEach(c => c.destroy());
    await standIn.close();
  });

  describe('GetCallerIdentity', () => {
    it('reports root, users and role sessions like STS', async () => {
      expect(
        await adminA.sts.send(new GetCallerIdentityCommand({})),
      ).toMatchObject({
        Account: CLUSTER_ACCOUNT,
        Arn: `arn:aws:iam::${CLUSTER_ACCOUNT}:root`,
        UserId: CLUSTER_ACCOUNT,
      });
      const user = standIn.createUser(CLUSTER_ACCOUNT, 'alice');
      const alice = clientsFor(standIn.createAccessKey(user.arn));
      expect(
        await alice.sts.send(new GetCallerIdentityCommand({})),
      ).toMatchObject({ Arn: user.arn, UserId: user.userId });
      const session = await appSession().sts.send(
        new GetCallerIdentityCommand({}),
      );
      expect(session.Arn).toBe(
        `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/app/sandbox`,
      );
      expect(session.UserId).toMatch(/^AROA[A-Z0-9]+:sandbox$/);
    });

    it('rejects an unknown access key as an invalid token', async () => {
      const stranger = clientsFor({
        accessKeyId: 'AKIAUNKNOWN000000000',
        secretAccessKey: 'x',
      });
      await expect(
        stranger.sts.send(new GetCallerIdentityCommand({})),
      ).rejects.toMatchObject({
        name: 'InvalidClientTokenId',
        message: 'The security token included in the request is invalid.',
      });
    });

    it('rejects a request signed with the wrong secret', async () => {
      const root = standIn.createAccount(CLUSTER_ACCOUNT);
      const forged = clientsFor({
        accessKeyId: root.accessKeyId,
        secretAccessKey: 'not-the-secret',
      });
      await expect(
        forged.sts.send(new GetCallerIdentityCommand({})),
      ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    });
  });

  describe('AssumeRole', () => {
    const grantAssume = () =>
      adminA.iam.send(
        new PutRolePolicyCommand({
          RoleName: 'app',
          PolicyName: 'assume',
          PolicyDocument: allowDoc(
            'sts:AssumeRole',
            `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/*`,
          ),
        }),
      );

    it('issues session credentials that expire with the clock', async () => {
      await grantAssume();
      const out = await appSession().sts.send(
        new AssumeRoleCommand({
          RoleArn: B_ROLE,
          RoleSessionName: 'KEDA',
          ExternalId: EXTERNAL_ID,
          DurationSeconds: 900,
        }),
      );
      expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
      expect(out.Credentials?.Expiration?.toISOString()).toBe(
        '2026-11-28T06:15:00.000Z',
      );
      const session = clientsFor(sessionCredentials(out));
      await expect(
        session.sts.send(new GetCallerIdentityCommand({})),
      ).resolves.toMatchObject({ Account: QUEUE_ACCOUNT });
      now += 901_000;
      await expect(
        session.sts.send(new GetCallerIdentityCommand({})),
      ).rejects.toMatchObject({ name: 'ExpiredToken' });
    });

    it.each([
      ['without ExternalId', undefined],
      ['with a wrong ExternalId', 'guessed-id'],
    ])('is denied %s', async (_name, externalId) => {
      await grantAssume();
      await expect(
        appSession().sts.send(
          new AssumeRoleCommand({
            RoleArn: B_ROLE,
            RoleSessionName: 'KEDA',
            ExternalId: externalId,
          }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: `User: arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/app/sandbox is not authorized to perform: sts:AssumeRole on resource: ${B_ROLE}`,
      });
    });

    it('is denied from another account the trust does not name', async () => {
      standIn.createAccount('333333333333');
      const outsider = clientsFor(
        standIn.createAccessKey(
          standIn.createUser('333333333333', 'mallory', {
            inlinePolicies: {
              all: {
                Statement: [
                  { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
                ],
              },
            },
          }).arn,
        ),
      );
      await expect(
        outsider.sts.send(
          new AssumeRoleCommand({
            RoleArn: B_ROLE,
            RoleSessionName: 'KEDA',
            ExternalId: EXTERNAL_ID,
          }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: `User: arn:aws:iam::333333333333:user/mallory is not authorized to perform: sts:AssumeRole on resource: ${B_ROLE}`,
      });
    });

    it('is denied cross-account when the caller role lacks sts:AssumeRole, although the trust allows it', async () => {
      await expect(
        appSession().sts.send(
          new AssumeRoleCommand({
            RoleArn: B_ROLE,
            RoleSessionName: 'KEDA',
            ExternalId: EXTERNAL_ID,
          }),
        ),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('is denied for a role that does not exist, without revealing it', async () => {
      await grantAssume();
      await expect(
        appSession().sts.send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/missing`,
            RoleSessionName: 'KEDA',
          }),
        ),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('rejects more than one hour for a chained role session', async () => {
      await grantAssume();
      await adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 'long',
          Path: '/keda/',
          MaxSessionDuration: 43200,
          AssumeRolePolicyDocument: scalerTrust(A_ROLE),
        }),
      );
      await expect(
        appSession().sts.send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/long`,
            RoleSessionName: 'KEDA',
            ExternalId: EXTERNAL_ID,
            DurationSeconds: 7200,
          }),
        ),
      ).rejects.toMatchObject({
        name: 'ValidationError',
        message:
          'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      });
    });

    it('lets a same-account principal named by the trust assume without an identity policy', async () => {
      const user = standIn.createUser(CLUSTER_ACCOUNT, 'deployer');
      await adminA.iam.send(
        new CreateRoleCommand({
          RoleName: 'deploy',
          AssumeRolePolicyDocument: JSON.stringify({
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: user.arn },
                Action: 'sts:AssumeRole',
              },
            ],
          }),
        }),
      );
      const deployer = clientsFor(standIn.createAccessKey(user.arn));
      await expect(
        deployer.sts.send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/deploy`,
            RoleSessionName: 'ci',
          }),
        ),
      ).resolves.toMatchObject({
        AssumedRoleUser: {
          Arn: `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/deploy/ci`,
        },
      });
    });

    describe('in the same account', () => {
      // Two KEDA operator roles in the cluster account, seeded as sessions.
      const OPERATOR_A = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/keda-operator-a`;
      const OPERATOR_B = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/keda-operator-b`;
      const SESSION_A = `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator-a/sandbox`;
      const SESSION_B = `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator-b/sandbox`;
      const TARGET = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/scaler`;
      const trustNaming = (principal: string) =>
        JSON.stringify({
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: principal },
              Action: 'sts:AssumeRole',
            },
          ],
        });
      const createTarget = (principal: string) =>
        adminA.iam.send(
          new CreateRoleCommand({
            RoleName: 'scaler',
            AssumeRolePolicyDocument: trustNaming(principal),
          }),
        );
      const grant = (roleName: string, document: string) =>
        adminA.iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: 'assume',
            PolicyDocument: document,
          }),
        );
      const assumeAs = (roleArn: string) =>
        clientsFor(standIn.createAccessKey(roleArn)).sts.send(
          new AssumeRoleCommand({ RoleArn: TARGET, RoleSessionName: 'keda' }),
        );
      const deniedFor = (callerArn: string) => ({
        name: 'AccessDenied',
        message: `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${TARGET}`,
      });

      beforeEach(async () => {
        for (const name of ['keda-operator-a', 'keda-operator-b']) {
          await adminA.iam.send(
            new CreateRoleCommand({
              RoleName: name,
              AssumeRolePolicyDocument: trustNaming(CLUSTER_ACCOUNT),
            }),
          );
        }
      });

      it('denies a role the trust does not name, although its identity policy allows sts:AssumeRole', async () => {
        await createTarget(OPERATOR_A);
        await grant('keda-operator-b', allowDoc('sts:AssumeRole', TARGET));
        await expect(assumeAs(OPERATOR_B)).rejects.toMatchObject(
          deniedFor(SESSION_B),
        );
        // The role the trust names needs no identity policy in its own account.
        await expect(assumeAs(OPERATOR_A)).resolves.toMatchObject({
          AssumedRoleUser: {
            Arn: `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/scaler/keda`,
          },
        });
      });

      it.each([
        ['the account root ARN', `arn:aws:iam::${CLUSTER_ACCOUNT}:root`],
        ['the account id', CLUSTER_ACCOUNT],
      ])(
        'with a trust naming %s, lets any role of the account with an identity Allow assume it',
        async (_name, principal) => {
          await createTarget(principal);
          await expect(assumeAs(OPERATOR_B)).rejects.toMatchObject(
            deniedFor(SESSION_B),
          );
          await grant('keda-operator-b', allowDoc('sts:AssumeRole', TARGET));
          await expect(assumeAs(OPERATOR_B)).resolves.toMatchObject({
            AssumedRoleUser: {
              Arn: `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/scaler/keda`,
            },
          });
          // Still nothing for the role without the identity Allow.
          await expect(assumeAs(OPERATOR_A)).rejects.toMatchObject(
            deniedFor(SESSION_A),
          );
        },
      );

      it.each([
        ['the account root', `arn:aws:iam::${CLUSTER_ACCOUNT}:root`],
        ['the caller role itself', OPERATOR_B],
      ])(
        'lets an explicit Deny in the caller identity policy win over a trust naming %s',
        async (_name, principal) => {
          await createTarget(principal);
          await grant(
            'keda-operator-b',
            JSON.stringify({
              Statement: [
                { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
                { Effect: 'Deny', Action: 'sts:AssumeRole', Resource: TARGET },
              ],
            }),
          );
          await expect(assumeAs(OPERATOR_B)).rejects.toMatchObject(
            deniedFor(SESSION_B),
          );
        },
      );
    });

    it('needs sts:TagSession in the trust to pass session tags, which then act as principal tags', async () => {
      await grantAssume();
      await adminA.iam.send(
        new PutRolePolicyCommand({
          RoleName: 'app',
          PolicyName: 'tag',
          PolicyDocument: allowDoc(
            'sts:TagSession',
            `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/*`,
          ),
        }),
      );
      const trustFor = (actions: string[]) =>
        JSON.stringify({
          Statement: [
            { Effect: 'Allow', Principal: { AWS: A_ROLE }, Action: actions },
          ],
        });
      const tagged = `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/tagged`;
      await adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 'tagged',
          Path: '/keda/',
          AssumeRolePolicyDocument: trustFor(['sts:AssumeRole']),
        }),
      );
      await adminB.iam.send(
        new PutRolePolicyCommand({
          RoleName: 'tagged',
          PolicyName: 'abac',
          PolicyDocument: JSON.stringify({
            Statement: [
              {
                Effect: 'Allow',
                Action: 'iam:GetRole',
                Resource: '*',
                Condition: {
                  StringEquals: { 'aws:PrincipalTag/team': 'platform' },
                },
              },
            ],
          }),
        }),
      );
      const app = appSession();
      const assumeTagged = (team?: string) =>
        app.sts.send(
          new AssumeRoleCommand({
            RoleArn: tagged,
            RoleSessionName: 'KEDA',
            Tags: team ? [{ Key: 'team', Value: team }] : undefined,
          }),
        );
      await expect(assumeTagged('platform')).rejects.toMatchObject({
        name: 'AccessDenied',
        message: `User: arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/app/sandbox is not authorized to perform: sts:TagSession on resource: ${tagged}`,
      });
      await adminB.iam.send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: 'tagged',
          PolicyDocument: trustFor(['sts:AssumeRole', 'sts:TagSession']),
        }),
      );
      const withTag = clientsFor(
        sessionCredentials(await assumeTagged('platform')),
      );
      await expect(
        withTag.iam.send(new GetRoleCommand({ RoleName: 'tagged' })),
      ).resolves.toMatchObject({ Role: { Arn: tagged } });
      const withoutTag = clientsFor(sessionCredentials(await assumeTagged()));
      await expect(
        withoutTag.iam.send(new GetRoleCommand({ RoleName: 'tagged' })),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('refuses root callers like AWS', async () => {
      await expect(
        adminA.sts.send(
          new AssumeRoleCommand({ RoleArn: A_ROLE, RoleSessionName: 'root' }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: 'Roles may not be assumed by root accounts.',
      });
    });
  });

  describe('AssumeRoleWithWebIdentity', () => {
    let anonymous: STSClient;
    const token = (
      claims: Partial<{
        sub: string;
        aud: string;
        iss: string;
        exp: number;
      }> = {},
    ) =>
      fakeServiceAccountToken({
        iss: ISSUER,
        sub: OPERATOR_SUBJECT,
        aud: 'sts.amazonaws.com',
        ...claims,
      });
    const assume = (webToken: string) =>
      anonymous.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/keda-operator`,
          RoleSessionName: 'keda',
          WebIdentityToken: webToken,
        }),
      );

    beforeEach(async () => {
      anonymous = new STSClient({
        endpoint: standIn.url,
        region: REGION,
        maxAttempts: 1,
      });
      await adminA.iam.send(
        new CreateRoleCommand({
          RoleName: 'keda-operator',
          AssumeRolePolicyDocument: operatorTrust(),
        }),
      );
    });
    afterEach(() => anonymous.destroy());

    it('needs an OIDC provider for the issuer in the role account', async () => {
      await expect(assume(token())).rejects.toMatchObject({
        name: 'InvalidIdentityTokenException',
        message: `No OpenIDConnect provider found in your account for ${ISSUER}`,
      });
    });

    describe('with the provider registered', () => {
      beforeEach(async () => {
        await adminA.iam.send(
          new CreateOpenIDConnectProviderCommand({
            Url: ISSUER,
            ClientIDList: ['sts.amazonaws.com'],
          }),
        );
      });

      it('issues a session for the operator service account', async () => {
        const out = await assume(token());
        expect(out).toMatchObject({
          SubjectFromWebIdentityToken: OPERATOR_SUBJECT,
          Audience: 'sts.amazonaws.com',
          AssumedRoleUser: {
            Arn: `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator/keda`,
          },
        });
        const me = await clientsFor(sessionCredentials(out)).sts.send(
          new GetCallerIdentityCommand({}),
        );
        expect(me.Arn).toBe(
          `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator/keda`,
        );
      });

      it('rejects an audience the provider does not list', async () => {
        await expect(
          assume(token({ aud: 'kubernetes.default.svc' })),
        ).rejects.toMatchObject({
          name: 'InvalidIdentityTokenException',
          message: 'Incorrect token audience',
        });
      });

      it('rejects a subject the trust does not name', async () => {
        await expect(
          assume(token({ sub: 'system:serviceaccount:keda:other' })),
        ).rejects.toMatchObject({ name: 'AccessDenied' });
      });

      it('rejects an expired token', async () => {
        await expect(
          assume(token({ exp: Math.floor(now / 1000) - 10 })),
        ).rejects.toMatchObject({ name: 'ExpiredTokenException' });
      });

      describe('with the issuer signing keys registered', () => {
        const signingKey = crypto.generateKeyPairSync('rsa', {
          modulusLength: 2048,
        });
        const otherKey = crypto.generateKeyPairSync('rsa', {
          modulusLength: 2048,
        });
        const signedToken = (
          privateKey: crypto.KeyObject,
          claims: object = {},
        ) => {
          const b64 = (o: object) =>
            Buffer.from(JSON.stringify(o)).toString('base64url');
          const input = `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({
            iss: ISSUER,
            sub: OPERATOR_SUBJECT,
            aud: 'sts.amazonaws.com',
            ...claims,
          })}`;
          return `${input}.${crypto
            .sign('sha256', Buffer.from(input), privateKey)
            .toString('base64url')}`;
        };
        beforeEach(() => {
          standIn.setIssuerKeys(ISSUER, {
            keys: [
              {
                ...signingKey.publicKey.export({ format: 'jwk' }),
                kid: 'k1',
              } as JsonWebKey,
            ],
          });
        });

        it('accepts a token signed by the issuer key', async () => {
          await expect(
            assume(signedToken(signingKey.privateKey)),
          ).resolves.toMatchObject({
            SubjectFromWebIdentityToken: OPERATOR_SUBJECT,
          });
        });

        it('rejects a token signed by another key', async () => {
          await expect(
            assume(signedToken(otherKey.privateKey)),
          ).rejects.toMatchObject({
            name: 'InvalidIdentityTokenException',
            message: expect.stringContaining('could not be validated by AWS'),
          });
        });

        it('rejects a token whose claims were changed after signing', async () => {
          const [header, , signature] = signedToken(
            signingKey.privateKey,
          ).split('.');
          const forged = Buffer.from(
            JSON.stringify({
              iss: ISSUER,
              sub: 'system:serviceaccount:keda:keda-operator',
              aud: 'sts.amazonaws.com',
              extra: 1,
            }),
          ).toString('base64url');
          await expect(
            assume(`${header}.${forged}.${signature}`),
          ).rejects.toMatchObject({ name: 'InvalidIdentityTokenException' });
        });

        it('rejects an unsigned token', async () => {
          await expect(assume(token())).rejects.toMatchObject({
            name: 'InvalidIdentityTokenException',
          });
        });
      });

      it('rejects something that is not a JWT', async () => {
        await expect(assume('not-a-jwt')).rejects.toMatchObject({
          name: 'InvalidIdentityTokenException',
        });
      });
    });
  });
});
