import { runSimulation } from '@cloud-copilot/iam-simulate';
import { parseAllDocuments } from 'yaml';
import { articleCluster, articleInput } from './__testUtils__/articleExample';
import { crdSchemaErrors } from './__testUtils__/kedaCrds';
import { policySize } from './iam/policyDocument';
import { validateKedaAdmission } from './manifests/admission';
import { plan, type KedaPlan } from './plan';

const DIR = 'clusters/prod-eu/shop/orders-worker';

function objects(p: KedaPlan): any[] {
  return p.manifests
    .filter(
      f => f.path.endsWith('.yaml') && !f.path.endsWith('kustomization.yaml'),
    )
    .flatMap(f => parseAllDocuments(f.content).map(d => d.toJS()));
}
function file(p: KedaPlan, name: string): string {
  const found = p.manifests.find(
    f => f.path === `${p.manifestDirectory}/${name}`,
  );
  if (!found) throw new Error(`no ${name} in ${p.manifests.map(f => f.path)}`);
  return found.content;
}
function expectValidKedaObjects(p: KedaPlan) {
  expect(objects(p).length).toBeGreaterThan(0);
  for (const obj of objects(p)) {
    if (obj.apiVersion === 'keda.sh/v1alpha1') {
      expect({ kind: obj.kind, errors: crdSchemaErrors(obj) }).toEqual({
        kind: obj.kind,
        errors: [],
      });
    }
    expect(validateKedaAdmission(obj)).toEqual({ allowed: true, errors: [] });
  }
}

