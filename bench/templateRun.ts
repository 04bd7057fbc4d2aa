/*
 * The template's AWS work, timed and counted: keda-sqs-autoscaling's steps
 * up to the IAM role (keda:plan → keda:manifests:write →
 * keda:scaler-role:ensure), the real action handlers run in-process against
 * the AWS stand-in, for a first run and a re-run of the same task (which
 * must converge: calls, no change). The cluster is onboarded first
 * (keda:operator-role:ensure), outside the measurement. The GitHub pull
 * request and the scaffolder's own overhead are not part of it.
 */
import { ModuleMocker } from 'jest-mock';
import {
  IRSA_CLUSTER,
  QUEUES,
  WORKLOADS,
  requestFor,
  runAutoscaling,
  runOnboarding,
  startAwsWorld,
  templateActions,
} from '../plugins/scaffolder-backend-module-keda/src/reliability/__testUtils__/awsWorld';

export interface TemplateRunMeasurement {
  /** wall time of the run, ms */
  ms: number;
  /** AWS calls by `service:Operation` */
  calls: Record<string, number>;
  total: number;
  /** calls that changed something (Create*, Put*, Tag*, Update*, Delete*) */
  writes: number;
}

const WRITE = /^(Create|Put|Tag|Untag|Update|Delete|Attach|Detach)/;

export async function measureTemplateRuns(): Promise<{
  first: TemplateRunMeasurement;
  rerun: TemplateRunMeasurement;
}> {
  // The AWS reliability suite's world is test code (Backstage's mock
  // services and the permission fakes call jest.fn): jest's own mock
  // functions, outside Jest.
  const mocker = new ModuleMocker(globalThis);
  (globalThis as any).jest ??= { fn: mocker.fn.bind(mocker) };
  const aws = await startAwsWorld();
  // The SDK's standard endpoint setting, as the portal's start command sets it.
  process.env.AWS_ENDPOINT_URL = aws.url;
  try {
    const actions = templateActions(3);
    await runOnboarding(actions, IRSA_CLUSTER, 'bench-onboarding');
    const request = requestFor(WORKLOADS[0], IRSA_CLUSTER, QUEUES[0], {
      minReplicas: 0,
      maxReplicas: 10,
      queueLength: 5,
    });
    const measure = async (): Promise<TemplateRunMeasurement> => {
      const before = aws.requestLog().length;
      const started = performance.now();
      await runAutoscaling(actions, request, 'bench-task-1');
      const ms = performance.now() - started;
      const log = aws.requestLog();
      if (log.length >= 500) {
        throw new Error(
          'more AWS calls than the stand-in logs (500): cannot count them',
        );
      }
      const calls: Record<string, number> = {};
      for (const r of log.slice(before)) {
        const key = `${r.service}:${r.operation}`;
        calls[key] = (calls[key] ?? 0) + 1;
      }
      const entries = Object.entries(calls);
      return {
        ms,
        calls,
        total: entries.reduce((n, [, c]) => n + c, 0),
        writes: entries
          .filter(([k]) => WRITE.test(k.split(':')[1]))
          .reduce((n, [, c]) => n + c, 0),
      };
    };
    const first = await measure();
    const rerun = await measure();
    return { first, rerun };
  } finally {
    await aws.close();
  }
}

if (require.main === module) {
  measureTemplateRuns().then(
    r => console.log(JSON.stringify(r, null, 1)),
    e => {
      console.error(e);
      process.exit(1);
    },
  );
}
