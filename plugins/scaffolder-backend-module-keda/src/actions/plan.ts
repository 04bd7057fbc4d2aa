import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { JsonObject } from '@backstage/types';
import {
  KEDA_ACTION_IDS,
  type KedaRequestPreflight,
} from '@keda-self-service/plugin-keda-common';
import {
  accessAnalyzerClientFor,
  describeChainFailure,
  verifyPlanDocuments,
  type KedaAwsClientFactory,
} from '@keda-self-service/plugin-keda-node';
import type { KedaPlanner } from '../lib/planner';
import {
  kedaRequestInput,
  plannedFilesSchema,
  verificationSchema,
} from '../lib/schemas';
import { logVerification } from '../lib/verification';
import { examples } from './plan.examples';

/** Action id of {@link createKedaPlanAction}. @public */
export const KEDA_PLAN_ACTION_ID = KEDA_ACTION_IDS.plan;

/**
 * `keda:plan`: validates a KEDA request, resolves the cluster and the queue,
 * applies the guardrails and outputs the complete plan from keda-common
 * (role names/ARNs, IAM documents, manifests, summary, approval decision).
 *
 * Before planning it asks the keda backend (`POST /requests/preflight`, as
 * the initiator) whether this person may ask for this workload, whether the
 * workload already has a request in flight, which ExternalId the workload
 * has and whether the backend wants approval: a refusal fails the step
 * before the run creates anything. Otherwise read-only: `eks:DescribeCluster`
 * when a cluster's OIDC issuer is not configured, and for aws-eks the
 * workload's ServiceAccount. Under dry run none of these calls.
 *
 * Then it verifies the planned IAM documents before anything exists
 * (keda-node `verifyPlanDocuments`): IAM Access Analyzer (ValidatePolicy,
 * CheckAccessNotGranted, CheckNoPublicAccess, with the queue account's
 * credentials from `aws`; not under dry run) and the in-process trust
 * evaluation. A failed check fails the step: provisioning would create a
 * role that does not work or admits too much.
 *
 * @public
 */
