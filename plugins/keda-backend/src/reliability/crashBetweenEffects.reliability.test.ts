import {
  CreateOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { mockCredentials } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import {
  MANAGED_BY_VALUE,
  OPERATOR_PERMISSION_POLICY_NAME,
  operatorRoleArn,
  operatorRolePermissionPolicy,
  operatorRoleTrustPolicy,
  plan as planRequest,
  ROLE_TAG_KEYS,
  STS_AUDIENCE,
  type KedaPlan,
  type KedaRequestRecord,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  decodeIamPolicy,
  desiredOperatorRole,
  desiredScalerRole,
  readKedaConfig,
  reconcileRole,
} from '@keda-self-service/plugin-keda-node';
import {
  DEFAULT_GITHUB_STAND_IN_TOKEN,
  reportReliability,
  rootCredentialsFor,
  runs,
  seedFor,
  SeededRandom,
  soak,
  startAwsStandIn,
  startGitHubStandIn,
  type AwsStandIn,
  type GitHubStandIn,
} from '@internal/sandbox';
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  autoscalingValues,
  CLUSTER_ACCOUNT,
  GITOPS,
  NAMESPACE,
  OIDC_ISSUER,
  portalConfigData,
  QUEUE_ACCOUNT,
  REQUESTER,
  type ChildMessage,
  type CrashRunnerSetup,
  type ParentMessage,
} from './__testUtils__/crashWorld';

/*
 * #16 item 3 — crash between effects. The provisioning path of the
 * autoscaling template runs in a REAL child process (crashRunner.ts: the
 * real keda plugin on an on-disk SQLite database, the template's steps with
 * the real action handlers, the AWS and GitHub stand-ins of this process).
 * For each boundary between two effects the child is stopped exactly there
 * — the NEXT call is held: by the AWS stand-in (a stall fault on the next
 * IAM operation) or by the pass-through between the scaffolder steps and the
 * keda backend (the next request API call) — and killed with SIGKILL once
 * the held call has arrived. The world at the crash is checked (the effect
 * before the boundary happened, the one after did not). Then the child is
 * started again on the same data directory: the scaffolder fails the dead
 * task on recovery, the keda plugin's approval reconciler records what it
 * left behind, and the requester runs the template again. The world must
 * then equal the plan: one role per workload with the planned trust, inline
 * policy and tags, one open pull request whose branch holds the planned
 * manifests, one current request (provisioned, with that pull request),
 * nothing in flight, no duplicate and no orphan.
 *
 * How the restarted backend picks the dead task up: `re-run` (the scaffolder
 * fails it, the keda plugin's approval reconciler records that, the
 * requester runs the template again — a new task) or `resume` (the
 * scaffolder runs the same task again from its first step, as with
 * `scaffolder.taskRecovery.enabled`).
 *
 * Test command: the five boundaries once, re-run and resume alternating (5
 * kills); KEDA_SOAK=1: every boundary × both recoveries × 2 rounds on other
 * workloads, in a seeded order (20 kills).
 */

const SEED = seedFor(1616);
const ROUNDS = runs(1, 2);
const HOLD_MS = 10 * 60_000;
/** The ExternalId of a role that existed before its workload's first request. */
const EXTERNAL_ID = '0123456789abcdef0123456789abcdef';

/**
 * How the restarted backend picks up the task that died: `re-run` — the
 * scaffolder fails it (its stale-task janitor), the approval reconciler
 * records that, the requester runs the template again; `resume` — the
 * scaffolder runs the same task again from its first step
 * (`scaffolder.taskRecovery.enabled`).
 */
type Recovery = 're-run' | 'resume';

type Boundary = {
  id: string;
  label: string;
  /** the workload already has a role for another queue (so the run converges it: PutRolePolicy, TagRole) */
  existing: boolean;
  hold:
    | { aws: { operation: string; skip?: number } }
    | { keda: { method: string; path: RegExp } };
};

