import type { PermissionsService } from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  clusterPartition,
  KEDA_ACTION_IDS,
} from '@keda-self-service/plugin-keda-common';
import {
  accessAnalyzerClientFor,
  describeChainFailure,
  desiredScalerRole,
  reconcileRole,
  verifyScalerChain,
  type KedaAwsClientFactory,
} from '@keda-self-service/plugin-keda-node';
import type { KedaPlanner } from '../lib/planner';
import {
  checkpointRunner,
  requireIamProvisionPermission,
} from '../lib/provisioning';
import { kedaRequestInput, verificationSchema } from '../lib/schemas';
import { examples } from './scalerRoleEnsure.examples';
import { logVerification } from '../lib/verification';

// A catalog user entity ref: `user:<namespace>/<name>`, with catalog name characters.
const USER_ENTITY_REF = /^user:[A-Za-z0-9-_.]{1,63}\/[A-Za-z0-9-_.]{1,63}$/;

/** Action id of {@link createKedaScalerRoleEnsureAction}. @public */
export const KEDA_SCALER_ROLE_ENSURE_ACTION_ID =
  KEDA_ACTION_IDS.scalerRoleEnsure;

/**
 * `keda:aws:scaler-role:ensure`: creates or converges the scaler role in the
 * queue account, then verifies the chain (keda-node `verifyScalerChain`):
 * `iam:SimulatePrincipalPolicy` on both roles' identity policies, IAM Access
 * Analyzer on the documents and the in-process trust evaluation.
 *
 * SECURITY: it takes the request (and its ExternalId), never IAM documents,
 * and recomputes the plan from the portal's config. `autoApproved: true` is
 * what the permission policy sees to let a requester's own run through;
 * the action does not believe it: before any AWS call it asks the keda
 * backend (preflight, as the initiator) and refuses unless the backend
 * approves automatically too (owner, no request in flight, no change to an
 * approved request) and the ExternalId is the workload's. When the
 * recomputed plan needs approval (or the input does not claim
 * auto-approval, or the backend cannot be asked) the initiator must hold
 * `keda.iam.provision`.
 *
 * @public
 */
