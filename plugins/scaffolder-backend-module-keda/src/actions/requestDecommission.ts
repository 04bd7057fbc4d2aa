import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { examples } from './requestDecommission.examples';

/** Action id of {@link createKedaRequestDecommissionAction}. */
export const KEDA_REQUEST_DECOMMISSION_ACTION_ID = 'keda:request:decommission';

/**
 * `keda:request:decommission`: after the decommission template removed a
 * workload's manifests and scaler role, moves its provisioned (or failed)
 * request records to `decommissioned`, as the task's initiator. Finds them
 * by entity, cluster, namespace and workload; none found is not an error
 * (autoscaling set up before the request records existed).
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
        entityRef: z =>
          z.string().min(1).describe('Entity whose autoscaling was removed'),
        cluster: z => z.string().min(1).describe('Cluster in keda.clusters[]'),
        namespace: z => z.string().min(1).describe('Namespace of the workload'),
        workloadName: z => z.string().min(1).describe('Name of the workload'),
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
      if (ctx.isDryRun) {
        ctx.output('decommissioned', []);
        return;
      }
      const credentials = await ctx.getInitiatorCredentials();
      const { entityRef, cluster, namespace, workloadName } = ctx.input;
      const records = await options.client.list(
        { entityRef, cluster, state: ['provisioned', 'failed'] },
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
