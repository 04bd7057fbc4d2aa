import fs from 'node:fs';
import path from 'node:path';
import { startAwsStandIn, type AwsStandIn } from './aws';
import { startGitHubStandIn, type GitHubStandIn } from './github';
import {
  loadOrCreateServingCertificate,
  startKubernetesStandIn,
  writeKubeconfig,
  type KubernetesStandIn,
  type KubernetesStandInOptions,
} from './kubernetes';
import { startKedaLoop, type KedaLoop } from './keda';
import { createGitOpsLoop, type GitOpsLoop } from './gitops';
import { readPortalFacts, type PortalFacts } from './portalConfig';
import {
  DEMO,
  ensureEksCluster,
  ensurePodIdentityNode,
  parseRepoUrl,
  seedSandbox,
} from './seed';
import { rootCredentialsFor } from './aws';
import type { Config } from '@backstage/config';
import type { MergeEvent as MergeEventLike } from './gitops';
import {
  operatorRoleArn,
  type KedaClusterSpec,
} from '@keda-self-service/plugin-keda-common';

export interface SandboxOptions {
  /** The portal's config (app-config.yaml …): the single source of the demo's facts. */
  config: Config;
  /** Folder for the stand-ins' state files; omitted: in memory only. */
  dataDir?: string;
  host?: string;
  /** Defaults 4566 (AWS), 4567 (GitHub), 6443 (Kubernetes); 0 = ephemeral (tests). */
  ports?: { aws?: number; github?: number; kubernetes?: number };
  /** KEDA CRD directory (default: the CRDs vendored in `plugins/keda-common/crds/keda-v2.20.2`). */
  crdDir?: string;
  /** Caps every ScaledObject's polling interval, for demos (default 5 s). */
  pollingIntervalOverrideSeconds?: number;
  /** Caps cooldown periods, for demos (default 30 s). */
  cooldownPeriodOverrideSeconds?: number;
  logger?: (message: string) => void;
  /**
   * One clock for every part (AWS, GitHub, Kubernetes, the KEDA and GitOps
   * loops); default the system clock. Tests that move time pass it here.
   */
  now?: () => number;
  /**
   * Serve the Kubernetes API over HTTPS, like an API server (kubectl sends
   * bearer tokens only over TLS). Default: when the cluster's configured
   * `url` is https. With `dataDir` the certificate and key are kept there
   * (`kubernetes.crt`, `kubernetes.key`; the certificate is also the CA the
   * portal's `caFile` names) and reused until they near expiry by `now`.
   */
  kubernetesTls?: boolean;
}

/** Files the sandbox writes into `dataDir` for people and the portal. */
export const SANDBOX_FILES = {
  /** kubectl's config for the Kubernetes stand-in (server, CA, token). */
  kubeconfig: 'kubeconfig',
  /** The Kubernetes stand-in's serving certificate, its own CA. */
  kubernetesCertificate: 'kubernetes.crt',
  kubernetesKey: 'kubernetes.key',
  /** An AWS config file (awscli, SDKs) with a profile per sandbox account. */
  awsConfig: 'aws-config',
} as const;

export interface Sandbox {
  aws: AwsStandIn;
  github: GitHubStandIn;
  kubernetes: KubernetesStandIn;
  keda: KedaLoop;
  gitops: GitOpsLoop;
  facts: PortalFacts;
  clusters: KedaClusterSpec[];
  /** With `dataDir`: the written kubeconfig and AWS config files. */
  files?: { kubeconfig: string; awsConfig: string };
  close(): Promise<void>;
}

/**
 * An AWS config file with one profile per sandbox account (its root keys,
 * which only open the stand-in), e.g. `AWS_PROFILE=sandbox-222222222222`.
 */
export function renderAwsConfig(options: {
  accountIds: string[];
  region: string;
  endpointUrl: string;
}): string {
  return options.accountIds
    .map(accountId => {
      const keys = rootCredentialsFor(accountId);
      return [
        `[profile sandbox-${accountId}]`,
        `region = ${options.region}`,
        `endpoint_url = ${options.endpointUrl}`,
        `aws_access_key_id = ${keys.accessKeyId}`,
        `aws_secret_access_key = ${keys.secretAccessKey}`,
        '',
      ].join('\n');
    })
    .join('\n');
}