export function createKedaScalerRoleEnsureAction(options: {
  planner: KedaPlanner;
  aws: KedaAwsClientFactory;
  permissions: PermissionsService;
}) {
  return createTemplateAction({
    id: KEDA_SCALER_ROLE_ENSURE_ACTION_ID,
    description:
      'Creates or converges the KEDA scaler role in the queue account from the server-side plan, then verifies the role chain',
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
              'The ExternalId of the plan (steps.plan.output.externalId or the stored request); required for KEDA >= 2.20 in provider mode aws',
            ),
        autoApproved: z =>
          z
            .boolean()
            .optional()
            .describe(
              "true in the requester's own run of an auto-approved plan (the permission policy allows the step on it); the action re-checks the guardrails and asks the keda backend (preflight) before any AWS call",
            ),
        requester: z =>
          z
            .string()
            .optional()
            .describe(
              'User entity ref of the original requester (provisioning after approval); default: the task initiator',
            ),
        verify: z =>
          z
            .boolean()
            .optional()
            .describe(
              'Verify the chain after provisioning: iam:SimulatePrincipalPolicy, IAM Access Analyzer, in-process trust evaluation (default true)',
            ),
      },
      output: {
        roleArn: z => z.string().describe('ARN of the scaler role'),
        roleName: z => z.string().describe('Name of the scaler role'),
        accountId: z => z.string().describe('Queue account the role lives in'),
        created: z =>
          z.boolean().describe('true when this run created the role'),
        changes: z =>
          z
            .array(z.string())
            .describe(
              'Mutating IAM calls made (empty on a converged re-run; planned calls in dry run)',
            ),
        verification: z => verificationSchema(z).optional(),
      },
    },
    async handler(ctx) {
      // The requester lands in the role's provenance tag: a user entity ref
      // or nothing (bad-input corpus, #16).
      if (ctx.input.requester && !USER_ENTITY_REF.test(ctx.input.requester)) {
        throw new InputError(
          `requester: ${JSON.stringify(
            ctx.input.requester.slice(0, 80),
          )} is not a user entity ref like user:default/jane.doe (at most 255 characters)`,
        );
      }
      const dryRun = Boolean(ctx.isDryRun);
      // The requester's own run: the keda backend must agree before any
      // AWS call (even eks:DescribeCluster). Dry run never asks it.
      let backendConfirmed = false;
      if (ctx.input.autoApproved === true && !dryRun) {
        const preflight = await options.planner.preflight({
          request: ctx.input.request,
          externalId: ctx.input.externalId,
          credentials: await ctx.getInitiatorCredentials(),
          taskId: ctx.task?.id,
        });
        if (preflight && !preflight.autoApproved) {
          throw new NotAllowedError(
            `autoApproved: the step claims an auto-approved plan, but the keda backend says it needs approval (${
              preflight.approvalReasons.join('; ') || 'no reason given'
            }). The scaler role is created only after a platform engineer approves the request on the KEDA requests page`,
          );
        }
        if (
          preflight?.externalId &&
          preflight.externalId !== ctx.input.externalId
        ) {
          throw new InputError(
            `externalId: ${
              ctx.input.externalId
                ? 'the step’s externalId is not'
                : 'the step has no externalId, but the role must trust'
            } the ExternalId the keda backend keeps for this workload (a workload has one). Run the template again so that keda:plan plans with the workload’s ExternalId`,
          );
        }
        backendConfirmed = Boolean(preflight);
      }
      const { plan } = await options.planner.plan({
        request: ctx.input.request,
        externalId: ctx.input.externalId,
        requester: ctx.input.requester ?? ctx.user?.ref,
        dryRun,
      });
      if (plan.scalerRole.externalId && !ctx.input.externalId) {
        // A fresh id here would differ from the one in the pull request's
        // TriggerAuthentication, and KEDA would be denied.
        throw new InputError(
          'externalId is required for this cluster (KEDA >= 2.20, provider mode aws): pass steps.plan.output.externalId, or the stored request’s externalId',
        );
      }

      const { approvalRequired, reasons } = plan.guardrails;
      if (
        approvalRequired ||
        ctx.input.autoApproved !== true ||
        (!dryRun && !backendConfirmed)
      ) {
        let why = 'The step does not claim an auto-approved plan';
        if (approvalRequired) {
          why = `The recomputed plan needs approval (${reasons
            .map(r => r.message)
            .join('; ')})${
            ctx.input.autoApproved
              ? ' although the step claims autoApproved: true'
              : ''
          }`;
        } else if (ctx.input.autoApproved === true) {
          why =
            'The keda backend’s request API is not configured, so the claimed auto-approval cannot be confirmed';
        }
        await requireIamProvisionPermission({
          permissions: options.permissions,
          credentials: await ctx.getInitiatorCredentials(),
          why,
        });
      }

      ctx.output('roleArn', plan.scalerRole.arn);
      ctx.output('roleName', plan.scalerRole.name);
      ctx.output('accountId', plan.scalerRole.accountId);

      if (dryRun) {
        ctx.logger.info(
          `Dry run: would create or converge ${plan.scalerRole.arn} (trust: ${plan.operatorRole.arn}, inline ${plan.scalerRole.permissionPolicyName})`,
        );
        ctx.output('created', false);
        ctx.output('changes', []);
        return;
      }

      const iam = await options.aws.iam(plan.scalerRole.accountId, {
        partition: plan.queue.partition,
      });
      const result = await reconcileRole({
        iam,
        role: desiredScalerRole(plan, {
          requester: ctx.input.requester ?? ctx.user?.ref,
          taskId: ctx.task.id,
        }),
        adoptUnmanaged: options.planner.adoptExistingRoles(),
        runEffect: checkpointRunner(ctx),
      });
      ctx.logger.info(
        result.changes.length
          ? `${result.created ? 'Created' : 'Converged'} ${
              result.arn
            }: ${result.changes.join(', ')}`
          : `${result.arn} already matches the plan; nothing changed`,
      );
      ctx.output('created', result.created);
      ctx.output('changes', result.changes);

      if (ctx.input.verify === false) return;
      let clusterAccountIam;
      try {
        clusterAccountIam = await options.aws.iam(plan.operatorRole.accountId, {
          partition: clusterPartition(plan.cluster),
        });
      } catch (error) {
        // The operator half needs credentials for the cluster account; the
        // verification reports it as not checked.
        ctx.logger.warn(
          `No IAM client for the cluster account ${plan.operatorRole.accountId}: ${error}`,
        );
      }
      const verification = await verifyScalerChain({
        plan,
        queueAccountIam: iam,
        clusterAccountIam,
        accessAnalyzer: accessAnalyzerClientFor(iam, plan.queue.region),
        accessAnalyzerAccountId: plan.scalerRole.accountId,
      });
      logVerification(ctx.logger, verification);
      ctx.output('verification', verification);
      if (!verification.ok) {
        throw new Error(
          `The scaler role was ${
            result.created ? 'created' : 'converged'
          } but the chain does not work: ${describeChainFailure(verification)}`,
        );
      }
    },
  });
}