export function createKedaPlanAction(options: {
  planner: KedaPlanner;
  /** AWS clients for the Access Analyzer checks; without them those checks are a warning */
  aws?: KedaAwsClientFactory;
}) {
  return createTemplateAction({
    id: KEDA_PLAN_ACTION_ID,
    description:
      'Plans KEDA SQS autoscaling: validates the request, applies the guardrails and renders the IAM documents, manifests and summary. Fails listing every blocking problem.',
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
              "Pin the ExternalId (re-runs of the same request); by default the workload's own ExternalId from the keda backend, or a fresh random one for a workload that has none",
            ),
        locateOnly: z =>
          z
            .boolean()
            .optional()
            .describe(
              "Only locate the workload's files and scaler role (decommission): no keda backend preflight (ownership, active request, ExternalId) and no ServiceAccount read. Default false",
            ),
      },
      output: {
        autoApproved: z =>
          z
            .boolean()
            .describe(
              'true when the plan is inside the auto-approve guardrails and the keda backend approves it automatically too',
            ),
        approvalRequired: z =>
          z.boolean().describe('true when a platform engineer must approve'),
        approvalReasons: z =>
          z
            .array(z.string())
            .describe(
              'Why approval is required, from the guardrails and the keda backend (empty when auto-approved)',
            ),
        supersedes: z =>
          z
            .string()
            .optional()
            .describe(
              "Id of the workload's current request, which this one will supersede",
            ),
        owner: z =>
          z
            .string()
            .optional()
            .describe(
              "Owner of the entity, as the keda backend's catalog says",
            ),
        warnings: z =>
          z.array(z.string()).describe('Non-blocking findings worth reading'),
        externalId: z =>
          z
            .string()
            .optional()
            .describe(
              'ExternalId the scaler role trust requires (absent for KEDA < 2.20 and aws-eks)',
            ),
        request: z =>
          z
            .record(z.any())
            .describe(
              'The validated request with defaults applied; pass it to later steps',
            ),
        clusterAccountId: z =>
          z.string().describe('Account A (EKS cluster, KEDA operator role)'),
        queueAccountId: z =>
          z.string().describe('Account B (SQS queue, scaler role)'),
        region: z =>
          z.string().describe('Region of the queue (the trigger awsRegion)'),
        queueArn: z => z.string().describe('ARN of the queue'),
        scalerRoleName: z =>
          z.string().describe('Name of the scaler role in the queue account'),
        scalerRoleArn: z => z.string().describe('ARN of the scaler role'),
        operatorRoleArn: z =>
          z.string().describe("ARN of the cluster's KEDA operator role"),
        oidcIssuerSource: z =>
          z
            .string()
            .describe(
              'Where the OIDC issuer came from: config, eks:DescribeCluster, dry-run placeholder',
            ),
        manifestDirectory: z =>
          z
            .string()
            .describe('Folder of the manifests in the GitOps repository'),
        gitopsRepoUrl: z =>
          z
            .string()
            .optional()
            .describe(
              "The cluster's GitOps repository (repoUrl form), when configured",
            ),
        branchName: z =>
          z.string().describe('Suggested branch for the pull request'),
        manifests: z => plannedFilesSchema(z),
        manifestPaths: z =>
          z
            .array(z.string())
            .describe(
              'Repository paths of the planned files (e.g. filesToDelete on decommission)',
            ),
        summary: z =>
          z
            .string()
            .describe('Markdown summary: pull request body and approval page'),
        plan: z =>
          z
            .record(z.any())
            .describe('The whole plan (keda-common KedaPlan) as JSON'),
        verification: z =>
          verificationSchema(z)
            .optional()
            .describe(
              'Verification of the planned documents before provisioning: IAM Access Analyzer and the in-process trust evaluation (absent with locateOnly)',
            ),
      },
    },
    async handler(ctx) {
      const dryRun = Boolean(ctx.isDryRun);
      // The task id names the request unless the template sets one: the
      // manifests then carry the same id as the recorded request, which is
      // how the entity card links a ScaledObject to its request.
      const input = ctx.input.request as Record<string, unknown>;
      const request =
        input && typeof input === 'object' && !input.requestId && ctx.task?.id
          ? { ...input, requestId: ctx.task.id }
          : ctx.input.request;
      let preflight: KedaRequestPreflight | undefined;
      if (dryRun) {
        ctx.logger.info(
          "Dry run: the keda backend is not asked. Ownership of the entity, the workload's active request and its ExternalId are checked on the real run",
        );
      } else if (ctx.input.locateOnly) {
        ctx.logger.info(
          'Locating the files and the scaler role only: the keda backend is not asked',
        );
      } else if (options.planner.hasRequestsApi()) {
        // Before anything else: a refusal (not an owner, a request in
        // flight) must stop the run before it creates anything.
        preflight = await options.planner.preflight({
          request,
          externalId: ctx.input.externalId,
          credentials: await ctx.getInitiatorCredentials(),
          taskId: ctx.task?.id,
        });
        if (preflight?.supersedes) {
          ctx.logger.info(
            `Supersedes request ${preflight.supersedes.id} (${preflight.supersedes.state}) of this workload`,
          );
        }
      }
      const { plan: result, cluster } = await options.planner.plan({
        request,
        externalId: ctx.input.externalId,
        requester: ctx.user?.ref,
        dryRun,
        preflight,
        checkServiceAccount: !ctx.input.locateOnly,
      });
      const { guardrails } = result;
      for (const warning of guardrails.warnings) {
        ctx.logger.warn(warning.message);
      }
      ctx.logger.info(
        guardrails.approvalRequired
          ? `Plan needs approval: ${guardrails.reasons
              .map(r => r.message)
              .join('; ')}`
          : 'Plan is inside the auto-approve guardrails',
      );

      if (!ctx.input.locateOnly) {
        let accessAnalyzer;
        let accessAnalyzerSkipped: string | undefined;
        if (dryRun) {
          accessAnalyzerSkipped = 'dry run (no AWS calls)';
        } else if (!options.aws) {
          accessAnalyzerSkipped = 'keda:plan has no AWS clients';
        } else {
          try {
            accessAnalyzer = accessAnalyzerClientFor(
              await options.aws.iam(result.scalerRole.accountId, {
                partition: result.queue.partition,
              }),
              result.queue.region,
            );
          } catch (error) {
            accessAnalyzerSkipped = `no credentials for account ${result.scalerRole.accountId} (${error})`;
          }
        }
        const verification = await verifyPlanDocuments({
          plan: result,
          accessAnalyzer,
          accessAnalyzerAccountId: result.scalerRole.accountId,
          accessAnalyzerSkipped,
        });
        logVerification(ctx.logger, verification);
        ctx.output('verification', verification);
        if (!verification.ok) {
          throw new Error(
            `The planned IAM documents fail verification, so nothing is provisioned: ${describeChainFailure(
              verification,
            )}`,
          );
        }
      }

      ctx.output('autoApproved', !guardrails.approvalRequired);
      ctx.output('approvalRequired', guardrails.approvalRequired);
      ctx.output(
        'approvalReasons',
        guardrails.reasons.map(r => r.message),
      );
      ctx.output(
        'warnings',
        guardrails.warnings.map(w => w.message),
      );
      if (preflight?.supersedes) {
        ctx.output('supersedes', preflight.supersedes.id);
      }
      if (preflight?.owner) ctx.output('owner', preflight.owner);
      if (result.scalerRole.externalId) {
        ctx.output('externalId', result.scalerRole.externalId);
      }
      ctx.output('request', result.request as unknown as JsonObject);
      ctx.output('clusterAccountId', result.cluster.accountId);
      ctx.output('queueAccountId', result.queue.accountId);
      ctx.output('region', result.queue.region);
      ctx.output('queueArn', result.queue.arn);
      ctx.output('scalerRoleName', result.scalerRole.name);
      ctx.output('scalerRoleArn', result.scalerRole.arn);
      ctx.output('operatorRoleArn', result.operatorRole.arn);
      ctx.output('oidcIssuerSource', cluster.oidcIssuerSource);
      ctx.output('manifestDirectory', result.manifestDirectory);
      if (result.gitops) ctx.output('gitopsRepoUrl', result.gitops.repoUrl);
      ctx.output(
        'branchName',
        `keda/${result.cluster.name}/${result.request.namespace}/${result.names.scaledObject}`,
      );
      ctx.output('manifests', result.manifests);
      ctx.output(
        'manifestPaths',
        result.manifests.map(f => f.path),
      );
      ctx.output('summary', result.summaryMarkdown);
      ctx.output('plan', result as unknown as JsonObject);
    },
  });
}
