import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import {
  KedaAwsClientFactory,
  kedaConfigServiceRef,
} from '@keda-self-service/plugin-keda-node';
import {
  createKedaGithubPullRequestReadyAction,
  createKedaManifestsWriteAction,
  createKedaOperatorRoleEnsureAction,
  createKedaPlanAction,
  createKedaRequestGetAction,
  createKedaRequestDecommissionAction,
  createKedaRequestDecommissionTargetAction,
  createKedaRequestProgressAction,
  createKedaRequestRecordAction,
  createKedaScalerRoleDeleteAction,
  createKedaScalerRoleEnsureAction,
} from './actions';
import { KedaRequestsClient } from './lib/kedaRequestsClient';
import { KedaPlanner } from './lib/planner';

/**
 * The KEDA scaffolder actions: plan, manifests, IAM provisioning (scaler
 * and operator roles), request record API and the GitHub pull request step.
 * @public
 */
export const scaffolderModuleKeda = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'keda',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        // keda.* read once per process (keda-node), shared with the backend
        kedaConfig: kedaConfigServiceRef,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
        permissions: coreServices.permissions,
        logger: coreServices.logger,
      },
      async init({
        scaffolder,
        config,
        kedaConfig,
        discovery,
        auth,
        permissions,
        logger,
      }) {
        const aws = KedaAwsClientFactory.fromConfig(config);
        const client = new KedaRequestsClient({ discovery, auth });
        // keda:plan and the requester's own provisioning ask the keda
        // backend first (ownership, active request, ExternalId).
        const planner = new KedaPlanner({
          config,
          kedaConfig: () => kedaConfig.config(),
          aws,
          logger,
          requests: client,
        });
        scaffolder.addActions(
          createKedaPlanAction({ planner, aws }),
          createKedaManifestsWriteAction(),
          createKedaScalerRoleEnsureAction({ planner, aws, permissions }),
          createKedaOperatorRoleEnsureAction({ planner, aws, permissions }),
          createKedaScalerRoleDeleteAction({ planner, aws, permissions }),
          createKedaRequestRecordAction({ client, planner, config }),
          createKedaRequestGetAction({ client }),
          createKedaRequestProgressAction({ client }),
          createKedaRequestDecommissionAction({ client }),
          createKedaRequestDecommissionTargetAction({ client }),
          createKedaGithubPullRequestReadyAction({ config }),
        );
      },
    });
  },
});
