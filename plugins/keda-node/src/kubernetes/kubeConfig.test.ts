import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AwsCredentialsManager } from '@backstage/integration-aws-node';
import type { KedaClusterConfig } from '../config';
import { createClusterKubeConfig } from './kubeConfig';
import { EKS_TOKEN_PREFIX } from './eksToken';

function cluster(overrides: Partial<KedaClusterConfig>): KedaClusterConfig {
  return {
    name: 'prod-eks',
    url: 'https://k8s.example.com/',
    authProvider: 'serviceAccount',
    skipTLSVerify: false,
    eks: {},
    identity: 'irsa',
    operator: {
      namespace: 'keda',
      serviceAccount: 'keda-operator',
      roleName: 'keda-operator',
      rolePath: '/',
    },
    source: 'keda.clusters',
    ...overrides,
  };
}

async function authorization(kc: ReturnType<typeof createClusterKubeConfig>) {
  const init = await kc.applyToFetchOptions({});
  return (init.headers as unknown as Headers).get('Authorization');
}

describe('createClusterKubeConfig', () => {
  it('sends the configured service account token and strips a trailing slash from the URL', async () => {
    const kc = createClusterKubeConfig(
      cluster({ serviceAccountToken: 'sa-token' }),
    );
    expect(kc.getCurrentCluster()?.server).toBe('https://k8s.example.com');
    expect(await authorization(kc)).toBe('Bearer sa-token');
  });

  it('reads the pod service account token file in-cluster', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-sa-'));
    fs.writeFileSync(path.join(dir, 'token'), 'projected-token');
    const kc = createClusterKubeConfig(
      cluster({ authProvider: 'inCluster', url: 'http://127.0.0.1:1' }),
      { serviceAccountDir: dir },
    );
    expect(await authorization(kc)).toBe('Bearer projected-token');
  });

  describe('aws (EKS IAM token)', () => {
    const manager = (): jest.Mocked<AwsCredentialsManager> => ({
      getCredentialProvider: jest.fn().mockResolvedValue({
        accountId: '111111111111',
        sdkCredentialProvider: async () => ({
          accessKeyId: 'AKIDCLUSTER',
          secretAccessKey: 's',
        }),
      }),
    });

    it('mints a k8s-aws-v1 token for the cluster account and region', async () => {
      const m = manager();
      const kc = createClusterKubeConfig(
        cluster({
          authProvider: 'aws',
          accountId: '111111111111',
          region: 'eu-west-1',
          eks: { clusterName: 'prod' },
        }),
        { awsCredentialsManager: m },
      );
      const header = await authorization(kc);
      expect(header).toMatch(
        new RegExp(`^Bearer ${EKS_TOKEN_PREFIX.replace('.', '\\.')}`),
      );
      const url = Buffer.from(
        header!.slice(`Bearer ${EKS_TOKEN_PREFIX}`.length),
        'base64url',
      ).toString();
      expect(url).toContain('sts.eu-west-1.amazonaws.com');
      expect(url).toContain('AKIDCLUSTER%2F');
      expect(m.getCredentialProvider).toHaveBeenCalledWith({
        accountId: '111111111111',
      });
    });

    it('reuses a token for ten minutes and then mints a new one', async () => {
      const m = manager();
      let now = Date.parse('2026-11-28T06:00:00Z');
      const kc = createClusterKubeConfig(
        cluster({ authProvider: 'aws', region: 'eu-west-1' }),
        { awsCredentialsManager: m, now: () => now },
      );
      const first = await authorization(kc);
      now += 9 * 60 * 1000;
      expect(await authorization(kc)).toBe(first);
      now += 2 * 60 * 1000;
      expect(await authorization(kc)).not.toBe(first);
      expect(m.getCredentialProvider).toHaveBeenCalledTimes(2);
    });

    it('refuses to build without a credentials manager, naming the fix', () => {
      expect(() =>
        createClusterKubeConfig(cluster({ authProvider: 'aws' })),
      ).toThrow(/DefaultAwsCredentialsManager/);
    });
  });
});
