import {
  CreatePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  ListPodIdentityAssociationsCommand,
  UpdatePodIdentityAssociationCommand,
  type EKSClient,
  type PodIdentityAssociation,
} from '@aws-sdk/client-eks';
import { ConflictError, InputError } from '@backstage/errors';
import {
  MANAGED_BY_VALUE,
  ROLE_TAG_KEYS,
} from '@keda-self-service/plugin-keda-common';
import crypto from 'node:crypto';
import { describeAwsError } from './errors';
import type { RoleEffectRunner } from './roleReconcile';

/** The EKS add-on that runs the Pod Identity agent on every node. @public */
export const POD_IDENTITY_AGENT_ADDON = 'eks-pod-identity-agent';

function errorName(error: unknown): string | undefined {
  return error && typeof error === 'object'
    ? (error as { name?: string }).name
    : undefined;
}

/** @public */
export interface PodIdentityAgentStatus {
  /** `addon`: the add-on is ACTIVE; `auto-mode`: EKS Auto Mode runs the agent itself. */
  source: 'addon' | 'auto-mode';
  addonVersion?: string;
}

/**
 * Checks that the cluster runs the EKS Pod Identity agent, without which no
 * pod gets credentials from an association: the `eks-pod-identity-agent`
 * add-on must be ACTIVE (`eks:DescribeAddon`). A cluster without the add-on
 * passes only when it is an EKS Auto Mode cluster (`eks:DescribeCluster`:
 * `computeConfig.enabled`), where the agent is built in. Throws an
 * InputError saying how to install the add-on otherwise. Read-only.
 * @public
 */
export async function checkPodIdentityAgentAddon(options: {
  eks: EKSClient;
  accountId: string;
  clusterName: string;
}): Promise<PodIdentityAgentStatus> {
  const { eks, accountId, clusterName } = options;
  const install = `aws eks create-addon --cluster-name ${clusterName} --addon-name ${POD_IDENTITY_AGENT_ADDON}`;
  let addon;
  try {
    addon = (
      await eks.send(
        new DescribeAddonCommand({
          clusterName,
          addonName: POD_IDENTITY_AGENT_ADDON,
        }),
      )
    ).addon;
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') {
      throw describeAwsError(error, {
        action: 'eks:DescribeAddon',
        resource: `${clusterName}/${POD_IDENTITY_AGENT_ADDON}`,
        accountId,
      });
    }
  }
  if (!addon) {
    let autoMode = false;
    try {
      const out = await eks.send(
        new DescribeClusterCommand({ name: clusterName }),
      );
      autoMode = out.cluster?.computeConfig?.enabled === true;
    } catch (error) {
      throw describeAwsError(error, {
        action: 'eks:DescribeCluster',
        resource: clusterName,
        accountId,
      });
    }
    if (autoMode) return { source: 'auto-mode' };
    throw new InputError(
      `EKS cluster ${clusterName} in account ${accountId} has no ${POD_IDENTITY_AGENT_ADDON} add-on, so no pod can get credentials from an EKS Pod Identity association and KEDA would fail with "awsAccessKeyID not found" (kedacore/keda#6418). Install it (${install}), wait until it is ACTIVE (aws eks describe-addon --cluster-name ${clusterName} --addon-name ${POD_IDENTITY_AGENT_ADDON}), then run onboarding again; or set keda.clusters[].identity to irsa`,
    );
  }
  if (addon.status !== 'ACTIVE') {
    const issues = (addon.health?.issues ?? [])
      .map(i => `${i.code ?? 'issue'}: ${i.message ?? ''}`.trim())
      .join('; ');
    throw new InputError(
      `The ${POD_IDENTITY_AGENT_ADDON} add-on of EKS cluster ${clusterName} in account ${accountId} is ${
        addon.status ?? 'in an unknown state'
      }, not ACTIVE${
        issues ? ` (${issues})` : ''
      }; pods cannot get Pod Identity credentials until it is. Fix the add-on (aws eks describe-addon --cluster-name ${clusterName} --addon-name ${POD_IDENTITY_AGENT_ADDON}) and run onboarding again`,
    );
  }
  return { source: 'addon', addonVersion: addon.addonVersion };
}

