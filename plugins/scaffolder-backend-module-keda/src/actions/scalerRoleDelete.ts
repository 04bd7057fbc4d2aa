import type { PermissionsService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  iamRoleArn,
  KEDA_ACTION_IDS,
  kedaRequestSchema,
  parseQueueUrl,
  ROLE_TAG_KEYS,
  scalerRoleName,
  type SqsQueue,
} from '@keda-self-service/plugin-keda-common';
import {
  deleteManagedRole,
  type KedaAwsClientFactory,
} from '@keda-self-service/plugin-keda-node';
import type { KedaPlanner } from '../lib/planner';
import {
  checkpointRunner,
  requireIamProvisionPermission,
} from '../lib/provisioning';
import { examples } from './scalerRoleDelete.examples';

/** Action id of {@link createKedaScalerRoleDeleteAction}. @public */
export const KEDA_SCALER_ROLE_DELETE_ACTION_ID =
  KEDA_ACTION_IDS.scalerRoleDelete;

/**
 * `keda:aws:scaler-role:delete`: decommission. Derives the scaler role from
 * cluster, namespace, workload and queue exactly as planning named it,
 * and deletes it only when it carries our managed-by tag and the tags of
 * that workload. Idempotent: an absent role is success.
 *
 * @public
 */
export function createKedaScalerRoleDeleteAction(options: {
  planner: KedaPlanner;
  aws: KedaAwsClientFactory;
  permissions: PermissionsService;
}) {
  return createTemplateAction({
    id: KEDA_SCALER_ROLE_DELETE_ACTION_ID,
    description:
      'Deletes the KEDA scaler role of a workload (only roles Backstage KEDA manages)',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        cluster: z => z.string().min(1).describe('Cluster in keda.clusters[]'),
        namespace: z => z.string().min(1).describe('Namespace of the workload'),
        workloadKind: z =>
          z
            .enum(['Deployment', 'StatefulSet'])
            .default('Deployment')
            .describe('Kind of the scaled workload (part of the role name)'),
        workloadName: z =>
          z
            .string()
            .min(1)
            .describe('Name of the scaled Deployment/StatefulSet'),
        queueUrl: z =>
          z
            .string()
            .min(1)
            .describe(
              'The SQS queue URL (decides the queue account the role lives in)',
            ),
      },
      output: {
        roleArn: z => z.string().describe('The scaler role'),
        deleted: z => z.boolean().describe('true when this run deleted it'),
        alreadyAbsent: z =>
          z.boolean().describe('true when there was nothing to delete'),
      },
    },
    async handler(ctx) {
      // Before anything else: the same rules the request was planned with,
      // so a malformed value never reaches IAM (bad-input corpus, #16).
      const issues = [
        ['namespace', kedaRequestSchema.shape.namespace, ctx.input.namespace],
        [
          'workloadName',
          kedaRequestSchema.shape.workload.shape.name,
          ctx.input.workloadName,
        ],
      ] as const;
      for (const [field, schema, value] of issues) {
        const result = schema.safeParse(value);
        if (!result.success) {
          throw new InputError(
            `${field}: ${result.error.issues.map(i => i.message).join('; ')}`,
          );
        }
      }
      let queue: SqsQueue;
      try {
        queue = parseQueueUrl(ctx.input.queueUrl);
      } catch (error) {
        throw new InputError(`queueUrl: ${(error as Error).message}`);
      }
      await requireIamProvisionPermission({
        permissions: options.permissions,
        credentials: await ctx.getInitiatorCredentials(),
        why: 'Deleting a scaler role changes IAM',
      });
      const { roles } = options.planner.kedaConfig();
      const { spec } = await options.planner.resolveCluster(ctx.input.cluster, {
        dryRun: true,
      });
      const name = scalerRoleName({
        namePrefix: roles.namePrefix,
        cluster: ctx.input.cluster,
        namespace: ctx.input.namespace,
        workloadKind: ctx.input.workloadKind ?? 'Deployment',
        workloadName: ctx.input.workloadName,
      });
      const arn = iamRoleArn(
        queue.partition,
        queue.accountId,
        roles.path,
        name,
      );
      ctx.output('roleArn', arn);
      if (ctx.isDryRun) {
        ctx.output('deleted', false);
        ctx.output('alreadyAbsent', false);
        return;
      }
      const result = await deleteManagedRole({
        iam: await options.aws.iam(queue.accountId, {
          partition: queue.partition,
        }),
        accountId: queue.accountId,
        roleName: name,
        roleArn: arn,
        expectedTags: {
          [ROLE_TAG_KEYS.cluster]: spec.name,
          [ROLE_TAG_KEYS.namespace]: ctx.input.namespace,
          [ROLE_TAG_KEYS.queueArn]: queue.arn,
        },
        runEffect: checkpointRunner(ctx),
      });
      ctx.logger.info(
        result.alreadyAbsent
          ? `${arn} does not exist; nothing to delete`
          : `Deleted ${arn}`,
      );
      ctx.output('deleted', result.deleted);
      ctx.output('alreadyAbsent', result.alreadyAbsent);
    },
  });
}
