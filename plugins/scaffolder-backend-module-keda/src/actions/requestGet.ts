import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { KEDA_ACTION_IDS } from '@keda-self-service/plugin-keda-common';
import type { JsonObject } from '@backstage/types';
import type { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { examples } from './requestGet.examples';

/** Action id of {@link createKedaRequestGetAction}. @public */
export const KEDA_REQUEST_GET_ACTION_ID = KEDA_ACTION_IDS.requestGet;

/**
 * `keda:request:get`: loads a request record, for the provisioning template
 * the approval starts: the request and its ExternalId feed
 * `keda:aws:scaler-role:ensure`, which re-plans from them server-side.
 *
 * @public
 */
export function createKedaRequestGetAction(options: {
  client: KedaRequestsClient;
}) {
  return createTemplateAction({
    id: KEDA_REQUEST_GET_ACTION_ID,
    description:
      'Loads a KEDA request record (request, ExternalId, state, pull request) from the keda backend',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        id: z => z.string().min(1).describe('Request id'),
      },
      output: {
        id: z => z.string().describe('Request id'),
        state: z => z.string().describe('Current state'),
        entityRef: z => z.string().describe('Entity the request scales'),
        requester: z => z.string().describe('User entity ref of the requester'),
        autoApproved: z =>
          z.boolean().describe('Whether the backend auto-approved it'),
        request: z =>
          z
            .record(z.any())
            .describe(
              'The validated request (input of keda:aws:scaler-role:ensure)',
            ),
        externalId: z =>
          z
            .string()
            .optional()
            .describe('The ExternalId the plan and the pull request use'),
        scalerRoleArn: z => z.string().describe('Planned scaler role ARN'),
        pullRequest: z =>
          z
            .object({
              url: z.string().describe('Web URL'),
              number: z.number().describe('Number'),
              repoUrl: z.string().describe('Repository (scaffolder form)'),
            })
            .optional()
            .describe('The pull request carrying the manifests'),
      },
    },
    async handler(ctx) {
      // A read, so it runs in dry run too: the template editor shows real data.
      const record = await options.client.get(
        ctx.input.id,
        await ctx.getInitiatorCredentials(),
      );
      ctx.output('id', record.id);
      ctx.output('state', record.state);
      ctx.output('entityRef', record.entityRef);
      ctx.output('requester', record.requester);
      ctx.output('autoApproved', record.autoApproved);
      ctx.output('request', record.plan.request as unknown as JsonObject);
      if (record.plan.scalerRole.externalId) {
        ctx.output('externalId', record.plan.scalerRole.externalId);
      }
      ctx.output('scalerRoleArn', record.plan.scalerRole.arn);
      if (record.pullRequest) ctx.output('pullRequest', record.pullRequest);
    },
  });
}