const BOUNDARIES: Boundary[] = [
  {
    id: 'create-role',
    label: 'after CreateRole',
    existing: false,
    hold: { aws: { operation: 'PutRolePolicy' } },
  },
  {
    id: 'put-role-policy',
    label: 'after PutRolePolicy',
    existing: true,
    hold: { aws: { operation: 'TagRole' } },
  },
  {
    id: 'tag-role',
    label: 'after TagRole',
    existing: true,
    hold: { aws: { operation: 'SimulatePrincipalPolicy' } },
  },
  {
    id: 'pr-push',
    label: 'after the PR push',
    existing: false,
    hold: { keda: { method: 'POST', path: /^\/api\/keda\/requests$/ } },
  },
  {
    id: 'record',
    label: 'after recording',
    existing: false,
    hold: {
      keda: {
        method: 'POST',
        path: /^\/api\/keda\/requests\/[^/]+\/progress$/,
      },
    },
  },
];

/**
 * Between the scaffolder steps and the keda backend: passes every call
 * through to the child's keda plugin, except one it was told to hold —
 * that one it never forwards (the child dies waiting for it).
 */
class KedaPassThrough {
  target = '';
  private server?: http.Server;
  private holding?: {
    method: string;
    path: RegExp;
    arrived: (path: string) => void;
  };
  url = '';

