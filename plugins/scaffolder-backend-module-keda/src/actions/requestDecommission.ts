import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  KEDA_ACTION_IDS,
  KEDA_CURRENT_STATES,
} from '@keda-self-service/plugin-keda-common';
import type { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { examples } from './requestDecommission.examples';

/** Action id of {@link createKedaRequestDecommissionAction}. @public */
export const KEDA_REQUEST_DECOMMISSION_ACTION_ID =
  KEDA_ACTION_IDS.requestDecommission;

/**
 * `keda:request:decommission`: after the decommission template removed a
 * workload's manifests and scaler role, moves its provisioned (or failed)
 * request records to `decommissioned`, as the task's initiator. The
 * workload comes from the request record (`requestId`, what the template's
 * first step resolved) or, from callers of the earlier form, from entity,
 * cluster, namespace and workload. Every current record of that workload is
 * closed: they all described autoscaling that is now gone. None found is not
 * an error (autoscaling set up before the request records existed, or a
 * re-run after they were closed).
 *
 * @public
 */
export function createKedaRequestDecommissionAction(options: {
  client: KedaRequestsClient;
}) {
  return createTemplateAction({
    id: KEDA_REQUEST_DECOMMISSION_ACTION_ID,
    description:
      'Marks the KEDA requests of a workload decommissioned in the keda backend (after its manifests and role were removed)',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        requestId: z =>
          z
            .string()
            .optional()
            .describe(
              'The request whose autoscaling was removed; its record names entity, cluster, namespace and workload',
            ),
        entityRef: z =>
          z
            .string()
            .optional()
            .describe(
              'Entity whose autoscaling was removed; with requestId it must be the entity of that request',
            ),
        cluster: z =>
          z
            .string()
            .optional()
            .describe('Cluster in keda.clusters[] (without requestId)'),
        namespace: z =>
          z
            .string()
            .optional()
            .describe('Namespace of the workload (without requestId)'),
        workloadName: z =>
          z
            .string()
            .optional()
            .describe('Name of the workload (without requestId)'),
        comment: z =>
          z.string().optional().describe('Why, for the decision log'),
      },
      output: {
        decommissioned: z =>
          z
            .array(z.string())
            .describe('Ids of the requests now decommissioned'),
      },
    },
    async handler(ctx) {
      const given = (value?: string) => value?.trim() || undefined;
      const requestId = given(ctx.input.requestId);
      let target = {
        entityRef: given(ctx.input.entityRef),
        cluster: given(ctx.input.cluster),
        namespace: given(ctx.input.namespace),
        workloadName: given(ctx.input.workloadName),
      };
      if (!requestId) {
        const missing = Object.entries(target)
          .filter(([, value]) => !value)
          .map(([field]) => field);
        if (missing.length > 0) {
          throw new InputError(
            `Give requestId (the request whose autoscaling was removed), or all of entityRef, cluster, namespace and workloadName; missing ${missing.join(
              ', ',
            )}`,
          );
        }
      }
      if (ctx.isDryRun) {
        ctx.output('decommissioned', []);
        return;
      }
      const credentials = await ctx.getInitiatorCredentials();
      if (requestId) {
        const record = await options.client.get(requestId, credentials);
        if (target.entityRef && target.entityRef !== record.entityRef) {
          throw new InputError(
            `requestId: request ${record.id} belongs to ${record.entityRef}, not ${target.entityRef}`,
          );
        }
        target = {
          entityRef: record.entityRef,
          cluster: record.cluster,
          namespace: record.plan.request.namespace,
          workloadName: record.plan.request.workload.name,
        };
      }
      const { entityRef, cluster, namespace, workloadName } = target;
      const records = await options.client.list(
        { entityRef, cluster, state: [...KEDA_CURRENT_STATES] },
        credentials,
      );
      const matching = records.filter(
        r =>
          r.plan.request.namespace === namespace &&
          r.plan.request.workload.name === workloadName,
      );
      const ids: string[] = [];
      for (const record of matching) {
        await ctx.checkpoint({
          key: `decommission:${record.id}`,
          fn: async () => {
            await options.client.decommission(
              record.id,
              { comment: ctx.input.comment },
              credentials,
            );
          },
        });
        ids.push(record.id);
      }
      ctx.logger.info(
        ids.length
          ? `Decommissioned request ${ids.join(', ')}`
          : `No provisioned request of ${namespace}/${workloadName} on ${cluster}; nothing to record`,
      );
      ctx.output('decommissioned', ids);
    },
  });
}