/** @public */
export interface PodIdentityAssociationOptions {
  eks: EKSClient;
  /** The cluster account (for error messages). */
  accountId: string;
  /** The EKS cluster's name. */
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  /** The role pods of the service account get (the KEDA operator role). */
  roleArn: string;
  /**
   * Tags of a new association. Ours carry `backstage.io/managed-by` =
   * `backstage-keda` and `keda.backstage.io/cluster` = the cluster's name;
   * only an association with both is ever updated.
   */
  tags: Record<string, string>;
  /**
   * Idempotency token of the create call; default a hash of the cluster,
   * service account and role, so a retried create cannot make a second one.
   */
  clientRequestToken?: string;
  /** Runs each mutating call (e.g. inside a scaffolder checkpoint). */
  runEffect?: RoleEffectRunner;
}

/** @public */
export interface PodIdentityAssociationResult {
  associationId: string;
  associationArn: string;
  /** `created`, `updated` (role changed) or `unchanged`. */
  outcome: 'created' | 'updated' | 'unchanged';
  /** Mutating EKS calls made (empty on a converged re-run). */
  changes: string[];
}

const runDirectly: RoleEffectRunner = (_key, effect) => effect();

function isOurs(
  association: PodIdentityAssociation,
  tags: Record<string, string>,
): boolean {
  const have = association.tags ?? {};
  return (
    !association.ownerArn &&
    have[ROLE_TAG_KEYS.managedBy] === MANAGED_BY_VALUE &&
    have[ROLE_TAG_KEYS.cluster] === tags[ROLE_TAG_KEYS.cluster]
  );
}

/**
 * Makes sure exactly the wanted EKS Pod Identity association binds
 * `<namespace>/<serviceAccount>` of the cluster to `roleArn`, idempotently:
 *
 * - none exists: `eks:CreatePodIdentityAssociation` (tagged, with a client
 *   request token);
 * - one exists with this role: nothing to do;
 * - one exists with another role: `eks:UpdatePodIdentityAssociation` only
 *   when it is ours (our managed-by and cluster tags, not owned by an EKS
 *   add-on); otherwise a ConflictError naming it — another tool or person
 *   manages that binding.
 *
 * EKS allows one association per service account, and the list summary
 * carries no role: the role and tags come from
 * `eks:DescribePodIdentityAssociation`.
 * @public
 */
export async function ensurePodIdentityAssociation(
  options: PodIdentityAssociationOptions,
): Promise<PodIdentityAssociationResult> {
  return ensureAssociation(options, true);
}

