import {
  CreateOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import {
  coreServices,
  createServiceFactory,
  type BackstageCredentials,
} from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import {
  OPERATOR_PERMISSION_POLICY_NAME,
  STS_AUDIENCE,
} from '@keda-self-service/plugin-keda-common';
import {
  decodeIamPolicy,
  KedaAwsClientFactory,
} from '@keda-self-service/plugin-keda-node';
import { KedaPlanner } from './lib/planner';
import { createKedaScalerRoleEnsureAction } from './actions/scalerRoleEnsure';
import { fixedPermissions } from './__testUtils__/permissions';
import {
  DEFAULT_GITHUB_STAND_IN_TOKEN,
  rootCredentialsFor,
  startAwsStandIn,
  startGitHubStandIn,
  type AwsStandIn,
  type GitHubStandIn,
} from '@internal/sandbox';
import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import githubModule from '@backstage/plugin-scaffolder-backend-module-github';
import { scaffolderModuleKeda } from './module';
import {
  startKedaBackend,
  type KedaBackend,
} from './__testUtils__/kedaBackend';
import {
  CLUSTER_ACCOUNT,
  fakePreflight,
  kedaConfigData,
  OIDC_ISSUER,
  OPERATOR_ROLE,
  ORDERS_SCALER_ROLE,
  ORDERS_SCALER_ROLE_ARN,
  QUEUE_ACCOUNT,
  runAction,
  scalerRoleNameOf,
} from './__testUtils__/fixtures';

jest.setTimeout(180_000);

/*
 * The KEDA templates through the REAL scaffolder backend, as one journey:
 * dry run → cluster onboarding → an auto-approved request (and its re-run)
 * → a request needing approval → decommission. Wired: this module,
 * the GitHub module's publish:github:pull-request, a catalog mock with the
 * component and the template, AWS at the sandbox's AWS stand-in (through
 * AWS_ENDPOINT_URL and aws.accounts, as a portal would point at AWS), GitHub
 * at the GitHub stand-in (integrations.github[].apiBaseUrl) and the REAL
 * keda backend plugin in the same backend (its request API, approval flow
 * and permission checks; the requests reaching it are recorded). Approval
 * goes through its route: the keda plugin then starts
 * keda-provision-request itself, as the approver.
 */

const TEMPLATES = path.resolve(__dirname, '../../../templates');
const USER = 'user:default/dana';

function templateEntity(name = 'keda-sqs-autoscaling'): Entity {
  const TEMPLATE_FILE = path.join(TEMPLATES, name, 'template.yaml');
  const entity = yaml.parse(fs.readFileSync(TEMPLATE_FILE, 'utf8'));
  entity.metadata.namespace = 'default';
  entity.metadata.annotations = {
    'backstage.io/managed-by-location': `file:${TEMPLATE_FILE}`,
    'backstage.io/managed-by-origin-location': `file:${TEMPLATE_FILE}`,
  };
  return entity;
}

const ordersWorker: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders-worker',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'orders-worker',
      'backstage.io/kubernetes-namespace': 'orders',
    },
  },
  spec: {
    type: 'service',
    owner: 'group:default/team-orders',
    lifecycle: 'production',
  },
};

const billingWorker: Entity = {
  ...ordersWorker,
  metadata: {
    name: 'billing-worker',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'billing-worker',
      'backstage.io/kubernetes-namespace': 'billing',
    },
  },
  spec: { ...ordersWorker.spec, owner: 'group:default/team-billing' },
};
const BILLING_SCALER_ROLE = scalerRoleNameOf({
  namespace: 'billing',
  workload: { kind: 'Deployment', name: 'billing-worker' },
});

const values = {
  component: 'component:default/orders-worker',
  cluster: 'demo-eks',
  queueUrl: `https://sqs.eu-west-1.amazonaws.com/${QUEUE_ACCOUNT}/orders-queue`,
  workloadKind: 'Deployment',
  minReplicas: 0,
  maxReplicas: 10,
  queueLength: 5,
  activationQueueLength: 0,
  pollingInterval: 30,
  cooldownPeriod: 300,
  scaleOnInFlight: true,
  scaleOnDelayed: false,
  providerMode: 'aws',
};

