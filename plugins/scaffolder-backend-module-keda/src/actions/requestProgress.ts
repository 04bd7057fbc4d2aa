import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { KEDA_ACTION_IDS } from '@keda-self-service/plugin-keda-common';
import type { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { verificationSchema } from '../lib/schemas';
import { examples } from './requestProgress.examples';

/** Action id of {@link createKedaRequestProgressAction}. @public */
export const KEDA_REQUEST_PROGRESS_ACTION_ID = KEDA_ACTION_IDS.requestProgress;

/**
 * `keda:request:progress`: reports provisioning progress (provisioning,
 * provisioned with the role ARNs, failed with the error) to the request
 * record, as the task's initiator, with the role chain's verification by
 * `keda:aws:scaler-role:ensure` for the request page.
 *
 * @public
 */
export function createKedaRequestProgressAction(options: {
  client: KedaRequestsClient;
}) {
  return createTemplateAction({
    id: KEDA_REQUEST_PROGRESS_ACTION_ID,
    description:
      'Reports provisioning progress of a KEDA request to the keda backend',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        id: z => z.string().min(1).describe('Request id'),
        state: z =>
          z
            .enum(['provisioning', 'provisioned', 'failed'])
            .describe('The state reached'),
        roleArns: z =>
          z
            .object({
              scaler: z.string().describe('Scaler role ARN'),
              operator: z.string().optional().describe('Operator role ARN'),
            })
            .optional()
            .describe('Roles created or converged (state provisioned)'),
        error: z =>
          z
            .string()
            .optional()
            .describe('Why provisioning failed (state failed)'),
        verification: z =>
          verificationSchema(z)
            .optional()
            .describe(
              "The role chain's verification, the `verification` output of keda:aws:scaler-role:ensure; shown on the request page",
            ),
      },
      output: {
        state: z => z.string().describe('The state the record is in now'),
      },
    },
    async handler(ctx) {
      if (ctx.isDryRun) {
        ctx.output('state', ctx.input.state);
        return;
      }
      const credentials = await ctx.getInitiatorCredentials();
      const state = await ctx.checkpoint({
        key: `progress:${ctx.input.id}:${ctx.input.state}`,
        fn: async () =>
          (
            await options.client.progress(
              ctx.input.id,
              {
                state: ctx.input.state,
                taskId: ctx.task.id,
                roleArns: ctx.input.roleArns,
                error: ctx.input.error,
                verification: ctx.input.verification,
              },
              credentials,
            )
          ).state,
      });
      ctx.logger.info(`Request ${ctx.input.id} is now ${state}`);
      ctx.output('state', state);
    },
  });
}
