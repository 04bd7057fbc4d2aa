import {
  resolveSafeChildPath,
  type PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  clusterPartition,
  KEDA_ACTION_IDS,
  MANAGED_BY_VALUE,
  ROLE_TAG_KEYS,
  oidcProviderArn,
  STS_AUDIENCE,
} from '@keda-self-service/plugin-keda-common';
import {
  checkOidcProvider,
  checkPodIdentityAgentAddon,
  desiredOperatorRole,
  ensurePodIdentityAssociation,
  reconcileRole,
  type KedaAwsClientFactory,
} from '@keda-self-service/plugin-keda-node';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import yaml from 'yaml';
import type { KedaPlanner } from '../lib/planner';
import {
  checkpointRunner,
  requireIamProvisionPermission,
} from '../lib/provisioning';
import { examples } from './operatorRoleEnsure.examples';

/** Action id of {@link createKedaOperatorRoleEnsureAction}. @public */
export const KEDA_OPERATOR_ROLE_ENSURE_ACTION_ID =
  KEDA_ACTION_IDS.operatorRoleEnsure;

/**
 * The operator's ServiceAccount name the KEDA chart uses when
 * `serviceAccount.operator.name` is not set (chart v2.20: it falls back to
 * `serviceAccount.name`, `keda-operator`).
 */
const CHART_OPERATOR_SERVICE_ACCOUNT = 'keda-operator';

/**
 * KEDA Helm chart values (kedacore/charts `keda/values.yaml`, v2.20) for the
 * operator's AWS identity: `podIdentity.aws.irsa` for IRSA, and the
 * operator's ServiceAccount name (`serviceAccount.operator.name`) when the
 * cluster's is not the chart's `keda-operator` — the IRSA trust's `sub` and
 * an EKS Pod Identity association both name that ServiceAccount, so the
 * chart must create the operator under the same name.
 *
 * @public
 */
export function kedaHelmValues(
  roleArn: string,
  identity: 'irsa' | 'pod-identity',
  operatorServiceAccount: string = CHART_OPERATOR_SERVICE_ACCOUNT,
) {
  const serviceAccount =
    operatorServiceAccount === CHART_OPERATOR_SERVICE_ACCOUNT
      ? {}
      : { serviceAccount: { operator: { name: operatorServiceAccount } } };
  return identity === 'irsa'
    ? {
        podIdentity: {
          aws: { irsa: { enabled: true, roleArn, audience: STS_AUDIENCE } },
        },
        ...serviceAccount,
      }
    : {
        // EKS Pod Identity: the association lives in EKS, the chart only
        // needs the service account it binds.
        podIdentity: { aws: { irsa: { enabled: false } } },
        ...serviceAccount,
      };
}

/**
 * `keda:aws:operator-role:ensure`: onboarding of a cluster. Creates or
 * converges the KEDA operator role in the cluster account (IRSA or Pod
 * Identity trust; permission restricted to `sts:AssumeRole` on scaler roles
 * under `keda.roles.path` in the allowed queue accounts) and outputs the
 * KEDA Helm values. For an EKS Pod Identity cluster it first checks the
 * `eks-pod-identity-agent` add-on (before any change), then binds the
 * operator's service account to the role with a pod identity association
 * (created, or converged when it is ours). Platform team only
 * (`keda.iam.provision`).
 *
 * @public
 */
