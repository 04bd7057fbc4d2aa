import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  KEDA_ACTION_IDS,
  kedaRequestPagePath,
  parseKedaRequest,
  pullRequestUrlProblem,
  type CreateKedaRequestBody,
} from '@keda-self-service/plugin-keda-common';
import type { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { withoutBlankFields, type KedaPlanner } from '../lib/planner';
import { kedaRequestInput } from '../lib/schemas';
import { examples } from './requestRecord.examples';

/** Action id of {@link createKedaRequestRecordAction}. @public */
export const KEDA_REQUEST_RECORD_ACTION_ID = KEDA_ACTION_IDS.requestRecord;

/**
 * `keda:request:record`: records the request in the keda backend (which
 * recomputes the plan and decides auto-approval itself) as the task's
 * initiator. Idempotent per task: a re-run returns the existing record.
 *
 * @public
 */
export function createKedaRequestRecordAction(options: {
  client: KedaRequestsClient;
  planner: KedaPlanner;
  config: Config;
}) {
  return createTemplateAction({
    id: KEDA_REQUEST_RECORD_ACTION_ID,
    description:
      'Records a KEDA autoscaling request (with its pull request) in the keda backend; outputs its id, state and page',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        request: z => kedaRequestInput(z),
        externalId: z =>
          z
            .string()
            .optional()
            .describe(
              'The ExternalId the plan step generated (written into the pull request)',
            ),
        pullRequest: z =>
          z
            .object({
              url: z.string().describe('Web URL of the pull request'),
              number: z.number().int().describe('Pull request number'),
              repoUrl: z
                .string()
                .describe(
                  'Repository, scaffolder form github.com?owner=o&repo=r',
                ),
            })
            .optional()
            .describe('The pull request carrying the manifests'),
        idempotencyKey: z =>
          z
            .string()
            .optional()
            .describe(
              'Idempotency key; default: the task id (a re-run returns the same record)',
            ),
      },
      output: {
        id: z => z.string().describe('Request id'),
        state: z =>
          z
            .string()
            .describe('pending, provisioning, ... (see the keda backend)'),
        autoApproved: z =>
          z.boolean().describe('The backend’s own auto-approval decision'),
        approvalReasons: z =>
          z.array(z.string()).describe('Why approval is required'),
        url: z => z.string().describe('The request on the KEDA requests page'),
        created: z =>
          z
            .boolean()
            .describe('false when a re-run found the record of this task'),
      },
    },
    async handler(ctx) {
      const appBaseUrl = options.config
        .getString('app.baseUrl')
        .replace(/\/+$/, '');
      if (ctx.isDryRun) {
        // No call to the backend: plan locally for a plausible answer.
        const { plan } = await options.planner.plan({
          request: ctx.input.request,
          externalId: ctx.input.externalId,
          dryRun: true,
        });
        const auto = !plan.guardrails.approvalRequired;
        ctx.output('id', 'dry-run');
        ctx.output('state', auto ? 'provisioning' : 'pending');
        ctx.output('autoApproved', auto);
        ctx.output(
          'approvalReasons',
          plan.guardrails.reasons.map(r => r.message),
        );
        ctx.output('url', `${appBaseUrl}${kedaRequestPagePath('dry-run')}`);
        ctx.output('created', false);
        return;
      }
      // Field by field here, before the backend is asked (which validates
      // again): a malformed request is refused naming its field even when
      // it is too large for the backend to read (bad-input corpus, #16).
      parseKedaRequest(withoutBlankFields(ctx.input.request));
      const prUrlProblem = pullRequestUrlProblem(ctx.input.pullRequest?.url);
      if (prUrlProblem) {
        throw new InputError(`pullRequest.url: ${prUrlProblem}`);
      }
      const credentials = await ctx.getInitiatorCredentials();
      const { record, created } = await ctx.checkpoint({
        key: `record-request:${ctx.input.idempotencyKey ?? ctx.task.id}`,
        fn: async () => {
          const result = await options.client.create(
            {
              request: withoutBlankFields(
                ctx.input.request,
              ) as CreateKedaRequestBody['request'],
              externalId: ctx.input.externalId,
              pullRequest: ctx.input.pullRequest,
              taskId: ctx.task.id,
              idempotencyKey: ctx.input.idempotencyKey,
            },
            credentials,
          );
          return {
            created: result.created,
            record: {
              id: result.record.id,
              state: result.record.state,
              autoApproved: result.record.autoApproved,
              approvalReasons: result.record.approvalReasons,
            },
          };
        },
      });
      ctx.logger.info(
        `${created ? 'Recorded' : 'Found'} request ${record.id}: ${
          record.state
        }${record.autoApproved ? ' (auto-approved)' : ''}`,
      );
      ctx.output('id', record.id);
      ctx.output('state', record.state);
      ctx.output('autoApproved', record.autoApproved);
      ctx.output('approvalReasons', record.approvalReasons);
      ctx.output('url', `${appBaseUrl}${kedaRequestPagePath(record.id)}`);
      ctx.output('created', created);
    },
  });
}
