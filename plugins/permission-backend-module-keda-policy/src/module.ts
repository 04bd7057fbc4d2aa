import { createBackendModule } from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { kedaConfigServiceRef } from '@keda-self-service/plugin-keda-node';
import { KedaPortalPermissionPolicy } from './policy';

/**
 * Installs the portal's permission policy (replaces allow-all).
 * @public
 */
export const permissionModuleKedaPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'keda-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        // the process's keda config, read once (keda-node)
        kedaConfig: kedaConfigServiceRef,
      },
      async init({ policy, kedaConfig }) {
        policy.setPolicy(
          new KedaPortalPermissionPolicy(kedaConfig.approvals().approverGroups),
        );
      },
    });
  },
});