const APPROVER = 'user:default/priya';
/** a member of team-billing, which owns billing-worker */
const BILLING_USER = 'user:default/ben';

/** The permissions only approvers hold, as the keda permission policy decides. */
const APPROVER_ONLY = ['keda.iam.provision', 'keda.request.approve'];

/**
 * The portal's rule for IAM and approval, as the keda permission policy
 * decides it: only approvers hold keda.iam.provision and
 * keda.request.approve. Everything else is allowed. Records who the
 * scaffolder's actions asked about keda.iam.provision, to prove they ask as
 * the task's initiator (the keda backend asks too, for its own routes;
 * those asks are not recorded).
 */
const iamProvisionAsked: string[] = [];
const approverOnlyIamPermissions = createServiceFactory({
  service: coreServices.permissions,
  deps: { plugin: coreServices.pluginMetadata },
  async factory({ plugin }) {
    const decide = (name: string, credentials: BackstageCredentials) => {
      if (!APPROVER_ONLY.includes(name)) return AuthorizeResult.ALLOW;
      const user =
        (credentials.principal as { userEntityRef?: string }).userEntityRef ??
        '';
      if (name === 'keda.iam.provision' && plugin.getId() === 'scaffolder') {
        iamProvisionAsked.push(user);
      }
      return user === APPROVER ? AuthorizeResult.ALLOW : AuthorizeResult.DENY;
    };
    return {
      authorize: async (
        requests: any[],
        opts: { credentials: BackstageCredentials },
      ) =>
        requests.map(r => ({
          result: decide(r.permission.name, opts.credentials),
        })),
      authorizeConditional: async (
        requests: any[],
        opts: { credentials: BackstageCredentials },
      ) =>
        requests.map(r => ({
          result: decide(r.permission.name, opts.credentials),
        })),
    } as any;
  },
});

const MUTATING_IAM = /^(Create|Put|Update|Tag|Untag|Delete|Attach|Detach)/;