export function createKedaOperatorRoleEnsureAction(options: {
  planner: KedaPlanner;
  aws: KedaAwsClientFactory;
  permissions: PermissionsService;
}) {
  return createTemplateAction({
    id: KEDA_OPERATOR_ROLE_ENSURE_ACTION_ID,
    description:
      "Creates or converges a cluster's KEDA operator role (account A) and outputs the KEDA Helm values",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        cluster: z =>
          z.string().min(1).describe('Name of the cluster in keda.clusters[]'),
        valuesPath: z =>
          z
            .string()
            .optional()
            .describe(
              'Write the Helm values to this workspace path (e.g. gitops/clusters/demo-eks/keda/values.yaml)',
            ),
      },
      output: {
        roleArn: z => z.string().describe('ARN of the operator role'),
        accountId: z => z.string().describe('The cluster account'),
        oidcIssuer: z =>
          z.string().optional().describe('OIDC issuer the IRSA trust names'),
        created: z =>
          z.boolean().describe('true when this run created the role'),
        changes: z =>
          z
            .array(z.string())
            .describe(
              'Mutating IAM and EKS calls made (empty on a converged re-run)',
            ),
        helmValues: z =>
          z
            .string()
            .describe(
              'KEDA Helm values (YAML) with podIdentity.aws.irsa and, when not keda-operator, serviceAccount.operator.name',
            ),
        trustPolicy: z =>
          z.string().describe('The trust policy applied (JSON)'),
        permissionPolicy: z =>
          z.string().describe('The inline permission policy applied (JSON)'),
        podIdentityAssociationId: z =>
          z
            .string()
            .optional()
            .describe(
              'EKS Pod Identity clusters: id of the association binding the operator service account to the role (not in dry run)',
            ),
        podIdentityAssociationArn: z =>
          z
            .string()
            .optional()
            .describe('EKS Pod Identity clusters: ARN of that association'),
      },
    },
    async handler(ctx) {
      const dryRun = Boolean(ctx.isDryRun);
      await requireIamProvisionPermission({
        permissions: options.permissions,
        credentials: await ctx.getInitiatorCredentials(),
        why: 'Onboarding a cluster creates its KEDA operator role',
      });
      const { spec, config } = await options.planner.resolveCluster(
        ctx.input.cluster,
        { dryRun },
      );
      const podIdentity = spec.identity === 'pod-identity';
      const eksClusterName = config.eks.clusterName ?? config.name;
      if (podIdentity && eksClusterName !== spec.name) {
        // The trust pins aws:RequestTag/eks-cluster-arn, built from the name.
        throw new InputError(
          `keda.clusters[name=${spec.name}].eks.clusterName is '${eksClusterName}', but for identity 'pod-identity' the operator role's trust names the EKS cluster by keda.clusters[].name (eks-cluster-arn session tag); name the cluster '${eksClusterName}' in keda.clusters[] and remove eks.clusterName`,
        );
      }
      const { roles } = options.planner.kedaConfig();
      const operatorRole = options.planner.operatorRole(spec);
      const helmValues = yaml.stringify(
        kedaHelmValues(
          operatorRole.arn,
          spec.identity,
          spec.operator.serviceAccount,
        ),
      );
      ctx.output('roleArn', operatorRole.arn);
      ctx.output('accountId', operatorRole.accountId);
      if (spec.oidcIssuer) ctx.output('oidcIssuer', spec.oidcIssuer);
      ctx.output('helmValues', helmValues);
      ctx.output(
        'trustPolicy',
        JSON.stringify(operatorRole.trustPolicy, null, 2),
      );
      ctx.output(
        'permissionPolicy',
        JSON.stringify(operatorRole.permissionPolicy, null, 2),
      );
      if (ctx.input.valuesPath) {
        let target: string;
        try {
          target = resolveSafeChildPath(
            ctx.workspacePath,
            ctx.input.valuesPath,
          );
        } catch (error) {
          throw new InputError(
            `valuesPath: "${
              ctx.input.valuesPath
            }" must be a relative path inside the workspace (${
              (error as Error).message
            })`,
          );
        }
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.writeFile(target, helmValues, 'utf8');
      }
      const binding = `${spec.operator.namespace}/${spec.operator.serviceAccount}`;
      if (dryRun) {
        if (podIdentity) {
          ctx.logger.info(
            `Dry run: would check the eks-pod-identity-agent add-on of ${eksClusterName} and bind ${binding} to ${operatorRole.arn} with an EKS Pod Identity association`,
          );
        }
        ctx.output('created', false);
        ctx.output('changes', []);
        return;
      }
      const eks = podIdentity
        ? await options.aws.eks(spec.accountId, spec.region)
        : undefined;
      if (eks) {
        // Fail before creating a role no pod could ever get.
        const agent = await checkPodIdentityAgentAddon({
          eks,
          accountId: spec.accountId,
          clusterName: eksClusterName,
        });
        ctx.logger.info(
          agent.source === 'auto-mode'
            ? `EKS cluster ${eksClusterName} runs in EKS Auto Mode, which includes the Pod Identity agent`
            : `EKS cluster ${eksClusterName}: eks-pod-identity-agent add-on ${
                agent.addonVersion ?? ''
              } is ACTIVE`,
        );
      }
      const iam = await options.aws.iam(operatorRole.accountId, {
        partition: clusterPartition(spec),
      });
      if (spec.identity === 'irsa' && spec.oidcIssuer) {
        // Fail before creating a role IRSA could never use.
        await checkOidcProvider({
          iam,
          accountId: spec.accountId,
          providerArn: oidcProviderArn(
            clusterPartition(spec),
            spec.accountId,
            spec.oidcIssuer,
          ),
          audience: STS_AUDIENCE,
        });
      }
      const result = await reconcileRole({
        iam,
        role: desiredOperatorRole(spec, operatorRole, {
          permissionsBoundaryArn: roles.permissionsBoundaryArn,
          tags: roles.tags,
          requester: ctx.user?.ref,
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
          : `${result.arn} already matches; nothing changed`,
      );
      const changes: string[] = [...result.changes];
      if (eks) {
        const association = await ensurePodIdentityAssociation({
          eks,
          accountId: spec.accountId,
          clusterName: eksClusterName,
          namespace: spec.operator.namespace,
          serviceAccount: spec.operator.serviceAccount,
          roleArn: operatorRole.arn,
          tags: {
            ...roles.tags,
            [ROLE_TAG_KEYS.managedBy]: MANAGED_BY_VALUE,
            [ROLE_TAG_KEYS.cluster]: spec.name,
          },
          // One token per task: a retried task cannot create a second one.
          clientRequestToken: crypto
            .createHash('sha256')
            .update(`${ctx.task.id}/${eksClusterName}/${binding}`)
            .digest('hex')
            .slice(0, 32),
          runEffect: checkpointRunner(ctx),
        });
        ctx.logger.info(
          `EKS Pod Identity association ${association.associationId} (${binding} → ${operatorRole.arn}): ${association.outcome}`,
        );
        ctx.output('podIdentityAssociationId', association.associationId);
        ctx.output('podIdentityAssociationArn', association.associationArn);
        changes.push(...association.changes);
      }
      ctx.output('created', result.created);
      ctx.output('changes', changes);
    },
  });
}