/**
 * Starts the AWS, GitHub and Kubernetes stand-ins, seeds them from the
 * portal's config (idempotently), and runs the KEDA loop and the GitOps loop
 * (merging a pull request applies its manifests to the cluster).
 * The sandbox runs one KEDA cluster: the first of `keda.clusters`.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const log = options.logger ?? (() => {});
  const facts = readPortalFacts(options.config);
  const cluster = facts.keda.clusters[0];
  if (!cluster) {
    throw new Error(
      'keda.clusters (or kubernetes.clusterLocatorMethods) names no cluster for the sandbox to run',
    );
  }
  const stateFile = (name: string) => {
    if (!options.dataDir) return undefined;
    fs.mkdirSync(options.dataDir, { recursive: true });
    return path.join(options.dataDir, `${name}.json`);
  };
  const portOf = (url: string | undefined, fallback: number) => {
    const port = url ? Number(new URL(url).port) : NaN;
    return Number.isFinite(port) && port > 0 ? port : fallback;
  };
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const clock = () => new Date(now());

  const aws = await startAwsStandIn({
    host,
    port: options.ports?.aws ?? 4566,
    stateFile: stateFile('aws'),
    clock: now,
    logger: m => log(`[aws] ${m}`),
  });
  // Like an Argo CD webhook: a merge into the GitOps repository syncs it
  // (bound once the GitOps loop exists).
  const onMerge: { sync?: (event: MergeEventLike) => Promise<unknown> } = {};
  const github = await startGitHubStandIn({
    onMerge: async event => {
      await onMerge.sync?.(event);
    },
    host,
    port: options.ports?.github ?? 4567,
    stateFile: stateFile('github'),
    clock,
    ...(facts.githubToken
      ? { tokens: { [facts.githubToken]: 'backstage-scaffolder' } }
      : {}),
    logger: { warn: m => log(`[github] ${m}`) },
  });
  const eks =
    cluster.accountId && cluster.region
      ? ensureEksCluster(aws, cluster)
      : undefined;
  const kubernetesTls =
    options.kubernetesTls ?? cluster.url?.startsWith('https:') ?? false;
  const dataFile = (name: string) =>
    options.dataDir ? path.join(options.dataDir, name) : undefined;
  let tls: KubernetesStandInOptions['tls'] = kubernetesTls;
  if (kubernetesTls && options.dataDir) {
    const certificate = loadOrCreateServingCertificate({
      certFile: dataFile(SANDBOX_FILES.kubernetesCertificate)!,
      keyFile: dataFile(SANDBOX_FILES.kubernetesKey)!,
      now,
      hosts: [...new Set([host, '127.0.0.1', 'localhost'])],
    });
    if (certificate.generated) {
      log(
        `[kubernetes] new serving certificate in ${options.dataDir} (${certificate.generated})`,
      );
    }
    tls = certificate;
  }
  const kubernetes = await startKubernetesStandIn({
    tls,
    issuerUrl: eks?.oidcIssuer,
    host,
    port: options.ports?.kubernetes ?? portOf(cluster.url, 6443),
    stateFile: stateFile('kubernetes'),
    crdDir: options.crdDir,
    now,
    ...(facts.kubernetesTokens.length
      ? { tokens: facts.kubernetesTokens }
      : {}),
    // Serve every type the Kubernetes plugin's tab asks for (no 404s there).
    kubernetesPluginObjectTypes: true,
  });

  // The issuer's key is made anew at every start: let STS verify its tokens.
  aws.setIssuerKeys(kubernetes.issuer.issuerUrl, kubernetes.issuer.jwks());
  const { clusters } = await seedSandbox({ facts, aws, kubernetes, github });
  let files: Sandbox['files'];
  if (options.dataDir) {
    files = {
      kubeconfig: writeKubeconfig(dataFile(SANDBOX_FILES.kubeconfig)!, {
        server: kubernetes.url,
        token: kubernetes.token,
        caCertificate: kubernetes.caCertificate,
        name: cluster.name,
      }),
      awsConfig: dataFile(SANDBOX_FILES.awsConfig)!,
    };
    const accountIds = [
      ...new Set([...clusters.map(c => c.accountId), DEMO.queueAccountId]),
    ];
    fs.writeFileSync(
      files.awsConfig,
      renderAwsConfig({
        accountIds,
        region: cluster.region ?? DEMO.queueRegion,
        endpointUrl: aws.url,
      }),
      { mode: 0o600 },
    );
  }
  const spec = clusters[0];
  // EKS Pod Identity: the loop plays the node's Pod Identity agent too.
  const podIdentityAgent =
    spec.identity === 'pod-identity'
      ? {
          clusterName: eks?.name ?? spec.name,
          region: spec.region,
          nodeCredentials: await ensurePodIdentityNode(aws, spec),
        }
      : undefined;

  const keda = startKedaLoop({
    podIdentityAgent,
    store: kubernetes.store,
    issuer: kubernetes.issuer,
    awsEndpoint: aws.url,
    operatorRoleArn: operatorRoleArn(spec),
    operatorNamespace: spec.operator.namespace,
    operatorServiceAccount: spec.operator.serviceAccount,
    pollingIntervalOverrideSeconds: options.pollingIntervalOverrideSeconds ?? 5,
    cooldownPeriodOverrideSeconds: options.cooldownPeriodOverrideSeconds ?? 30,
    // Demo: partial scale-downs without Kubernetes' 5-minute stabilization.
    scaleDownStabilizationSeconds: options.cooldownPeriodOverrideSeconds ?? 30,
    logger: m => log(`[keda] ${m}`),
    now,
  });

  const gitopsRepo = spec.gitops && parseRepoUrl(spec.gitops.repoUrl);
  const gitops = createGitOpsLoop({
    applications: gitopsRepo
      ? [
          {
            name: spec.name,
            owner: gitopsRepo.owner,
            repo: gitopsRepo.repo,
            paths: [`clusters/${spec.name}`],
          },
        ]
      : [],
    github: {
      apiBaseUrl: github.apiBaseUrl,
      token: facts.githubToken ?? 'sandbox-github-token',
    },
    kubernetes: {
      url: kubernetes.url,
      token: kubernetes.token,
      caCertificate: kubernetes.caCertificate,
    },
    stateFile: stateFile('gitops'),
    clock,
    logger: {
      info: m => log(`[gitops] ${m}`),
      warn: m => log(`[gitops] ${m}`),
    },
  });
  onMerge.sync = event => gitops.handleMerge(event);
  // Catch up with merges made while the sandbox was down, then keep polling.
  await gitops.refresh().catch(e => log(`[gitops] refresh failed: ${e}`));
  gitops.start(30_000);

  return {
    aws,
    github,
    kubernetes,
    keda,
    gitops,
    facts,
    clusters,
    files,
    async close() {
      keda.stop();
      await gitops.stop();
      await Promise.allSettled([
        aws.close(),
        github.close(),
        kubernetes.close(),
      ]);
    },
  };
}
