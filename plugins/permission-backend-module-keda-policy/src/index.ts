/**
 * The KEDA rules of a permission policy, as pieces an adopter calls from
 * their own policy, and the portal's policy built from them (the module:
 * platform-team approves KEDA requests and provisions IAM; developers may
 * provision only their auto-approved plans).
 *
 * @packageDocumentation
 */
export { permissionModuleKedaPolicy as default } from './module';
export { KedaPortalPermissionPolicy, DEFAULT_APPROVER_GROUPS } from './policy';
export {
  isKedaApprover,
  KEDA_APPROVER_PERMISSIONS,
  KEDA_SELF_SERVICE_IAM_ACTION_ID,
  kedaActionExecuteConditions,
  kedaActionExecuteDecision,
  kedaApproverPermissionDecision,
  kedaCatalogEntityReadConditions,
  kedaCatalogEntityReadDecision,
  kedaPolicyDecision,
  kedaPolicyOptionsFromConfig,
  type KedaActionCriteria,
  type KedaEntityCriteria,
  type KedaPolicyOptions,
} from './rules';
