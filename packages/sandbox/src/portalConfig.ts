import fs from 'node:fs';
import { ConfigReader, type Config } from '@backstage/config';
import { parse } from 'yaml';
import {
  clusterSpecOf,
  readKedaConfig,
  type KedaConfig,
} from '@keda-self-service/plugin-keda-node';

/**
 * What the sandbox needs to know about the portal, read from the portal's
 * own app-config files, so every fact (account ids, cluster name, keys,
 * tokens, GitOps repository) has one source of truth: the config the
 * plugins read too.
 */
export interface PortalFacts {
  keda: KedaConfig;
  /** `aws.mainAccount` keys: the portal's own AWS identity. */
  portalKeys?: { accessKeyId: string; secretAccessKey: string };
  /** `aws.accounts[]`: the role the portal assumes in each account. */
  provisionerRoles: Array<{
    accountId: string;
    roleName: string;
    externalId?: string;
  }>;
  /** The token the portal sends to the GitHub stand-in. */
  githubToken?: string;
  /** Tokens the portal sends to the Kubernetes stand-in. */
  kubernetesTokens: string[];
}

export function loadConfigFiles(files: string[]): Config {
  return ConfigReader.fromConfigs(
    files.map(file => ({
      context: file,
      data: parse(fs.readFileSync(file, 'utf8')) ?? {},
    })),
  );
}

export function readPortalFacts(config: Config): PortalFacts {
  const keda = readKedaConfig(config);
  const main = config.getOptionalConfig('aws.mainAccount');
  const accessKeyId = main?.getOptionalString('accessKeyId');
  const secretAccessKey = main?.getOptionalString('secretAccessKey');
  return {
    keda,
    portalKeys:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey }
        : undefined,
    provisionerRoles: (config.getOptionalConfigArray('aws.accounts') ?? []).map(
      a => ({
        accountId: a.getString('accountId'),
        roleName: a.getString('roleName'),
        externalId: a.getOptionalString('externalId'),
      }),
    ),
    githubToken: (config.getOptionalConfigArray('integrations.github') ?? [])
      .map(g => g.getOptionalString('token'))
      .find(Boolean),
    kubernetesTokens: keda.clusters
      .map(c => c.serviceAccountToken)
      .filter((t): t is string => Boolean(t)),
  };
}

export { clusterSpecOf };
