/*
 * The child process of the crash-between-effects suite (#16 item 3): a
 * backend with the REAL keda plugin on an on-disk SQLite database, and a
 * stand-in for the scaffolder that runs the steps of
 * templates/keda-sqs-autoscaling with the REAL action handlers (keda:plan,
 * keda:manifests:write, keda:aws:scaler-role:ensure, Backstage's
 * publish:github:pull-request, keda:request:record, keda:request:progress)
 * against the AWS and GitHub stand-ins. The test kills it with SIGKILL at a
 * boundary between two effects and starts it again on the same data
 * directory.
 *
 * Like the scaffolder, it keeps its tasks' states on disk (tasks.json) and
 * serves them on /api/scaffolder/v2/tasks/:id, which the keda plugin's
 * approval reconciler reads. A task that was still running when the process
 * died is, on the next start, either
 *
 * - `fail`: failed, as the scaffolder's stale-task janitor does
 *   (`scaffolder.taskTimeout`; the requester then runs the template again), or
 * - `resume`: run again from its first step under the same task id, as the
 *   scaffolder does with `scaffolder.taskRecovery.enabled: true` (the task
 *   is reopened and claimed again) — once the test has looked at the world
 *   the crash left (message `resume`).
 *
 * Started with `node --require @backstage/cli/config/nodeTransform.cjs
 * crashRunner.ts <setup.json> <fail|resume>` over an IPC channel
 * (child_process.fork).
 */
import {
  coreServices,
  createBackendPlugin,
  createServiceFactory,
  type LoggerService,
  type SchedulerService,
} from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { startLocalTestBackend } from '@internal/test-backend';
import {
  DefaultGithubCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { notificationService } from '@backstage/plugin-notifications-node';
import { createPublishGithubPullRequestAction } from '@backstage/plugin-scaffolder-backend-module-github';
import type { TemplateAction } from '@backstage/plugin-scaffolder-node';
import { KedaAwsClientFactory } from '@keda-self-service/plugin-keda-node';
import {
  createKedaManifestsWriteAction,
  createKedaPlanAction,
  createKedaRequestProgressAction,
  createKedaRequestRecordAction,
  createKedaScalerRoleEnsureAction,
  KedaPlanner,
  KedaRequestsClient,
} from '@keda-self-service/plugin-scaffolder-backend-module-keda';
import Router from 'express-promise-router';
import knexFactory from 'knex';
import fs from 'node:fs';
import path from 'node:path';
import { kedaPlugin } from '../../plugin';
import {
  membershipUserInfo,
  policyPermissions,
} from '../../requests/__testUtils__/policyPermissions';
import {
  componentEntity,
  portalConfigData,
  REQUESTER,
  type AutoscalingValues,
  type ChildMessage,
  type CrashRunnerSetup,
  type ParentMessage,
} from './crashWorld';

interface TaskState {
  status: 'processing' | 'completed' | 'failed';
  error?: string;
  values?: AutoscalingValues;
}

const send = (message: ChildMessage) => process.send?.(message);

class TaskFile {
  constructor(private readonly file: string) {}

  read(): Record<string, TaskState> {
    return fs.existsSync(this.file)
      ? JSON.parse(fs.readFileSync(this.file, 'utf8'))
      : {};
  }

  set(id: string, state: TaskState) {
    const tasks = this.read();
    tasks[id] = state;
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(tasks, null, 2));
    fs.renameSync(tmp, this.file);
  }

  /** The tasks a dead process left running. */
  stale(): Array<[string, TaskState]> {
    return Object.entries(this.read()).filter(
      ([, t]) => t.status === 'processing',
    );
  }
}

function fileLogger(file: string, prefix = ''): LoggerService {
  const write = (level: string) => (message: string, meta?: unknown) =>
    fs.appendFileSync(
      file,
      `${level} ${prefix}${message}${
        meta && typeof meta === 'object' && Object.keys(meta).length
          ? ` ${JSON.stringify(meta)}`
          : ''
      }\n`,
    );
  return {
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    debug: () => {},
    child: (meta: Record<string, unknown>) =>
      fileLogger(file, `${prefix}[${Object.values(meta).join(' ')}] `),
  };
}