describe('KEDA templates through the real scaffolder backend', () => {
  let aws: AwsStandIn;
  let github: GitHubStandIn;
  let keda: KedaBackend;
  let baseUrl: string;
  let configData: any;
  const previousEndpoint = process.env.AWS_ENDPOINT_URL;

  const iam = (account: string) =>
    new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: rootCredentialsFor(account),
    });

  beforeAll(async () => {
    aws = await startAwsStandIn({ port: 0, logger: () => {} });
    aws.createAccount(CLUSTER_ACCOUNT);
    aws.createAccount(QUEUE_ACCOUNT);
    github = await startGitHubStandIn({ port: 0, logger: { warn: () => {} } });
    github.createRepo('platform', 'gitops', {
      files: { 'README.md': '# GitOps\n' },
    });

    const kedaConfig = kedaConfigData();
    kedaConfig.clusters[0].gitops.repoUrl = `${github.host}?owner=platform&repo=gitops`;
    configData = {
      app: { baseUrl: 'http://localhost:3000' },
      backend: {
        baseUrl: 'http://127.0.0.1',
        listen: { host: '127.0.0.1', port: 0 },
      },
      integrations: {
        github: [
          {
            host: github.host,
            apiBaseUrl: github.apiBaseUrl,
            token: DEFAULT_GITHUB_STAND_IN_TOKEN,
          },
        ],
      },
      aws: {
        accounts: [CLUSTER_ACCOUNT, QUEUE_ACCOUNT].map(accountId => ({
          accountId,
          ...rootCredentialsFor(accountId),
        })),
      },
      keda: kedaConfig,
    };

    // EKS with IRSA: the cluster's OIDC provider is registered in account A.
    // The operator role comes from the onboarding template below.
    await iam(CLUSTER_ACCOUNT).send(
      new CreateOpenIDConnectProviderCommand({
        Url: OIDC_ISSUER,
        ClientIDList: [STS_AUDIENCE],
        ThumbprintList: [],
      }),
    );

    // The SDK's own endpoint override: no code path in the plugins knows the stand-in.
    process.env.AWS_ENDPOINT_URL = aws.url;

    keda = await startKedaBackend({
      config: configData,
      services: [approverOnlyIamPermissions],
      // who is in which group, for the keda backend's ownership rule
      memberships: {
        [USER]: ['group:default/team-orders'],
        [BILLING_USER]: ['group:default/team-billing'],
        [APPROVER]: ['group:default/platform-team'],
      },
      entities: [
        ordersWorker,
        billingWorker,
        templateEntity('keda-sqs-autoscaling'),
        templateEntity('keda-cluster-onboarding'),
        templateEntity('keda-sqs-decommission'),
        templateEntity('keda-provision-request'),
      ],
      features: [scaffolderPlugin, githubModule, scaffolderModuleKeda],
    });
    baseUrl = keda.baseUrl;
  });

  afterAll(async () => {
    await keda?.stop();
    await github?.close();
    await aws?.close();
    if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = previousEndpoint;
  });

  async function api(
    method: string,
    route: string,
    body?: unknown,
    user = USER,
  ) {
    const response = await fetch(`${baseUrl}/api/scaffolder${route}`, {
      method,
      headers: {
        Authorization: mockCredentials.user.header(user),
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`${method} ${route}: ${response.status} ${text}`);
    return JSON.parse(text);
  }

  async function runTemplate(
    name = 'keda-sqs-autoscaling',
    templateValues: object = values,
    user = USER,
  ): Promise<{ id: string; output: any }> {
    const { id } = await api(
      'POST',
      '/v2/tasks',
      { templateRef: `template:default/${name}`, values: templateValues },
      user,
    );
    return taskCompleted(id);
  }

  /** Waits for task `id` to complete; its output, or its log as the error. */
  async function taskCompleted(
    id: string,
  ): Promise<{ id: string; output: any; task: any }> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const task = await api('GET', `/v2/tasks/${id}`);
      if (task.status === 'completed') {
        const events = await api('GET', `/v2/tasks/${id}/events`);
        const completion = events.find((e: any) => e.type === 'completion');
        return { id, output: completion.body.output, task };
      }
      if (
        task.status === 'failed' ||
        task.status === 'cancelled' ||
        Date.now() > deadline
      ) {
        const events = await api('GET', `/v2/tasks/${id}/events`);
        const log = events
          .filter((e: any) => e.type === 'log')
          .map((e: any) => `${e.body.stepId ?? ''}: ${e.body.message}`)
          .join('\n');
        throw new Error(`task ${id} ended ${task.status}:\n${log}`);
      }
      await new Promise(r => setTimeout(r, 250));
    }
  }

  const branch = 'keda/demo-eks/orders/orders-worker';
  const dir = 'clusters/demo-eks/orders/orders-worker';

  it('dry run returns the whole plan and calls neither AWS nor GitHub', async () => {
    const awsCallsBefore = aws.requestLog().length;
    const result = await api('POST', '/v2/dry-run', {
      template: templateEntity(),
      values,
      secrets: {},
      directoryContents: [],
    });
    const log = result.log.map((l: any) => l.body.message).join('\n');
    expect(result.steps.map((s: any) => s.id)).toEqual([
      'fetch-component',
      'plan',
      'write',
      'provision',
      'publish',
      'record',
      'provisioned',
    ]);
    const plan = result.output.text.find(
      (t: any) => t.title === 'Plan',
    ).content;
    expect(plan).toContain(
      'KEDA autoscaling for `Deployment/orders-worker` on `demo-eks`',
    );
    expect(plan).toContain(ORDERS_SCALER_ROLE_ARN);
    expect(plan).toContain('"sqs:GetQueueAttributes"');
    // the manifests were written into the dry run's workspace
    const written = result.directoryContents.map((f: any) => f.path);
    expect(written).toEqual(
      expect.arrayContaining([
        `gitops/${dir}/scaledobject.yaml`,
        `gitops/${dir}/triggerauthentication.yaml`,
        `gitops/${dir}/iam-plan.json`,
      ]),
    );
    expect(log).toContain('Dry run: would create or converge');
    expect(aws.requestLog().length).toBe(awsCallsBefore);
    expect(
      github.listPullRequests('platform', 'gitops', { state: 'all' }),
    ).toEqual([]);
    expect(keda.calls()).toEqual([]);
  });

  it('onboards the cluster: operator role in account A and a pull request with the KEDA Helm values', async () => {
    const gitops = `${github.host}?owner=platform&repo=gitops`;
    await expect(
      runTemplate('keda-cluster-onboarding', {
        cluster: 'demo-eks',
        gitopsRepoUrl: gitops,
      }),
    ).rejects.toThrow(
      'Onboarding a cluster creates its KEDA operator role, and only members of the KEDA approver groups',
    );
    const onboarding = await runTemplate(
      'keda-cluster-onboarding',
      { cluster: 'demo-eks', gitopsRepoUrl: gitops },
      APPROVER,
    );

    const { Role } = await iam(CLUSTER_ACCOUNT).send(
      new GetRoleCommand({ RoleName: OPERATOR_ROLE }),
    );
    expect(decodeIamPolicy(Role!.AssumeRolePolicyDocument)).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: {
            Federated: `arn:aws:iam::${CLUSTER_ACCOUNT}:oidc-provider/${OIDC_ISSUER.replace(
              'https://',
              '',
            )}`,
          },
        },
      ],
    });
    const permission = await iam(CLUSTER_ACCOUNT).send(
      new GetRolePolicyCommand({
        RoleName: OPERATOR_ROLE,
        PolicyName: OPERATOR_PERMISSION_POLICY_NAME,
      }),
    );
    expect(decodeIamPolicy(permission.PolicyDocument)).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Resource: expect.arrayContaining([
            `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/keda-sqs-*`,
          ]),
        },
      ],
    });

    const [pull] = github.listPullRequests('platform', 'gitops', {
      head: 'keda/onboard-demo-eks',
    });
    const helmValues = yaml.parse(
      github.getFile(
        'platform',
        'gitops',
        'clusters/demo-eks/keda/values.yaml',
        'keda/onboard-demo-eks',
      )!,
    );
    expect(helmValues).toEqual({
      podIdentity: {
        aws: {
          irsa: {
            enabled: true,
            roleArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${OPERATOR_ROLE}`,
            audience: 'sts.amazonaws.com',
          },
        },
      },
    });
    expect(onboarding.output.links).toEqual([
      { title: 'Pull request', url: pull.html_url },
    ]);
    // the PR is merged; the rest of the journey starts from an onboarded cluster
    await github.mergePullRequest('platform', 'gitops', pull.number);
  });

  it('provisions the scaler role, opens the pull request and records the request; a re-run converges', async () => {
    const first = await runTemplate();

    // GitHub: one ready (auto-approved) pull request with the planned files
    const [pull] = github.listPullRequests('platform', 'gitops', {
      head: branch,
    });
    expect(pull).toMatchObject({
      state: 'open',
      draft: false,
      head: { ref: branch },
    });
    expect(pull.requested_teams.map(t => t.slug)).toEqual(['platform-team']);
    expect(pull.body).toContain('Auto-approved');
    const file = (name: string) =>
      github.getFile('platform', 'gitops', `${dir}/${name}`, branch)!;
    const triggerAuth = yaml.parse(file('triggerauthentication.yaml'));
    const scaledObject = yaml.parse(file('scaledobject.yaml'));
    const iamPlan = JSON.parse(file('iam-plan.json'));
    expect(yaml.parse(file('kustomization.yaml')).resources).toEqual([
      'triggerauthentication.yaml',
      'scaledobject.yaml',
    ]);
    expect(scaledObject.spec.triggers[0].metadata).toMatchObject({
      queueURL: values.queueUrl,
      awsRegion: 'eu-west-1',
      queueLength: '5',
    });
    const externalId = triggerAuth.spec.podIdentity.externalID;
    expect(externalId).toMatch(/^[0-9a-f]{32}$/);

    // AWS: the scaler role holds exactly the documents the pull request shows
    const scaler = iam(QUEUE_ACCOUNT);
    const { Role } = await scaler.send(
      new GetRoleCommand({
        RoleName: ORDERS_SCALER_ROLE,
      }),
    );
    expect(Role!.Arn).toBe(iamPlan.scalerRole.arn);
    expect(Role!.Path).toBe('/keda/');
    expect(decodeIamPolicy(Role!.AssumeRolePolicyDocument)).toEqual(
      iamPlan.scalerRole.trustPolicy,
    );
    expect(
      iamPlan.scalerRole.trustPolicy.Statement[0].Condition.StringEquals[
        'sts:ExternalId'
      ],
    ).toBe(externalId);
    const inline = await scaler.send(
      new GetRolePolicyCommand({
        RoleName: Role!.RoleName,
        PolicyName: 'keda-read-queue-depth',
      }),
    );
    expect(decodeIamPolicy(inline.PolicyDocument)).toEqual(
      iamPlan.scalerRole.permissionPolicy,
    );
    expect(
      Object.fromEntries(Role!.Tags!.map(t => [t.Key, t.Value])),
    ).toMatchObject({
      'backstage.io/managed-by': 'backstage-keda',
      'keda.backstage.io/entity-ref': 'component:default/orders-worker',
      'keda.backstage.io/requested-by': USER,
      'keda.backstage.io/task-id': first.id,
    });

    // keda backend: recorded as the initiator, then reported provisioned
    const [record] = await keda.records({
      entityRef: 'component:default/orders-worker',
    });
    expect(record).toMatchObject({
      state: 'provisioned',
      autoApproved: true,
      pullRequest: { number: pull.number, url: pull.html_url },
      provisioning: { roleArns: { scaler: Role!.Arn } },
    });
    expect(record.requester).toBe(USER);
    expect(record.plan.scalerRole.externalId).toBe(externalId);
    const create = keda
      .calls()
      .find(c => c.method === 'POST' && c.path === '/requests')!;
    expect(create.authorization).toContain(`"obo":"${USER}"`);
    expect(first.output.links).toEqual(
      expect.arrayContaining([
        { title: 'Pull request', url: pull.html_url },
        {
          title: 'KEDA request',
          url: `http://localhost:3000/keda/requests/${record.id}`,
        },
      ]),
    );

    // keda:plan asked the keda backend first, as the initiator
    const preflights = () =>
      keda
        .calls()
        .filter(c => c.method === 'POST' && c.path === '/requests/preflight');
    expect(preflights()).toHaveLength(2);
    expect(preflights()[0].authorization).toContain(`"obo":"${USER}"`);

    // Re-run: the workload keeps its ExternalId (the backend answers it in
    // the preflight); the same pull request and the same role converge
    const second = await runTemplate();
    expect(
      github.listPullRequests('platform', 'gitops', {
        state: 'all',
        head: branch,
      }),
    ).toHaveLength(1);
    const newExternalId = yaml.parse(file('triggerauthentication.yaml')).spec
      .podIdentity.externalID;
    expect(newExternalId).toBe(externalId);
    // keda:plan and the scaler role's ensure each asked, in both runs
    expect(preflights()).toHaveLength(4);
    expect(preflights()[2].body.externalId).toBeUndefined();
    expect(preflights()[3].body.externalId).toBe(externalId);
    // the re-run's request supersedes the first one: one current request
    // per workload
    const orders = await keda.records({
      entityRef: 'component:default/orders-worker',
    });
    expect(orders.map(r => [r.id, r.state])).toEqual([
      [record.id, 'superseded'],
      [orders[1].id, 'provisioned'],
    ]);
    const after = await scaler.send(
      new GetRoleCommand({ RoleName: Role!.RoleName }),
    );
    expect(decodeIamPolicy(after.Role!.AssumeRolePolicyDocument)).toEqual(
      JSON.parse(file('iam-plan.json')).scalerRole.trustPolicy,
    );
    expect(after.Role!.RoleId).toBe(Role!.RoleId);
    expect(
      Object.fromEntries(after.Role!.Tags!.map(t => [t.Key, t.Value]))[
        'keda.backstage.io/task-id'
      ],
    ).toBe(second.id);

    // The same plan again (as a scaffolder retry of the step would run it):
    // the action reads, verifies and makes not one mutating IAM call.
    const logStart = aws.requestLog().length;
    const config = new ConfigReader(configData);
    const factory = KedaAwsClientFactory.fromConfig(config);
    const ensure = createKedaScalerRoleEnsureAction({
      planner: new KedaPlanner({
        config,
        aws: factory,
        requests: fakePreflight({ externalId: newExternalId }).api,
      }),
      aws: factory,
      permissions: fixedPermissions(AuthorizeResult.DENY).service,
    });
    const rerun = await runAction(
      ensure,
      {
        request: orders[1].plan.request as any,
        externalId: newExternalId,
        autoApproved: true,
      },
      { userRef: USER, taskId: second.id },
    );
    expect(rerun.outputs).toMatchObject({
      created: false,
      changes: [],
      verification: { ok: true },
    });
    const calls = aws.requestLog().slice(logStart);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter(c => MUTATING_IAM.test(c.operation))).toEqual([]);
  });

  const billing = {
    ...values,
    component: 'component:default/billing-worker',
    queueUrl: `https://sqs.eu-west-1.amazonaws.com/${QUEUE_ACCOUNT}/billing-queue`,
    maxReplicas: 30,
  };

  it("refuses a run for another team's workload at keda:plan, before any AWS, GitHub or record call", async () => {
    const awsCallsBefore = aws.requestLog().length;
    const kedaCallsBefore = keda.calls().length;
    const pullsBefore = github.listPullRequests('platform', 'gitops', {
      state: 'all',
    }).length;

    await expect(
      runTemplate('keda-sqs-autoscaling', { ...billing, maxReplicas: 10 }),
    ).rejects.toThrow(
      'user:default/dana may not request autoscaling for component:default/billing-worker: it is owned by group:default/team-billing',
    );

    expect(aws.requestLog().length).toBe(awsCallsBefore);
    expect(
      github.listPullRequests('platform', 'gitops', { state: 'all' }),
    ).toHaveLength(pullsBefore);
    // no branch was pushed either
    expect(() =>
      github.getFile(
        'platform',
        'gitops',
        'README.md',
        'keda/demo-eks/billing/billing-worker',
      ),
    ).toThrow("No ref 'keda/demo-eks/billing/billing-worker'");
    // only the preflight reached the keda backend, and it refused (403):
    // nothing was recorded
    expect(
      keda
        .calls()
        .slice(kedaCallsBefore)
        .map(c => `${c.method} ${c.path} ${c.status}`),
    ).toEqual(['POST /requests/preflight 403']);
    expect(
      await keda.records({ entityRef: 'component:default/billing-worker' }),
    ).toEqual([]);
  });

  it('a request that needs approval opens a draft pull request, records it pending and creates no role', async () => {
    const run = await runTemplate(
      'keda-sqs-autoscaling',
      billing,
      BILLING_USER,
    );

    const [pull] = github.listPullRequests('platform', 'gitops', {
      head: 'keda/demo-eks/billing/billing-worker',
    });
    expect(pull.draft).toBe(true);
    expect(pull.body).toContain('maxReplicas 30 is above 20');
    await expect(
      iam(QUEUE_ACCOUNT).send(
        new GetRoleCommand({
          RoleName: BILLING_SCALER_ROLE,
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    const [record] = await keda.records({
      entityRef: 'component:default/billing-worker',
    });
    expect(record).toMatchObject({
      state: 'pending',
      autoApproved: false,
      approvalReasons: [
        'maxReplicas 30 is above 20, the most that is approved automatically',
      ],
      pullRequest: { number: pull.number },
    });
    expect(record.requester).toBe(BILLING_USER);
    const events = await api('GET', `/v2/tasks/${run.id}/events`);
    const skipped = events
      .filter((e: any) => e.body?.status === 'skipped')
      .map((e: any) => e.body.stepId);
    expect(skipped).toEqual(
      expect.arrayContaining(['provision', 'provisioned']),
    );

    // While it waits for approval, the workload takes no second request
    const pulls = github.listPullRequests('platform', 'gitops', {
      state: 'all',
    }).length;
    await expect(
      runTemplate(
        'keda-sqs-autoscaling',
        { ...billing, maxReplicas: 12 },
        BILLING_USER,
      ),
    ).rejects.toThrow(
      `component:default/billing-worker (demo-eks/billing/Deployment/billing-worker) already has request ${record.id} in flight (pending, by ${BILLING_USER})`,
    );
    expect(
      github.listPullRequests('platform', 'gitops', { state: 'all' }),
    ).toHaveLength(pulls);
  });

  it("after approval, the approver's provisioning run creates the role, records it and marks the pull request ready", async () => {
    const [pending] = await keda.records({
      entityRef: 'component:default/billing-worker',
    });
    expect(pending.state).toBe('pending');
    // only an approver may approve
    const denied = await keda.call(
      USER,
      'POST',
      `/requests/${pending.id}/approve`,
      {},
    );
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain(
      "permission 'keda.request.approve' was denied",
    );

    // the keda backend starts keda-provision-request as the approver
    const approved = await keda.call(
      APPROVER,
      'POST',
      `/requests/${pending.id}/approve`,
      { comment: 'ok for billing' },
    );
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe('provisioning');
    const { task } = await taskCompleted(approved.body.provisioning.taskId);
    expect(task.spec.user.ref).toBe(APPROVER);
    expect(task.spec.templateInfo.entityRef).toBe(
      'template:default/keda-provision-request',
    );
    const record = await keda.record(pending.id);

    const { Role } = await iam(QUEUE_ACCOUNT).send(
      new GetRoleCommand({
        RoleName: BILLING_SCALER_ROLE,
      }),
    );
    expect(decodeIamPolicy(Role!.AssumeRolePolicyDocument)).toEqual(
      record.plan.scalerRole.trustPolicy,
    );
    // the requester stays the requester; the task is the approver's
    expect(
      Object.fromEntries(Role!.Tags!.map(t => [t.Key, t.Value])),
    ).toMatchObject({
      'keda.backstage.io/requested-by': record.requester,
    });
    expect(iamProvisionAsked.at(-1)).toBe(APPROVER);
    expect(record).toMatchObject({
      state: 'provisioned',
      provisioning: { roleArns: { scaler: Role!.Arn } },
    });
    // the task reported as the approver it ran for
    expect(record.decisions.map(d => [d.actor, d.decision])).toEqual([
      [BILLING_USER, 'created'],
      [APPROVER, 'approved'],
      [APPROVER, 'provisioning'],
      [APPROVER, 'provisioned'],
    ]);
    const [pull] = github.listPullRequests('platform', 'gitops', {
      head: 'keda/demo-eks/billing/billing-worker',
    });
    expect(pull.draft).toBe(false);
    const comments = github.state.listComments(
      github.state.repository('platform', 'gitops'),
      pull.number,
    );
    expect(comments.map(c => c.body)).toEqual([
      expect.stringContaining(`Approved and provisioned by ${APPROVER}`),
    ]);
  });

  it("a change to the approved request needs approval again, even inside the guardrails, and leaves the approver's role alone", async () => {
    const [approved] = await keda.records({
      entityRef: 'component:default/billing-worker',
    });
    expect(approved.state).toBe('provisioned');
    const before = await iam(QUEUE_ACCOUNT).send(
      new GetRoleCommand({ RoleName: BILLING_SCALER_ROLE }),
    );
    const logStart = aws.requestLog().length;

    const run = await runTemplate(
      'keda-sqs-autoscaling',
      { ...billing, maxReplicas: 10 },
      BILLING_USER,
    );

    const events = await api('GET', `/v2/tasks/${run.id}/events`);
    const skipped = events
      .filter((e: any) => e.body?.status === 'skipped')
      .map((e: any) => e.body.stepId);
    expect(skipped).toEqual(
      expect.arrayContaining(['provision', 'provisioned']),
    );
    expect(
      aws
        .requestLog()
        .slice(logStart)
        .filter(c => MUTATING_IAM.test(c.operation)),
    ).toEqual([]);
    const after = await iam(QUEUE_ACCOUNT).send(
      new GetRoleCommand({ RoleName: BILLING_SCALER_ROLE }),
    );
    expect(after.Role!.AssumeRolePolicyDocument).toBe(
      before.Role!.AssumeRolePolicyDocument,
    );
    // planned with the workload's ExternalId, recorded as pending
    const triggerAuth = yaml.parse(
      github.getFile(
        'platform',
        'gitops',
        'clusters/demo-eks/billing/billing-worker/triggerauthentication.yaml',
        'keda/demo-eks/billing/billing-worker',
      )!,
    );
    expect(triggerAuth.spec.podIdentity.externalID).toBe(
      approved.plan.scalerRole.externalId,
    );
    const change = (
      await keda.records({ entityRef: 'component:default/billing-worker' })
    ).at(-1)!;
    expect(change).toMatchObject({
      entityRef: 'component:default/billing-worker',
      state: 'pending',
      autoApproved: false,
      approvalReasons: [
        `It changes request ${approved.id}, which ${APPROVER} approved: a change to an approved request needs approval again`,
      ],
    });
    expect(run.output.text[0].content).toContain(
      'a change to an approved request needs approval again',
    );
  });

  it('a crafted template claiming autoApproved cannot provision a plan that needs approval', async () => {
    const crafted = {
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      kind: 'Template',
      metadata: { name: 'crafted', namespace: 'default' },
      spec: {
        owner: 'user:default/dana',
        type: 'service',
        parameters: [],
        steps: [
          {
            id: 'provision',
            name: 'Provision without approval',
            action: 'keda:aws:scaler-role:ensure',
            input: {
              autoApproved: true,
              externalId: '0123456789abcdef0123456789abcdef',
              request: {
                entityRef: 'component:default/billing-worker',
                cluster: 'demo-eks',
                namespace: 'billing',
                workload: { name: 'billing-worker' },
                kubernetesId: 'billing-worker',
                queueUrl: `https://sqs.eu-west-1.amazonaws.com/${QUEUE_ACCOUNT}/billing-queue`,
                maxReplicas: 30,
              },
            },
          },
        ],
      },
    };
    iamProvisionAsked.length = 0;
    const dryRun = (user: string) =>
      api(
        'POST',
        '/v2/dry-run',
        { template: crafted, values: {}, secrets: {}, directoryContents: [] },
        user,
      );
    const messages = (result: any) =>
      result.log.map((l: any) => l.body.message).join('\n');

    const asDeveloper = await dryRun(USER).then(
      messages,
      (e: Error) => e.message,
    );
    expect(asDeveloper).toContain(
      'The recomputed plan needs approval (maxReplicas 30 is above 20, the most that is approved automatically) although the step claims autoApproved: true',
    );
    const asApprover = await dryRun(APPROVER).then(messages);
    expect(asApprover).toContain('Dry run: would create or converge');
    // asked about the person who runs the template, not the scaffolder
    expect(iamProvisionAsked).toEqual([USER, APPROVER]);
  });

  it('decommissions: a pull request removing the merged manifests, then the scaler role is deleted', async () => {
    const [orders] = github.listPullRequests('platform', 'gitops', {
      head: branch,
    });
    await github.mergePullRequest('platform', 'gitops', orders.number);
    expect(
      github.getFile('platform', 'gitops', `${dir}/scaledobject.yaml`),
    ).toBeDefined();

    await runTemplate(
      'keda-sqs-decommission',
      {
        component: 'component:default/orders-worker',
        cluster: 'demo-eks',
        queueUrl: values.queueUrl,
        deleteRoleNow: true,
      },
      APPROVER,
    );

    const removal = `keda/remove/${branch}`;
    const [pull] = github.listPullRequests('platform', 'gitops', {
      head: removal,
    });
    expect(pull.title).toBe('KEDA: stop autoscaling orders-worker on demo-eks');
    for (const name of [
      'scaledobject.yaml',
      'triggerauthentication.yaml',
      'kustomization.yaml',
      'iam-plan.json',
    ]) {
      expect(
        github.getFile('platform', 'gitops', `${dir}/${name}`, removal),
      ).toBeUndefined();
    }
    expect(github.getFile('platform', 'gitops', 'README.md', removal)).toBe(
      '# GitOps\n',
    );
    await expect(
      iam(QUEUE_ACCOUNT).send(
        new GetRoleCommand({
          RoleName: ORDERS_SCALER_ROLE,
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    // the current orders request is decommissioned (the first one was
    // superseded by the re-run); billing's are untouched
    const states = (await keda.records()).map(r => [r.entityRef, r.state]);
    expect(states).toEqual([
      ['component:default/orders-worker', 'superseded'],
      ['component:default/orders-worker', 'decommissioned'],
      ['component:default/billing-worker', 'provisioned'],
      ['component:default/billing-worker', 'pending'],
    ]);
  });
});