async function ensureAssociation(
  options: PodIdentityAssociationOptions,
  retryOnRace: boolean,
): Promise<PodIdentityAssociationResult> {
  const { eks, accountId, clusterName, namespace, serviceAccount, roleArn } =
    options;
  const runEffect = options.runEffect ?? runDirectly;
  const binding = `${namespace}/${serviceAccount}`;
  const where = `EKS cluster ${clusterName} (${binding})`;

  const find = async (): Promise<PodIdentityAssociation | undefined> => {
    let nextToken: string | undefined;
    let id: string | undefined;
    do {
      let out;
      try {
        out = await eks.send(
          new ListPodIdentityAssociationsCommand({
            clusterName,
            namespace,
            serviceAccount,
            ...(nextToken ? { nextToken } : {}),
          }),
        );
      } catch (error) {
        throw describeAwsError(error, {
          action: 'eks:ListPodIdentityAssociations',
          resource: clusterName,
          accountId,
        });
      }
      id = out.associations?.find(
        a => a.namespace === namespace && a.serviceAccount === serviceAccount,
      )?.associationId;
      nextToken = id ? undefined : out.nextToken;
    } while (nextToken);
    if (!id) return undefined;
    try {
      return (
        await eks.send(
          new DescribePodIdentityAssociationCommand({
            clusterName,
            associationId: id,
          }),
        )
      ).association;
    } catch (error) {
      throw describeAwsError(error, {
        action: 'eks:DescribePodIdentityAssociation',
        resource: `${clusterName}/${id}`,
        accountId,
      });
    }
  };

  const result = (
    association: PodIdentityAssociation | undefined,
    outcome: PodIdentityAssociationResult['outcome'],
    changes: string[],
  ): PodIdentityAssociationResult => {
    if (!association?.associationId || !association.associationArn) {
      throw new Error(
        `EKS answered without an association id for ${where}; run the step again`,
      );
    }
    return {
      associationId: association.associationId,
      associationArn: association.associationArn,
      outcome,
      changes,
    };
  };

  const existing = await find();
  if (!existing) {
    const token =
      options.clientRequestToken ??
      crypto
        .createHash('sha256')
        .update(`${accountId}/${clusterName}/${binding}/${roleArn}`)
        .digest('hex')
        .slice(0, 32);
    let created: PodIdentityAssociation | undefined;
    try {
      await runEffect(
        `eks-pod-identity-association-create-${binding}`,
        async () => {
          created = (
            await eks.send(
              new CreatePodIdentityAssociationCommand({
                clusterName,
                namespace,
                serviceAccount,
                roleArn,
                tags: options.tags,
                clientRequestToken: token,
              }),
            )
          ).association;
        },
      );
    } catch (error) {
      if (!retryOnRace || errorName(error) !== 'ResourceInUseException') {
        throw describeAwsError(error, {
          action: 'eks:CreatePodIdentityAssociation',
          resource: `${clusterName}/${binding}`,
          accountId,
        });
      }
      // Someone created it meanwhile: converge on what is there now.
      return ensureAssociation(options, false);
    }
    // A checkpoint replayed from an earlier attempt ran no call: look it up.
    return result(created ?? (await find()), 'created', [
      'eks:CreatePodIdentityAssociation',
    ]);
  }
  if (existing.roleArn === roleArn && !existing.targetRoleArn) {
    return result(existing, 'unchanged', []);
  }
  if (!isOurs(existing, options.tags)) {
    const owner = existing.ownerArn
      ? `owned by ${existing.ownerArn}`
      : `not tagged ${ROLE_TAG_KEYS.managedBy}=${MANAGED_BY_VALUE} for this cluster`;
    throw new ConflictError(
      `${where} already has EKS Pod Identity association ${
        existing.associationId
      } with role ${existing.roleArn}${
        existing.targetRoleArn ? ` (target role ${existing.targetRoleArn})` : ''
      }, ${owner}; it is not ours to change. Point it at ${roleArn} yourself, or delete it (aws eks delete-pod-identity-association --cluster-name ${clusterName} --association-id ${
        existing.associationId
      }) and run onboarding again`,
    );
  }
  if (existing.targetRoleArn) {
    throw new ConflictError(
      `${where}: our EKS Pod Identity association ${existing.associationId} has a target role (${existing.targetRoleArn}), which KEDA's operator identity does not use; delete it (aws eks delete-pod-identity-association --cluster-name ${clusterName} --association-id ${existing.associationId}) and run onboarding again`,
    );
  }
  let updated: PodIdentityAssociation | undefined;
  try {
    await runEffect(
      `eks-pod-identity-association-update-${binding}`,
      async () => {
        updated = (
          await eks.send(
            new UpdatePodIdentityAssociationCommand({
              clusterName,
              associationId: existing.associationId,
              roleArn,
            }),
          )
        ).association;
      },
    );
  } catch (error) {
    throw describeAwsError(error, {
      action: 'eks:UpdatePodIdentityAssociation',
      resource: `${clusterName}/${existing.associationId}`,
      accountId,
    });
  }
  return result(updated ?? existing, 'updated', [
    'eks:UpdatePodIdentityAssociation',
  ]);
}
