import { articleCluster, articleInput } from './__testUtils__/articleExample';
import { plan } from './plan';

describe('renderPlanSummary (through plan)', () => {
  it('says when approval is needed and why', () => {
    const p = plan({
      ...articleInput,
      request: { ...articleInput.request, maxReplicas: 30 },
    });
    expect(p.summaryMarkdown).toContain(
      '**Needs approval** by the platform team.',
    );
    expect(p.summaryMarkdown).toMatch(
      /\*\*Approval required because\*\*\n\n- `maxReplicas`: maxReplicas 30 is above 20/,
    );
    expect(p.summaryMarkdown).not.toContain('**Auto-approved**');
  });

  it('describes the legacy mode, the service account and the missing ExternalId', () => {
    const p = plan({
      ...articleInput,
      request: {
        ...articleInput.request,
        providerMode: 'aws-eks',
        serviceAccountName: 'orders-worker',
      },
    });
    expect(p.summaryMarkdown).toContain(
      'deprecated `provider: aws-eks`, role from ServiceAccount `orders-worker`',
    );
    expect(p.summaryMarkdown).toContain(
      `2. \`sts:AssumeRole\` → \`${p.scalerRole.arn}\``,
    );
    expect(p.summaryMarkdown).toContain(
      `\`${p.manifestDirectory}/serviceaccount.yaml\``,
    );
  });

  it('names Pod Identity, the boundary and the fallback when present', () => {
    const p = plan({
      ...articleInput,
      cluster: { ...articleCluster, identity: 'pod-identity' },
      roles: {
        ...articleInput.roles,
        permissionsBoundaryArn: 'arn:aws:iam::222222222222:policy/boundary',
      },
      request: {
        ...articleInput.request,
        fallback: { failureThreshold: 3, replicas: 2 },
      },
    });
    expect(p.summaryMarkdown).toContain('→ EKS Pod Identity →');
    expect(p.summaryMarkdown).toContain(
      'boundary `arn:aws:iam::222222222222:policy/boundary`',
    );
    expect(p.summaryMarkdown).toContain(
      '| Fallback | 2 replicas after 3 failed polls |',
    );
  });
});
