/*
 * The sandbox started for a cluster configured with `identity: pod-identity`
 * (the repository's app-config.yaml, with only that changed): the seed binds
 * the operator role with a pod identity association instead of annotating the
 * service account, and the KEDA loop authenticates through the node's Pod
 * Identity agent (EKS Auth), never through IRSA.
 */
import path from 'node:path';
import fs from 'node:fs';
import { parse } from 'yaml';
import { ConfigReader } from '@backstage/config';
import { operatorRoleArn } from '@keda-self-service/plugin-keda-common';
import { startSandbox, type Sandbox } from '../sandbox';
import { seedSandbox } from '../seed';

jest.setTimeout(60_000);

const repoRoot = path.resolve(__dirname, '../../../..');

describe('sandbox with an EKS Pod Identity cluster', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    const data = parse(
      fs.readFileSync(path.join(repoRoot, 'app-config.yaml'), 'utf8'),
    );
    data.keda.clusters[0] = {
      ...data.keda.clusters[0],
      identity: 'pod-identity',
    };
    delete data.keda.clusters[0].oidcIssuer;
    sandbox = await startSandbox({
      config: new ConfigReader(data, 'app-config.yaml (identity pod-identity)'),
      ports: { aws: 0, github: 0, kubernetes: 0 },
    });
  });

  afterAll(() => sandbox?.close());

  it('seeds the association and the agent add-on, and no IRSA annotation', () => {
    const spec = sandbox.clusters[0];
    expect(spec.identity).toBe('pod-identity');
    const cluster = Object.values(
      sandbox.aws.state.accounts[spec.accountId].clusters,
    )[0];
    expect(cluster.addons?.['eks-pod-identity-agent']?.status).toBe('ACTIVE');
    expect(Object.values(cluster.podIdentityAssociations ?? {})).toEqual([
      expect.objectContaining({
        namespace: spec.operator.namespace,
        serviceAccount: spec.operator.serviceAccount,
        roleArn: operatorRoleArn(spec),
      }),
    ]);
    const sa = sandbox.kubernetes.store.get(
      'serviceaccounts',
      spec.operator.namespace,
      spec.operator.serviceAccount,
    );
    expect(
      sa.metadata?.annotations?.['eks.amazonaws.com/role-arn'],
    ).toBeUndefined();
  });

  it('gives the KEDA loop the operator role through AssumeRoleForPodIdentity, and converges on a second seed', async () => {
    const spec = sandbox.clusters[0];
    expect(sandbox.keda.identity.mode).toBe('pod-identity');
    await sandbox.keda.identity.operatorCredentials(spec.region);
    const session = sandbox.keda.identity.podIdentitySession();
    const association = Object.values(
      Object.values(sandbox.aws.state.accounts[spec.accountId].clusters)[0]
        .podIdentityAssociations ?? {},
    )[0];
    expect(session).toMatchObject({ associationId: association.associationId });
    expect(session?.assumedRoleArn).toContain(
      `:assumed-role/${spec.operator.roleName}/eks-`,
    );
    expect(
      sandbox.aws
        .requestLog()
        .some(r => r.operation === 'AssumeRoleWithWebIdentity'),
    ).toBe(false);
    // a restart seeds again: the same association, nothing new
    await seedSandbox({
      facts: sandbox.facts,
      aws: sandbox.aws,
      kubernetes: sandbox.kubernetes,
      github: sandbox.github,
    });
    const after = Object.values(
      Object.values(sandbox.aws.state.accounts[spec.accountId].clusters)[0]
        .podIdentityAssociations ?? {},
    );
    expect(after.map(a => a.associationId)).toEqual([
      association.associationId,
    ]);
  });
});