describe('plan (article example)', () => {
  const p = plan(articleInput);

  it('names the roles deterministically', () => {
    expect(p.operatorRole.arn).toBe(
      'arn:aws:iam::111111111111:role/keda-operator-prod-eu',
    );
    // readable part + hash of prod-eu/shop/Deployment/orders-worker
    expect(p.scalerRole.name).toBe(
      'keda-sqs-prod-eu-shop-orders-worker-057d7a5a',
    );
    expect(p.scalerRole.arn).toBe(
      'arn:aws:iam::222222222222:role/keda/keda-sqs-prod-eu-shop-orders-worker-057d7a5a',
    );
    expect(p.scalerRole.accountId).toBe('222222222222');
    expect(p.scalerRole.maxSessionDuration).toBe(3600);
  });

  it('uses one ExternalId for the trust policy and the TriggerAuthentication', () => {
    expect(p.scalerRole.externalId).toBe(articleInput.externalId);
    expect(p.scalerRole.trustPolicy.Statement[0].Condition).toEqual({
      StringEquals: { 'sts:ExternalId': articleInput.externalId },
    });
    const ta = objects(p).find(o => o.kind === 'TriggerAuthentication');
    expect(ta.spec.podIdentity).toEqual({
      provider: 'aws',
      roleArn: p.scalerRole.arn,
      externalID: articleInput.externalId,
    });
  });

  it('writes the manifests, kustomization and IAM plan into the GitOps folder', () => {
    expect(p.manifestDirectory).toBe(DIR);
    expect(p.gitops).toEqual({
      repoUrl: 'github.com?owner=acme&repo=gitops',
      path: DIR,
    });
    expect(p.manifests.map(f => f.path)).toEqual([
      `${DIR}/triggerauthentication.yaml`,
      `${DIR}/scaledobject.yaml`,
      `${DIR}/kustomization.yaml`,
      `${DIR}/iam-plan.json`,
    ]);
    const kustomization = parseAllDocuments(
      file(p, 'kustomization.yaml'),
    )[0].toJS();
    expect(kustomization.resources).toEqual([
      'triggerauthentication.yaml',
      'scaledobject.yaml',
    ]);
    expect(JSON.parse(file(p, 'iam-plan.json')).scalerRole.trustPolicy).toEqual(
      p.scalerRole.trustPolicy,
    );
  });

  it('renders objects that KEDA 2.20.2 accepts', () => {
    expect(objects(p).map(o => o.kind)).toEqual([
      'TriggerAuthentication',
      'ScaledObject',
    ]);
    expectValidKedaObjects(p);
  });

  it('labels and annotates the objects for the entity and the request', () => {
    const so = objects(p).find(o => o.kind === 'ScaledObject');
    expect(so.metadata.labels).toEqual({
      'backstage.io/kubernetes-id': 'orders-worker',
      'app.kubernetes.io/managed-by': 'backstage-keda',
    });
    expect(so.metadata.annotations).toEqual({
      'keda.backstage.io/entity-ref': 'component:default/orders-worker',
      'keda.backstage.io/request-id': 'req-0001',
      'keda.backstage.io/requested-by': 'user:default/jane.doe',
      'keda.backstage.io/queue-arn':
        'arn:aws:sqs:eu-west-1:222222222222:orders',
      'keda.backstage.io/scaler-role-arn': p.scalerRole.arn,
    });
    expect(so.spec.triggers[0].metadata.awsRegion).toBe('eu-west-1');
  });

  it('tags the scaler role for tracing and clean-up', () => {
    expect(p.scalerRole.tags).toEqual({
      'cost-center': 'platform',
      'backstage.io/managed-by': 'backstage-keda',
      'keda.backstage.io/entity-ref': 'component:default/orders-worker',
      'keda.backstage.io/cluster': 'prod-eu',
      'keda.backstage.io/namespace': 'shop',
      'keda.backstage.io/workload-kind': 'Deployment',
      'keda.backstage.io/workload': 'Deployment/orders-worker',
      'keda.backstage.io/queue-arn':
        'arn:aws:sqs:eu-west-1:222222222222:orders',
      'keda.backstage.io/request-id': 'req-0001',
    });
  });

  it('is auto-approved and says so in the summary', () => {
    expect(p.guardrails).toEqual({
      violations: [],
      approvalRequired: false,
      reasons: [],
      // the article scales to zero (minReplicas 0) without a fallback
      warnings: [
        expect.objectContaining({ code: 'scale-to-zero-without-fallback' }),
      ],
    });
    expect(p.summaryMarkdown).toContain('**Auto-approved**');
    expect(p.summaryMarkdown).toContain(p.scalerRole.arn);
  });

  it('is deterministic and survives a JSON round trip', () => {
    expect(plan(articleInput)).toEqual(p);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it("lets the operator assume the planned role with the plan's ExternalId (iam-simulate)", async () => {
    const result = await runSimulation(
      {
        request: {
          principal:
            'arn:aws:sts::111111111111:assumed-role/keda-operator-prod-eu/KEDA',
          action: 'sts:AssumeRole',
          resource: {
            resource: p.scalerRole.arn,
            accountId: p.scalerRole.accountId,
          },
          contextVariables: { 'sts:ExternalId': p.scalerRole.externalId! },
        },
        identityPolicies: [
          {
            name: p.operatorRole.permissionPolicyName,
            policy: p.operatorRole.permissionPolicy,
          },
        ],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: p.scalerRole.trustPolicy,
      },
      {},
    );
    expect(result.resultType !== 'error' && result.overallResult).toBe(
      'Allowed',
    );
  });
});

describe('plan variants', () => {
  it('generates a fresh ExternalId when none is stored', () => {
    const a = plan({ ...articleInput, externalId: undefined });
    const b = plan({ ...articleInput, externalId: undefined });
    expect(a.scalerRole.externalId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.scalerRole.externalId).not.toBe(b.scalerRole.externalId);
    expect(file(a, 'triggerauthentication.yaml')).toContain(
      `externalID: ${a.scalerRole.externalId}`,
    );
  });

  it('rejects a stored ExternalId STS would refuse', () => {
    expect(() => plan({ ...articleInput, externalId: 'x' })).toThrow(
      /externalId must be 2–1224/,
    );
  });

  it('omits the ExternalId everywhere on KEDA 2.19', () => {
    const p = plan({
      ...articleInput,
      cluster: { ...articleCluster, kedaVersion: '2.19.0' },
    });
    expect(p.scalerRole.externalId).toBeUndefined();
    expect(p.kedaFeatures.externalId).toBe(false);
    expect(p.scalerRole.trustPolicy.Statement[0].Condition).toBeUndefined();
    expect(file(p, 'triggerauthentication.yaml')).not.toContain('externalID');
    expect(p.guardrails.approvalRequired).toBe(true);
    expectValidKedaObjects(p);
  });

  it("reproduces the article's legacy aws-eks setup as an explicit mode", () => {
    const p = plan({
      ...articleInput,
      request: {
        ...articleInput.request,
        providerMode: 'aws-eks',
        serviceAccountName: 'orders-worker',
      },
    });
    expect(p.scalerRole.externalId).toBeUndefined();
    expect(p.scalerRole.trustPolicy.Statement.map(s => s.Sid)).toEqual([
      'KedaOperatorAssumesScalerRole',
      'WorkloadServiceAccountWebIdentity',
    ]);
    expect(p.manifests.map(f => f.path.split('/').pop())).toEqual([
      'serviceaccount.yaml',
      'triggerauthentication.yaml',
      'scaledobject.yaml',
      'kustomization.yaml',
      'iam-plan.json',
    ]);
    const sa = objects(p).find(o => o.kind === 'ServiceAccount');
    expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(
      p.scalerRole.arn,
    );
    expect(
      objects(p).find(o => o.kind === 'TriggerAuthentication').spec.podIdentity,
    ).toEqual({ provider: 'aws-eks' });
    expect(p.guardrails.reasons.map(r => r.code)).toContain('legacy-provider');
    expectValidKedaObjects(p);
  });

  it('keeps names within KEDA and IAM limits for very long workload names', () => {
    const name = `shipment-label-printer-${'x'.repeat(60)}`;
    const p = plan({
      ...articleInput,
      request: { ...articleInput.request, workload: { name } },
    });
    expect(p.names.scaledObject.length).toBeLessThanOrEqual(54);
    expect(p.names.triggerAuthentication.length).toBeLessThanOrEqual(63);
    expect(p.scalerRole.name.length).toBeLessThanOrEqual(64);
    expect(
      objects(p).find(o => o.kind === 'ScaledObject').spec.scaleTargetRef.name,
    ).toBe(name);
    expectValidKedaObjects(p);
  });

  it('adds sts:TagSession for EKS Pod Identity clusters', () => {
    const p = plan({
      ...articleInput,
      cluster: { ...articleCluster, identity: 'pod-identity' },
    });
    expect(p.operatorRole.permissionPolicy.Statement[0].Action).toEqual([
      'sts:AssumeRole',
      'sts:TagSession',
    ]);
    expect(p.operatorRole.trustPolicy.Statement[0].Principal).toEqual({
      Service: 'pods.eks.amazonaws.com',
    });
    expect(p.scalerRole.trustPolicy.Statement.map(s => s.Sid)).toContain(
      'KedaOperatorPassesSessionTags',
    );
  });

  it('takes awsEndpoint from a VPC endpoint URL and emits the canonical queue URL', () => {
    const p = plan({
      ...articleInput,
      request: {
        ...articleInput.request,
        queueUrl:
          'https://vpce-0abc123-xyz.sqs.eu-west-1.vpce.amazonaws.com/222222222222/orders',
      },
    });
    const meta = objects(p).find(o => o.kind === 'ScaledObject').spec
      .triggers[0].metadata;
    expect(meta.queueURL).toBe(
      'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
    );
    expect(meta.awsEndpoint).toBe(
      'https://vpce-0abc123-xyz.sqs.eu-west-1.vpce.amazonaws.com',
    );
  });

  it('still renders a blocked request, with the violations in the summary', () => {
    const p = plan({
      ...articleInput,
      request: { ...articleInput.request, maxReplicas: 80 },
    });
    expect(p.guardrails.violations.map(v => v.code)).toEqual([
      'max-replicas-above-ceiling',
    ]);
    expect(p.summaryMarkdown).toContain('**Blocked**');
    expect(p.summaryMarkdown).toContain(
      'maxReplicas 80 is above the platform ceiling of 50',
    );
  });

  it('keeps the trust policies small', () => {
    const p = plan(articleInput);
    expect(policySize(p.scalerRole.trustPolicy)).toBeLessThan(2048);
    expect(policySize(p.operatorRole.trustPolicy)).toBeLessThan(2048);
  });

  it('gives workloads whose old names collided different roles and identity tags', () => {
    const a = plan({
      ...articleInput,
      request: {
        ...articleInput.request,
        namespace: 'team-a',
        workload: { kind: 'Deployment', name: 'worker' },
      },
    });
    const b = plan({
      ...articleInput,
      request: {
        ...articleInput.request,
        namespace: 'team',
        workload: { kind: 'Deployment', name: 'a-worker' },
      },
    });
    const c = plan({
      ...articleInput,
      request: {
        ...articleInput.request,
        workload: { kind: 'StatefulSet', name: 'orders-worker' },
      },
    });
    expect(a.scalerRole.name).toMatch(
      /^keda-sqs-prod-eu-team-a-worker-[0-9a-f]{8}$/,
    );
    expect(b.scalerRole.name).toMatch(
      /^keda-sqs-prod-eu-team-a-worker-[0-9a-f]{8}$/,
    );
    expect(a.scalerRole.name).not.toBe(b.scalerRole.name);
    expect(c.scalerRole.name).not.toBe(plan(articleInput).scalerRole.name);
    expect(c.scalerRole.tags).toMatchObject({
      'keda.backstage.io/cluster': 'prod-eu',
      'keda.backstage.io/namespace': 'shop',
      'keda.backstage.io/workload-kind': 'StatefulSet',
      'keda.backstage.io/workload': 'StatefulSet/orders-worker',
    });
  });

  it('lets a shared operator role trust every sharing cluster, the same from each', () => {
    const other =
      'https://oidc.eks.eu-central-1.amazonaws.com/id/OTHERCLUSTER0000000000000000000';
    const p = plan({
      ...articleInput,
      cluster: {
        ...articleCluster,
        operator: { ...articleCluster.operator, sharedIssuers: [other] },
      },
    });
    expect(p.operatorRole.trustPolicy.Statement).toHaveLength(2);
    expect(
      p.operatorRole.trustPolicy.Statement.map(
        st => (st.Principal as { Federated: string }).Federated,
      ),
    ).toEqual([
      'arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/OTHERCLUSTER0000000000000000000',
      'arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
    ]);
    // the other cluster computes the very same document
    const fromOther = plan({
      ...articleInput,
      cluster: {
        ...articleCluster,
        oidcIssuer: other,
        operator: {
          ...articleCluster.operator,
          sharedIssuers: [articleCluster.oidcIssuer!],
        },
      },
    });
    expect(fromOther.operatorRole.trustPolicy).toEqual(
      p.operatorRole.trustPolicy,
    );
  });

  it('refuses a shared operator role whose trust would exceed the IAM quota, naming sharedRole', () => {
    const issuers = Array.from(
      { length: 8 },
      (_, i) =>
        `https://oidc.eks.eu-west-1.amazonaws.com/id/CLUSTER${i}00000000000000000000000000`,
    );
    expect(() =>
      plan({
        ...articleInput,
        cluster: {
          ...articleCluster,
          operator: { ...articleCluster.operator, sharedIssuers: issuers },
        },
      }),
    ).toThrow(/operator role trust policy .*operator\.sharedRole/);
  });

  it('names the config field when the configuration is wrong', () => {
    expect(() =>
      plan({ ...articleInput, roles: { ...articleInput.roles, path: 'keda' } }),
    ).toThrow(/keda\.roles\.path "keda"/);
    expect(() =>
      plan({
        ...articleInput,
        cluster: {
          ...articleCluster,
          operator: { ...articleCluster.operator, roleName: 'bad name' },
        },
      }),
    ).toThrow(/keda\.clusters\[prod-eu\]\.operator\.roleName/);
    expect(() =>
      plan({
        ...articleInput,
        guardrails: { ...articleInput.guardrails, allowedQueueAccounts: [] },
      }),
    ).toThrow(/allowedQueueAccounts is empty/);
    expect(() =>
      plan({
        ...articleInput,
        cluster: { ...articleCluster, kedaVersion: 'latest' },
      }),
    ).toThrow(
      /keda\.clusters\[prod-eu\]\.kedaVersion: "latest" is not a KEDA version/,
    );
  });

  it('rejects an invalid request with every field named', () => {
    expect(() =>
      plan({
        ...articleInput,
        request: { ...articleInput.request, queueUrl: 'nope', minReplicas: 30 },
      }),
    ).toThrow(
      /queueUrl: .*minReplicas: minReplicas \(30\) must not exceed maxReplicas \(20\)/,
    );
  });
});

describe('plan edge cases', () => {
  it('adds the operator web identity only when asked, and warns that it skips the ExternalId', () => {
    const p = plan({
      ...articleInput,
      roles: { ...articleInput.roles, trustOperatorWebIdentity: true },
    });
    expect(p.scalerRole.trustPolicy.Statement.map(s => s.Sid)).toEqual([
      'KedaOperatorAssumesScalerRole',
      'KedaOperatorWebIdentity',
    ]);
    expect(p.guardrails.warnings.map(w => w.code)).toEqual([
      'scale-to-zero-without-fallback',
      'web-identity-bypasses-external-id',
    ]);
  });

  it('leaves the web identity out for a Pod Identity cluster without an issuer', () => {
    const p = plan({
      ...articleInput,
      cluster: {
        ...articleCluster,
        identity: 'pod-identity',
        oidcIssuer: undefined,
      },
      roles: { ...articleInput.roles, trustOperatorWebIdentity: true },
    });
    expect(p.scalerRole.trustPolicy.Statement.map(s => s.Sid)).toEqual([
      'KedaOperatorAssumesScalerRole',
      'KedaOperatorPassesSessionTags',
    ]);
    expect(p.guardrails.warnings.map(w => w.code)).toEqual([
      'scale-to-zero-without-fallback',
      'web-identity-without-issuer',
    ]);
  });

  it('blocks aws-eks mode on a cluster without an OIDC issuer instead of throwing', () => {
    const p = plan({
      ...articleInput,
      cluster: {
        ...articleCluster,
        identity: 'pod-identity',
        oidcIssuer: undefined,
      },
      request: {
        ...articleInput.request,
        providerMode: 'aws-eks',
        serviceAccountName: 'orders-worker',
      },
    });
    expect(p.guardrails.violations).toEqual([
      expect.objectContaining({
        code: 'oidc-issuer-missing',
        field: 'providerMode',
      }),
    ]);
  });

  it('refuses tags IAM would refuse, naming keda.roles.tags', () => {
    expect(() =>
      plan({
        ...articleInput,
        roles: { ...articleInput.roles, tags: { team: 'a&b' } },
      }),
    ).toThrow(/characters IAM refuses .* keda\.roles\.tags/);
    const many = Object.fromEntries(
      Array.from({ length: 45 }, (_, i) => [`t${i}`, 'v']),
    );
    expect(() =>
      plan({ ...articleInput, roles: { ...articleInput.roles, tags: many } }),
    ).toThrow(/IAM allows 50/);
  });

  it('writes an IAM-safe role description', () => {
    expect(plan(articleInput).scalerRole.description).toMatch(
      /^[\x20-\x7E]{1,1000}$/,
    );
  });
});
