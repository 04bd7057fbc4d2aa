import {
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  readKedaApprovals,
  readKedaConfig,
  type KedaApprovalsConfig,
  type KedaConfig,
} from './config';

/**
 * The `keda.*` configuration of this backend process, read and validated
 * by {@link readKedaConfig} once and shared by every KEDA plugin and module
 * in the process (the keda backend, the scaffolder actions, the permission
 * policy).
 * @public
 */
export interface KedaConfigService {
  /**
   * The whole `keda` block. Read on first use and kept; a configuration
   * error is thrown again on every call, naming the key and the fix.
   */
  config(): KedaConfig;
  /**
   * `keda.approvals` only, for callers that must not depend on the rest
   * (the permission policy keeps working with a broken cluster entry).
   */
  approvals(): KedaApprovalsConfig;
}

/** Reads `keda.*` from `config` once per part. @public */
export function kedaConfigServiceFromConfig(config: Config): KedaConfigService {
  let keda: KedaConfig | undefined;
  let approvals: KedaApprovalsConfig | undefined;
  return {
    config: () => (keda ??= readKedaConfig(config)),
    approvals: () =>
      (approvals ??= keda?.approvals ?? readKedaApprovals(config)),
  };
}

/**
 * The process's {@link KedaConfigService}; root scoped, so one per backend
 * process whichever KEDA features are installed.
 * @public
 */
export const kedaConfigServiceRef = createServiceRef<KedaConfigService>({
  id: 'keda.config',
  scope: 'root',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: { config: coreServices.rootConfig },
      factory: ({ config }) => kedaConfigServiceFromConfig(config),
    }),
});
