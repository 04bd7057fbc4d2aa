import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
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
        config: coreServices.rootConfig,
      },
      async init({ policy, config }) {
        policy.setPolicy(KedaPortalPermissionPolicy.fromConfig(config));
      },
    });
  },
});
