/* eslint-disable no-console */
/**
 * The sandbox command line, run by scripts/start.sh:
 *   node --require @backstage/cli/config/nodeTransform.cjs packages/sandbox/src/cli.ts <command>
 *
 *   start [--data-dir data/sandbox] [--config app-config.yaml ...]
 *       the Kubernetes API serves TLS when the cluster's url is https (as in
 *       app-config.yaml); writes <data-dir>/kubeconfig and <data-dir>/aws-config
 *   reset [--data-dir data/sandbox]          forget all stand-in state
 *   send-messages --queue orders-queue [--count 20]   put messages on a demo queue
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  SQSClient,
  SendMessageBatchCommand,
  GetQueueUrlCommand,
} from '@aws-sdk/client-sqs';
import { loadConfigFiles } from './portalConfig';
import { startSandbox } from './sandbox';
import { DEMO } from './seed';
import { rootCredentialsFor } from './aws';

/** The nearest folder above the working directory with backstage.json. */
function findRepoRoot(): string {
  let dir = process.cwd();
  while (dir !== path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'backstage.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(
    'run the sandbox from inside the portal repository (no backstage.json found above the working directory)',
  );
}
const repoRoot = findRepoRoot();

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'data-dir': {
        type: 'string',
        default: path.join(repoRoot, 'data/sandbox'),
      },
      config: { type: 'string', multiple: true },
      queue: { type: 'string', default: 'orders-queue' },
      count: { type: 'string', default: '20' },
      'aws-endpoint': { type: 'string', default: 'http://127.0.0.1:4566' },
    },
  });
  const command = positionals[0] ?? 'start';
  const dataDir = path.resolve(values['data-dir']!);

  if (command === 'reset') {
    fs.rmSync(dataDir, { recursive: true, force: true });
    console.log(
      `sandbox state removed (${dataDir}); the next start seeds it again`,
    );
    return;
  }

  if (command === 'send-messages') {
    const count = Number(values.count);
    if (!Number.isInteger(count) || count < 1 || count > 10_000) {
      throw new Error(
        `--count must be an integer between 1 and 10000, got '${values.count}'`,
      );
    }
    const sqs = new SQSClient({
      endpoint: values['aws-endpoint'],
      region: DEMO.queueRegion,
      credentials: rootCredentialsFor(DEMO.queueAccountId),
    });
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: values.queue! }),
    );
    for (let sent = 0; sent < count; sent += 10) {
      const batch = Math.min(10, count - sent);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: Array.from({ length: batch }, (_, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify({ demo: true, n: sent + i }),
          })),
        }),
      );
    }
    console.log(`sent ${count} messages to ${values.queue}`);
    return;
  }

  if (command !== 'start') {
    throw new Error(
      `unknown command '${command}': use start, reset or send-messages`,
    );
  }
  const configFiles = (
    values.config?.length
      ? values.config
      : [path.join(repoRoot, 'app-config.yaml')]
  ).map(f => path.resolve(f));
  const sandbox = await startSandbox({
    config: loadConfigFiles(configFiles),
    dataDir,
    logger: m => console.log(m),
  });
  console.log(
    [
      'sandbox ready:',
      `  AWS (IAM, STS, SQS, EKS)  ${sandbox.aws.url}`,
      `  GitHub                    ${sandbox.github.url}  (API ${sandbox.github.apiBaseUrl})`,
      `  Kubernetes (cluster ${sandbox.clusters[0]?.name})  ${sandbox.kubernetes.url}`,
      `  state in ${dataDir}`,
      ...(sandbox.files
        ? [
            `  kubectl: export KUBECONFIG=${sandbox.files.kubeconfig}`,
            `  awscli:  export AWS_CONFIG_FILE=${sandbox.files.awsConfig} AWS_PROFILE=sandbox-${DEMO.queueAccountId}`,
          ]
        : []),
    ].join('\n'),
  );
  const stop = async () => {
    await sandbox.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(e => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
