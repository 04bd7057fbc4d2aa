import { KEDA_ACTION_IDS } from './constants';
import {
  createPermission,
  type BasicPermission,
} from '@backstage/plugin-permission-common';

/**
 * Read the live KEDA scaling status of catalog entities. Checked in addition
 * to catalog read access for the entity itself.
 * @public
 */
export const kedaStatusReadPermission: BasicPermission = createPermission({
  name: 'keda.status.read',
  attributes: { action: 'read' },
});

/**
 * Create a KEDA autoscaling request (the software template records one per run).
 * @public
 */
export const kedaRequestCreatePermission: BasicPermission = createPermission({
  name: 'keda.request.create',
  attributes: { action: 'create' },
});

/**
 * Read KEDA autoscaling requests and their plans.
 * @public
 */
export const kedaRequestReadPermission: BasicPermission = createPermission({
  name: 'keda.request.read',
  attributes: { action: 'read' },
});

/**
 * Approve or reject a KEDA autoscaling request. Granted to the platform team.
 * @public
 */
export const kedaRequestApprovePermission: BasicPermission = createPermission({
  name: 'keda.request.approve',
  attributes: { action: 'update' },
});

/**
 * Create, change or delete IAM roles in AWS accounts for KEDA (scaler roles,
 * the operator role). Granted to the platform team; the requester's own run
 * may provision only when its plan is auto-approved.
 * @public
 */
export const kedaIamProvisionPermission: BasicPermission = createPermission({
  name: 'keda.iam.provision',
  attributes: { action: 'update' },
});

/** @public */
export const kedaPermissions = [
  kedaStatusReadPermission,
  kedaRequestCreatePermission,
  kedaRequestReadPermission,
  kedaRequestApprovePermission,
  kedaIamProvisionPermission,
];

/**
 * Scaffolder action ids that change IAM. The permission policy allows
 * `scaffolder.action.execute` for these only to the platform team, or to the
 * requester when the step's input says the plan was auto-approved.
 * @public
 */
export const KEDA_IAM_ACTION_IDS = [
  KEDA_ACTION_IDS.scalerRoleEnsure,
  KEDA_ACTION_IDS.scalerRoleDelete,
  KEDA_ACTION_IDS.operatorRoleEnsure,
] as const;

/**
 * Label on catalog entities (the platform-only templates) that only the
 * approver groups may read; the permission policy enforces it.
 * @public
 */
export const PLATFORM_ONLY_LABEL = 'keda.backstage.io/platform-only';