async function main() {
  const setup: CrashRunnerSetup = JSON.parse(
    fs.readFileSync(process.argv[2], 'utf8'),
  );
  const configData = portalConfigData(setup);
  const config = new ConfigReader(configData);
  const recovery = process.argv[3] === 'resume' ? 'resume' : 'fail';
  const tasks = new TaskFile(path.join(setup.dataDir, 'tasks.json'));
  const stale = tasks.stale();
  if (recovery === 'fail') {
    for (const [id, task] of stale) {
      tasks.set(id, {
        ...task,
        status: 'failed',
        error:
          'This task was marked as stale as it exceeded its timeout (the backend stopped while it ran)',
      });
    }
  }
  const log = fileLogger(path.join(setup.dataDir, 'runner.log'));

  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(setup.dataDir, 'keda.sqlite') },
    useNullAsDefault: true,
  });

  let scheduler: SchedulerService | undefined;
  let runTemplate:
    | ((taskId: string, values: AutoscalingValues) => Promise<void>)
    | undefined;

  const scaffolderStandIn = createBackendPlugin({
    pluginId: 'scaffolder',
    register(env) {
      env.registerInit({
        deps: {
          httpRouter: coreServices.httpRouter,
          httpAuth: coreServices.httpAuth,
          auth: coreServices.auth,
          discovery: coreServices.discovery,
          permissions: coreServices.permissions,
          scheduler: coreServices.scheduler,
        },
        async init({
          httpRouter,
          httpAuth,
          auth,
          discovery: discoveryService,
          permissions,
          scheduler: pluginScheduler,
        }) {
          scheduler = pluginScheduler;
          const router = Router();
          router.get('/v2/tasks/:id', async (req, res) => {
            await httpAuth.credentials(req);
            const task = tasks.read()[req.params.id];
            if (!task) res.status(404).json({});
            else res.json({ id: req.params.id, status: task.status });
          });
          router.get('/v2/tasks/:id/events', async (req, res) => {
            await httpAuth.credentials(req);
            const task = tasks.read()[req.params.id];
            res.json(
              task?.status === 'failed'
                ? [
                    {
                      type: 'completion',
                      body: {
                        message: `Run failed with Error: ${task.error}`,
                        error: { message: task.error },
                      },
                    },
                  ]
                : [],
            );
          });
          httpRouter.use(router);

          // The actions, wired as the keda scaffolder module and Backstage's
          // GitHub module wire them.
          const aws = KedaAwsClientFactory.fromConfig(config);
          const client = new KedaRequestsClient({
            discovery: discoveryService,
            auth,
          });
          const planner = new KedaPlanner({
            config,
            aws,
            requests: client,
          });
          const integrations = ScmIntegrations.fromConfig(config);
          const actions = {
            plan: createKedaPlanAction({ planner, aws }),
            write: createKedaManifestsWriteAction(),
            provision: createKedaScalerRoleEnsureAction({
              planner,
              aws,
              permissions,
            }),
            publish: createPublishGithubPullRequestAction({
              integrations,
              githubCredentialsProvider:
                DefaultGithubCredentialsProvider.fromIntegrations(integrations),
            }),
            record: createKedaRequestRecordAction({ client, planner, config }),
            provisioned: createKedaRequestProgressAction({ client }),
          };
          runTemplate = (taskId, values) =>
            runAutoscaling(taskId, values, actions);
        },
      });
    },
  });

  async function step(
    taskId: string,
    workspacePath: string,
    id: string,
    action: TemplateAction<any, any, any>,
    input: Record<string, unknown>,
  ): Promise<Record<string, any>> {
    const outputs: Record<string, any> = {};
    const logger = log.child({ task: taskId, step: id });
    await action.handler({
      input,
      logger,
      workspacePath,
      output: (name: string, value: unknown) => {
        outputs[name] = value;
      },
      createTemporaryDirectory: async () =>
        fs.promises.mkdtemp(path.join(workspacePath, '..', 'tmp-')),
      checkpoint: async ({ fn }: { key: string; fn: () => Promise<any> }) =>
        fn(),
      getInitiatorCredentials: async () => mockCredentials.user(REQUESTER),
      task: { id: taskId },
      user: { ref: REQUESTER },
      templateInfo: {
        entityRef: 'template:default/keda-sqs-autoscaling',
      },
      isDryRun: false,
      signal: new AbortController().signal,
    } as any);
    send({ type: 'step', taskId, step: id });
    return outputs;
  }

  /** templates/keda-sqs-autoscaling, step by step with its expressions. */
  async function runAutoscaling(
    taskId: string,
    values: AutoscalingValues,
    actions: Record<string, TemplateAction<any, any, any>>,
  ) {
    const workspacePath = path.join(
      setup.dataDir,
      'workspaces',
      taskId,
      'workspace',
    );
    fs.mkdirSync(workspacePath, { recursive: true });
    // catalog:fetch: the component's annotations
    const entity = componentEntity(values.component.split('/').pop()!);
    const annotations = entity.metadata.annotations!;
    send({ type: 'step', taskId, step: 'fetch-component' });

    const plan = await step(taskId, workspacePath, 'plan', actions.plan, {
      request: {
        entityRef: values.component,
        cluster: values.cluster,
        namespace: annotations['backstage.io/kubernetes-namespace'],
        workload: {
          kind: values.workloadKind,
          name: annotations['backstage.io/kubernetes-id'],
        },
        kubernetesId: annotations['backstage.io/kubernetes-id'],
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
      },
    });
    await step(taskId, workspacePath, 'write', actions.write, {
      manifests: plan.manifests,
      targetPath: 'gitops',
    });
    let provision: Record<string, any> = {};
    if (plan.autoApproved) {
      provision = await step(
        taskId,
        workspacePath,
        'provision',
        actions.provision,
        {
          request: plan.request,
          externalId: plan.externalId,
          autoApproved: true,
        },
      );
    }
    const publish = await step(
      taskId,
      workspacePath,
      'publish',
      actions.publish,
      {
        repoUrl: plan.gitopsRepoUrl,
        branchName: plan.branchName,
        title: `KEDA: autoscale ${plan.request.workload.name} on ${values.cluster}`,
        description: plan.summary,
        sourcePath: 'gitops',
        teamReviewers: ['platform-team'],
        draft: !plan.autoApproved,
        update: true,
        commitMessage: `KEDA autoscaling for ${values.component}`,
      },
    );
    const record = await step(taskId, workspacePath, 'record', actions.record, {
      request: plan.request,
      externalId: plan.externalId,
      pullRequest: {
        url: publish.remoteUrl,
        number: publish.pullRequestNumber,
        repoUrl: plan.gitopsRepoUrl,
      },
    });
    if (plan.autoApproved) {
      await step(taskId, workspacePath, 'provisioned', actions.provisioned, {
        id: record.id,
        state: 'provisioned',
        roleArns: { scaler: provision.roleArn },
        verification: provision.verification,
      });
    }
  }

  // The scaffolder's steps reach the keda backend through the test's
  // pass-through (where the test holds a call to stop at a boundary); the
  // keda plugin reaches the scaffolder in this backend.
  const { baseUrl } = await startLocalTestBackend({
    config: configData,
    externalPlugins: { keda: `${setup.kedaBaseUrl}/api/keda` },
    services: [
      mockServices.database.factory({ knex }),
      createServiceFactory({
        service: coreServices.permissions,
        deps: {},
        factory: () => policyPermissions(),
      }),
      createServiceFactory({
        service: coreServices.userInfo,
        deps: {},
        factory: () => membershipUserInfo() as any,
      }),
      createServiceFactory({
        service: notificationService,
        deps: {},
        factory: () => ({ send: async () => {} }),
      }),
    ],
    features: [
      kedaPlugin,
      scaffolderStandIn,
      catalogServiceMock.factory({
        entities: setup.components.map(componentEntity),
      }),
    ],
  });

  const run = (taskId: string, values: AutoscalingValues) => {
    tasks.set(taskId, { status: 'processing', values });
    runTemplate!(taskId, values).then(
      () => {
        tasks.set(taskId, { status: 'completed', values });
        send({ type: 'done', taskId, ok: true });
      },
      (error: Error) => {
        tasks.set(taskId, { status: 'failed', error: error.message, values });
        send({ type: 'done', taskId, ok: false, error: error.message });
      },
    );
  };
  // the test went away (finished or killed): so does its child
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'run') {
      run(message.taskId, message.values);
    } else if (message.type === 'resume' && recovery === 'resume') {
      for (const [id, task] of stale) run(id, task.values!);
    } else if (message.type === 'reconcile') {
      // the keda plugin's scheduled job, now instead of in 30 s
      scheduler!
        .triggerTask('keda-requests-provisioning-tasks')
        .then(() => send({ type: 'reconciled' }));
    }
  });
  send({
    type: 'ready',
    baseUrl,
    recovered: stale.map(([id]) => id),
  });
}

main().catch(error => {
  // eslint-disable-next-line no-console
  console.error(error);
  process.exit(1);
});
