/**
 * The portal's permission policy: platform-team approves KEDA requests and
 * provisions IAM; developers may provision only their auto-approved plans.
 *
 * @packageDocumentation
 */
export { permissionModuleKedaPolicy as default } from './module';
export { KedaPortalPermissionPolicy, DEFAULT_APPROVER_GROUPS } from './policy';