  async start() {
    this.server = http.createServer((req, res) => {
      const hold = this.holding;
      if (hold && req.method === hold.method && hold.path.test(req.url ?? '')) {
        this.holding = undefined;
        hold.arrived(req.url ?? '');
        return; // held until the caller dies
      }
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        const upstream = http.request(
          `${this.target}${req.url}`,
          { method: req.method, headers: req.headers },
          answer => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>(r => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${
      (this.server!.address() as AddressInfo).port
    }`;
  }

  hold(method: string, pathPattern: RegExp): Promise<string> {
    return new Promise(arrived => {
      this.holding = { method, path: pathPattern, arrived };
    });
  }

  async close() {
    this.server?.closeAllConnections();
    await new Promise(r => this.server?.close(r));
  }
}

/** The child process and its messages. */
class Runner {
  private messages: ChildMessage[] = [];
  private waiters: Array<() => void> = [];
  exited = false;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: ChildMessage) => {
      this.messages.push(m);
      this.waiters.splice(0).forEach(w => w());
    });
    child.on('exit', () => {
      this.exited = true;
      this.waiters.splice(0).forEach(w => w());
    });
  }

  static start(setupFile: string, awsUrl: string, recovery: Recovery): Runner {
    const mode = recovery === 'resume' ? 'resume' : 'fail';
    const child = fork(
      path.join(__dirname, '__testUtils__', 'crashRunner.ts'),
      [setupFile, mode],
      {
        execArgv: [
          '--require',
          require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        ],
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: awsUrl,
          // the restarts reuse the compiled code of the first start (Node >= 22.1)
          NODE_COMPILE_CACHE: path.join(
            path.dirname(setupFile),
            'compile-cache',
          ),
        },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      },
    );
    const runner = new Runner(child);
    child.stderr?.on('data', (d: Buffer) => {
      runner.stderr += d.toString();
    });
    return runner;
  }

  stderr = '';

  send(message: ParentMessage) {
    this.child.send(message);
  }

  async next<T extends ChildMessage>(
    match: (m: ChildMessage) => m is T,
    what: string,
  ): Promise<T> {
    for (;;) {
      const index = this.messages.findIndex(match);
      if (index >= 0) return this.messages.splice(index, 1)[0] as T;
      if (this.exited) {
        throw new Error(
          `the runner exited while waiting for ${what}: ${this.stderr.slice(
            -2000,
          )}`,
        );
      }
      await new Promise<void>(r => this.waiters.push(r));
    }
  }

  async kill() {
    if (this.exited) return;
    const exited = new Promise(r => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }
}

const isType =
  <K extends ChildMessage['type']>(type: K, taskId?: string) =>
  (m: ChildMessage): m is Extract<ChildMessage, { type: K }> =>
    m.type === type &&
    (!taskId || (m as { taskId?: string }).taskId === taskId);

describe('reliability: crash between effects', () => {
  let aws: AwsStandIn;
  let github: GitHubStandIn;
  let passThrough: KedaPassThrough;
  let dataDir: string;
  let setupFile: string;
  let runner: Runner | undefined;
  let setup: CrashRunnerSetup;
  const random = new SeededRandom(SEED);

  // Test command: every boundary once, re-run and resume alternating (after
  // CreateRole, TagRole and recording re-run; after PutRolePolicy and the PR
  // push resumed). KEDA_SOAK=1: every boundary × both recoveries × ROUNDS,
  // in a seeded order.
  const cases: Array<{
    boundary: Boundary;
    recovery: Recovery;
    component: string;
  }> = soak()
    ? random.shuffle(
        Array.from({ length: ROUNDS }, (_, round) =>
          BOUNDARIES.flatMap(boundary =>
            (['re-run', 'resume'] as const).map(recovery => ({
              boundary,
              recovery,
              component: `crash-${boundary.id}-${recovery}-${round + 1}`,
            })),
          ),
        ).flat(),
      )
    : BOUNDARIES.map((boundary, i) => {
        const recovery =
          i % 2 === 0 ? ('re-run' as const) : ('resume' as const);
        return {
          boundary,
          recovery,
          component: `crash-${boundary.id}-${recovery}-1`,
        };
      });

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
    github.createRepo(GITOPS.owner, GITOPS.repo, {
      files: { 'README.md': '# GitOps\n' },
    });
    passThrough = new KedaPassThrough();
    await passThrough.start();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-crash-'));
    setup = {
      dataDir,
      awsUrl: aws.url,
      github: {
        host: github.host,
        apiBaseUrl: github.apiBaseUrl,
        token: DEFAULT_GITHUB_STAND_IN_TOKEN,
      },
      kedaBaseUrl: passThrough.url,
      accounts: [CLUSTER_ACCOUNT, QUEUE_ACCOUNT].map(accountId => ({
        accountId,
        ...rootCredentialsFor(accountId),
      })),
      components: cases.map(c => c.component),
    };
    setupFile = path.join(dataDir, 'setup.json');
    fs.writeFileSync(setupFile, JSON.stringify(setup));

    // The onboarded cluster: OIDC provider and KEDA operator role.
    const keda = readKedaConfig(new ConfigReader(portalConfigData(setup)));
    const spec = clusterSpecOf(keda.clusters[0]);
    await iam(CLUSTER_ACCOUNT).send(
      new CreateOpenIDConnectProviderCommand({
        Url: OIDC_ISSUER,
        ClientIDList: [STS_AUDIENCE],
        ThumbprintList: [],
      }),
    );
    await reconcileRole({
      iam: iam(CLUSTER_ACCOUNT),
      role: desiredOperatorRole(spec, {
        name: spec.operator.roleName,
        path: '/',
        arn: operatorRoleArn(spec),
        accountId: CLUSTER_ACCOUNT,
        trustPolicy: operatorRoleTrustPolicy(spec),
        permissionPolicy: operatorRolePermissionPolicy({
          cluster: spec,
          queueAccountIds: keda.guardrails.allowedQueueAccounts,
          scalerRolePath: keda.roles.path,
          scalerRoleNamePrefix: keda.roles.namePrefix,
        }),
        permissionPolicyName: OPERATOR_PERMISSION_POLICY_NAME,
      }),
    });
  });

  afterAll(async () => {
    await runner?.kill();
    await passThrough?.close();
    await github?.close();
    await aws?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The end of the child's log, for a failure message. */
  function runnerLog(): string {
    const file = path.join(dataDir, 'runner.log');
    if (!fs.existsSync(file)) return '';
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    return `\n  runner.log:\n    ${lines.slice(-15).join('\n    ')}`;
  }

  async function startRunner(
    recovery: Recovery = 're-run',
  ): Promise<{ recovered: string[] }> {
    runner = Runner.start(setupFile, aws.url, recovery);
    const ready = await runner.next(isType('ready'), 'the runner to start');
    passThrough.target = ready.baseUrl;
    return { recovered: ready.recovered };
  }

  async function runTemplate(taskId: string, component: string, queue: string) {
    runner!.send({
      type: 'run',
      taskId,
      values: autoscalingValues(component, queue),
    });
    const done = await runner!.next(isType('done', taskId), `task ${taskId}`);
    if (!done.ok) throw new Error(`task ${taskId} failed: ${done.error}`);
  }

  async function requestsOf(component: string): Promise<KedaRequestRecord[]> {
    const res = await fetch(
      `${passThrough.url}/api/keda/requests?entityRef=${encodeURIComponent(
        `component:default/${component}`,
      )}`,
      { headers: { authorization: mockCredentials.user.header(REQUESTER) } },
    );
    if (!res.ok) throw new Error(`GET /requests: ${res.status}`);
    return (await res.json()).items;
  }

  function plannedFor(
    component: string,
    taskId: string,
    queue: string,
    externalId: string | undefined,
  ): KedaPlan {
    const keda = readKedaConfig(new ConfigReader(portalConfigData(setup)));
    const values = autoscalingValues(component, queue);
    return planRequest({
      request: {
        entityRef: values.component,
        cluster: values.cluster,
        namespace: NAMESPACE,
        workload: { kind: 'Deployment', name: component },
        kubernetesId: component,
        queueUrl: values.queueUrl,
        minReplicas: values.minReplicas,
        maxReplicas: values.maxReplicas,
        queueLength: values.queueLength,
        activationQueueLength: values.activationQueueLength,
        pollingInterval: values.pollingInterval,
        cooldownPeriod: values.cooldownPeriod,
        scaleOnInFlight: values.scaleOnInFlight,
        scaleOnDelayed: values.scaleOnDelayed,
        providerMode: values.providerMode,
        requestId: taskId,
      },
      cluster: clusterSpecOf(keda.clusters[0]),
      roles: keda.roles,
      guardrails: keda.guardrails,
      externalId,
    });
  }

  function roleNameOf(component: string): string {
    return plannedFor(component, 'any', 'orders', EXTERNAL_ID).scalerRole.name;
  }

  /** Reads a role as IAM has it: trust, inline policies, tags. */
  async function readRole(name: string) {
    const client = iam(QUEUE_ACCOUNT);
    try {
      const role = (await client.send(new GetRoleCommand({ RoleName: name })))
        .Role!;
      const policyNames =
        (await client.send(new ListRolePoliciesCommand({ RoleName: name })))
          .PolicyNames ?? [];
      const policies: Record<string, unknown> = {};
      for (const policyName of policyNames) {
        policies[policyName] = decodeIamPolicy(
          (
            await client.send(
              new GetRolePolicyCommand({
                RoleName: name,
                PolicyName: policyName,
              }),
            )
          ).PolicyDocument,
        );
      }
      const attached =
        (
          await client.send(
            new ListAttachedRolePoliciesCommand({ RoleName: name }),
          )
        ).AttachedPolicies ?? [];
      return {
        trust: decodeIamPolicy(role.AssumeRolePolicyDocument),
        policies,
        attached: attached.length,
        tags: Object.fromEntries(
          (role.Tags ?? []).map(t => [t.Key!, t.Value ?? '']),
        ),
      };
    } catch (error) {
      if ((error as Error).name === 'NoSuchEntityException') return undefined;
      throw error;
    } finally {
      client.destroy();
    }
  }

  /** What the world looks like for a workload, in words a failure message can show. */
  async function worldOf(component: string, taskId: string, queue: string) {
    const records = await requestsOf(component);
    // one ExternalId per workload, kept by the backend (none recorded yet:
    // the one the role trusts)
    const role = await readRole(roleNameOf(component));
    const externalId =
      records.find(r => r.externalId)?.externalId ??
      /"sts:ExternalId":"([^"]+)"/.exec(JSON.stringify(role?.trust))?.[1];
    const planned = plannedFor(component, taskId, queue, externalId);
    // keda:plan's branchName
    const branch = `keda/${planned.cluster.name}/${planned.request.namespace}/${planned.names.scaledObject}`;
    const pulls = github
      .listPullRequests(GITOPS.owner, GITOPS.repo, { state: 'all' })
      .filter(p => p.head.ref === branch);
    return { planned, role, branch, pulls, records };
  }

  it(
    `converges after a SIGKILL at every boundary between two provisioning effects (seed ${SEED})`,
    async () => {
      const converged: string[] = [];
      const problems: string[] = [];
      const coveredLabels = new Set<string>();
      const details: string[] = [];
      const recoveries = new Set<Recovery>();
      const plannedRoles = new Set<string>();
      const plannedBranches = new Set<string>();
      let duplicates = 0;
      await startRunner();

      for (const { boundary, recovery, component } of cases) {
        const where = `${boundary.label}, ${recovery} (${component}, seed ${SEED})`;
        if (boundary.existing) {
          // The workload's role from an earlier request on another queue (as
          // keda:aws:scaler-role:ensure left it): this run changes its inline
          // policy and tags.
          const earlier = plannedFor(
            component,
            `${component}-earlier`,
            'orders',
            EXTERNAL_ID,
          );
          await reconcileRole({
            iam: iam(QUEUE_ACCOUNT),
            role: desiredScalerRole(earlier, {
              requester: REQUESTER,
              taskId: `${component}-earlier`,
            }),
          });
        }
        const crashed = `${component}-crashed`;
        const queue = 'billing';
        // hold the call after the boundary
        let arrived: Promise<unknown>;
        const waiting = { on: true };
        if ('aws' in boundary.hold) {
          aws.setFaults([
            {
              service: 'iam',
              operation: boundary.hold.aws.operation,
              latencyMs: HOLD_MS,
              times: 1,
            },
          ]);
          arrived = heldCallArrived(aws, waiting);
        } else {
          arrived = passThrough.hold(
            boundary.hold.keda.method,
            boundary.hold.keda.path,
          );
        }
        runner!.send({
          type: 'run',
          taskId: crashed,
          values: autoscalingValues(component, queue),
        });
        const outcome = await Promise.race([
          arrived.then(() => 'held' as const),
          runner!
            .next(isType('done', crashed), `task ${crashed}`)
            .then(d => `done: ${d.ok ? 'ok' : d.error}`),
        ]);
        waiting.on = false;
        if (outcome !== 'held') {
          problems.push(
            `${where}: the run never reached the boundary (${outcome})${runnerLog()}`,
          );
          aws.clearFaults();
          continue;
        }
        await runner!.kill();
        aws.clearFaults();

        // Restart on the same data directory (nothing runs until told).
        const { recovered } = await startRunner(recovery);
        if (!recovered.includes(crashed)) {
          problems.push(
            `${where}: the restarted scaffolder did not recover ${crashed}`,
          );
        }
        // The world at the crash (read before anything runs again): the
        // effect before the boundary happened, the next one did not.
        const atCrash = await worldOf(component, crashed, queue);
        const planPolicy = atCrash.planned.scalerRole.permissionPolicy;
        const policyName = atCrash.planned.scalerRole.permissionPolicyName;
        const hasPlannedPolicy = same(
          atCrash.role?.policies[policyName],
          planPolicy,
        );
        const taggedForCrashed =
          atCrash.role?.tags[ROLE_TAG_KEYS.requestId] === crashed;
        const recorded = atCrash.records.some(r => r.id === crashed);
        const openPull = atCrash.pulls.find(p => p.state === 'open');
        const expectedAtCrash: Record<string, boolean> = {
          'create-role':
            !!atCrash.role && Object.keys(atCrash.role.policies).length === 0,
          'put-role-policy': hasPlannedPolicy && !taggedForCrashed,
          'tag-role': hasPlannedPolicy && taggedForCrashed,
          'pr-push': !!openPull && !recorded,
          record: !!openPull && recorded,
        };
        if (!expectedAtCrash[boundary.id]) {
          problems.push(
            `${where}: the world at the crash is not at the boundary: ${JSON.stringify(
              {
                role: atCrash.role,
                pulls: atCrash.pulls.length,
                records: atCrash.records.map(r => [r.id, r.state]),
              },
            )}`,
          );
        }

        // re-run: the scaffolder failed the dead task; the reconciler records
        // it; the requester runs the template again. resume: the scaffolder
        // runs the dead task again.
        const rerun = recovery === 'resume' ? crashed : `${component}-rerun`;
        try {
          if (recovery === 'resume') {
            runner!.send({ type: 'resume' });
            const done = await runner!.next(
              isType('done', crashed),
              `the resumed task ${crashed}`,
            );
            if (!done.ok)
              throw new Error(`task ${crashed} failed: ${done.error}`);
          } else {
            runner!.send({ type: 'reconcile' });
            await runner!.next(isType('reconciled'), 'the approval reconciler');
            await runTemplate(rerun, component, queue);
          }
        } catch (error) {
          problems.push(
            `${where}: the re-run failed: ${
              (error as Error).message
            }${runnerLog()}`,
          );
          continue;
        }

        // The world must equal the plan of the re-run.
        const after = await worldOf(component, rerun, queue);
        const issues: string[] = [];
        const { scalerRole } = after.planned;
        plannedRoles.add(scalerRole.name);
        plannedBranches.add(after.branch);
        if (!after.role) issues.push('no scaler role');
        else {
          if (!scalerRole.externalId) issues.push('no ExternalId planned');
          if (!same(after.role.trust, scalerRole.trustPolicy)) {
            issues.push(`trust ${JSON.stringify(after.role.trust)}`);
          }
          if (
            !same(Object.keys(after.role.policies), [
              scalerRole.permissionPolicyName,
            ]) ||
            !same(
              after.role.policies[scalerRole.permissionPolicyName],
              scalerRole.permissionPolicy,
            )
          ) {
            issues.push(
              `inline policies ${JSON.stringify(after.role.policies)}`,
            );
          }
          if (after.role.attached) issues.push('attached policies');
          for (const [key, value] of Object.entries(scalerRole.tags)) {
            if (after.role.tags[key] !== value) {
              issues.push(`tag ${key}=${after.role.tags[key] ?? '(missing)'}`);
            }
          }
        }
        const open = after.pulls.filter(p => p.state === 'open');
        if (after.pulls.length !== 1 || open.length !== 1) {
          issues.push(
            `${after.pulls.length} pull requests (${open.length} open)`,
          );
          if (after.pulls.length > 1) duplicates += after.pulls.length - 1;
        }
        for (const file of after.planned.manifests) {
          const content = github.getFile(
            GITOPS.owner,
            GITOPS.repo,
            file.path,
            after.branch,
          );
          if (content === undefined)
            issues.push(`${file.path} not on the branch`);
          else if (
            file.path.endsWith('scaledobject.yaml') &&
            !content.includes(rerun)
          ) {
            issues.push(`${file.path} is not the re-run's`);
          }
        }
        const current = after.records.filter(
          r =>
            r.state !== 'superseded' &&
            r.state !== 'rejected' &&
            r.state !== 'withdrawn',
        );
        if (current.length !== 1) {
          issues.push(
            `${current.length} current requests: ${current
              .map(r => `${r.id} ${r.state}`)
              .join(', ')}`,
          );
          if (current.length > 1) duplicates += current.length - 1;
        } else {
          const [record] = current;
          if (record.state !== 'provisioned')
            issues.push(`request ${record.state}`);
          if (record.pullRequest?.number !== open[0]?.number) {
            issues.push(
              `request names pull request ${record.pullRequest?.number}, the open one is ${open[0]?.number}`,
            );
          }
        }
        const crashedRecord = after.records.find(r => r.id === crashed);
        if (
          recovery === 're-run' &&
          crashedRecord &&
          crashedRecord.state !== 'superseded'
        ) {
          issues.push(
            `the crashed run's request is ${crashedRecord.state}, not superseded`,
          );
        }
        details.push(
          `${boundary.label}, ${recovery}: ${after.records
            .map(r => `${r.id.replace(`${component}-`, '')} ${r.state}`)
            .join(', ')}`,
        );
        if (issues.length > 0) problems.push(`${where}: ${issues.join('; ')}`);
        else converged.push(boundary.label);
        coveredLabels.add(boundary.label);
        recoveries.add(recovery);
      }
      await runner?.kill();

      // Across all workloads: one role per workload, no role or branch nobody planned.
      const roles =
        (await iam(QUEUE_ACCOUNT).send(new ListRolesCommand({}))).Roles ?? [];
      const orphans = roles
        .map(r => r.RoleName!)
        .filter(name => !plannedRoles.has(name));
      const identities = new Map<string, number>();
      for (const { RoleName } of roles) {
        const tags = (await readRole(RoleName!))?.tags ?? {};
        if (tags[ROLE_TAG_KEYS.managedBy] !== MANAGED_BY_VALUE) continue;
        const key = `${tags[ROLE_TAG_KEYS.cluster]}/${
          tags[ROLE_TAG_KEYS.namespace]
        }/${tags[ROLE_TAG_KEYS.workload]}`;
        identities.set(key, (identities.get(key) ?? 0) + 1);
      }
      duplicates += [...identities.values()].reduce(
        (sum, n) => sum + Math.max(0, n - 1),
        0,
      );
      const strayPulls = github
        .listPullRequests(GITOPS.owner, GITOPS.repo, { state: 'all' })
        .filter(p => !plannedBranches.has(p.head.ref));
      orphans.push(
        ...strayPulls.map(p => `pull request #${p.number} (${p.head.ref})`),
      );

      // in the order of the effects
      const covered = BOUNDARIES.map(b => b.label).filter(l =>
        coveredLabels.has(l),
      );
      reportReliability(
        'crash-between-effects',
        `crash between effects: ${covered.length} boundaries (${covered.join(
          ', ',
        )}) (seed ${SEED}), ${cases.length} SIGKILLs of the backend process (${
          cases.filter(c => c.recovery === 're-run').length
        } restarted and run again after the approval reconciler, ${
          cases.filter(c => c.recovery === 'resume').length
        } resumed by the restarted scaffolder), ${
          converged.length
        } converged after restart, ${duplicates} duplicate, ${
          orphans.length
        } orphaned`,
      );
      // eslint-disable-next-line no-console
      console.log(
        `[reliability] crash between effects (seed ${SEED}): the requests of each workload after the restart:\n  ${details.join(
          '\n  ',
        )}`,
      );
      const replay = `(seed ${SEED}; replay with KEDA_SEED=${SEED}${
        soak() ? ' KEDA_SOAK=1' : ''
      })`;
      expect({ replay, problems }).toEqual({ replay, problems: [] });
      expect({ replay, covered, recoveries: [...recoveries].sort() }).toEqual({
        replay,
        covered: BOUNDARIES.map(b => b.label),
        recoveries: ['re-run', 'resume'],
      });
      expect({ replay, duplicates, orphans }).toEqual({
        replay,
        duplicates: 0,
        orphans: [],
      });
      expect({ replay, converged: converged.length }).toEqual({
        replay,
        converged: cases.length,
      });
    },
    soak() ? 1_800_000 : 600_000,
  );
});

/** Resolves once the AWS stand-in's held call has arrived (its `times: 1` rule is used up). */
async function heldCallArrived(aws: AwsStandIn, waiting: { on: boolean }) {
  while (waiting.on && aws.faults().faults.length > 0) {
    await new Promise(r => setTimeout(r, 20));
  }
}

function canonical(d: unknown): unknown {
  if (Array.isArray(d)) return d.map(canonical);
  if (!d || typeof d !== 'object') return d;
  return Object.fromEntries(
    Object.entries(d as Record<string, unknown>)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, v]) => [k, canonical(v)]),
  );
}

/** Equal as JSON documents (key order aside). */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
