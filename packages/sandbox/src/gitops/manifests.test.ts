import { objectKey, parseManifestFile, renderManifests } from './manifests';

const deployment = (name: string, namespace?: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n${
    namespace ? `  namespace: ${namespace}\n` : ''
  }spec:\n  replicas: 1\n`;

function keys(files: Record<string, string>, paths: string[]) {
  const result = renderManifests(new Map(Object.entries(files)), paths);
  return { keys: result.objects.map(o => objectKey(o.object)), result };
}

describe('renderManifests', () => {
  it('renders a kustomization: only its resources, with its namespace, labels and annotations', () => {
    const { result } = keys(
      {
        'clusters/dev/shop/orders/kustomization.yaml': [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'namespace: shop',
          'commonLabels: { team: orders }',
          'labels: [{ pairs: { tier: backend } }]',
          'commonAnnotations: { owner: platform }',
          'resources: [deployment.yaml, namespace.yaml]',
        ].join('\n'),
        'clusters/dev/shop/orders/deployment.yaml': deployment(
          'orders',
          'elsewhere',
        ),
        'clusters/dev/shop/orders/namespace.yaml':
          'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n',
        'clusters/dev/shop/orders/iam-plan.json':
          '{"not": "a kubernetes object"}',
        'clusters/dev/shop/orders/unlisted.yaml': deployment('unlisted'),
      },
      ['clusters/dev'],
    );
    expect(result.errors).toEqual([]);
    expect(result.objects.map(o => [objectKey(o.object), o.source])).toEqual([
      [
        'apps/Deployment:shop/orders',
        'clusters/dev/shop/orders/deployment.yaml',
      ],
      ['/Namespace:/shop', 'clusters/dev/shop/orders/namespace.yaml'],
    ]);
    expect(result.objects[0].object.metadata).toMatchObject({
      labels: { team: 'orders', tier: 'backend' },
      annotations: { owner: 'platform' },
    });
  });

  it('applies plain YAML files of directories without a kustomization, recursively, including multi-document files and Lists', () => {
    const { keys: rendered, result } = keys(
      {
        'apps/a.yaml': `${deployment(
          'a',
          'x',
        )}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a-config\n  namespace: x\n`,
        'apps/nested/b.yml': deployment('b', 'x'),
        'apps/nested/list.json': JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'c', namespace: 'x' },
            },
          ],
        }),
        'apps/README.md': '# not a manifest',
        'other/ignored.yaml': deployment('ignored'),
      },
      ['apps'],
    );
    expect(result.errors).toEqual([]);
    expect(rendered).toEqual([
      'apps/Deployment:x/a',
      '/ConfigMap:x/a-config',
      'apps/Deployment:x/b',
      '/ConfigMap:x/c',
    ]);
  });

  it('follows nested kustomizations and accepts a single file as a source path', () => {
    const files = {
      'base/kustomization.yaml': 'resources: [app]\n',
      'base/app/kustomization.yaml': 'namespace: inner\nresources: [d.yaml]\n',
      'base/app/d.yaml': deployment('d'),
      'single.yaml': deployment('s', 'n'),
    };
    expect(keys(files, ['base']).keys).toEqual(['apps/Deployment:inner/d']);
    expect(keys(files, ['single.yaml']).keys).toEqual(['apps/Deployment:n/s']);
  });

  it('renders nothing, without error, for a source path that does not exist yet', () => {
    const { result } = keys({ 'README.md': 'x' }, ['clusters/new']);
    expect(result).toEqual({ objects: [], errors: [] });
  });

  it('names the file and the fix for each broken input', () => {
    const { result } = keys(
      {
        'k/kustomization.yaml':
          'resources: [missing.yaml, sub, ../../escape.yaml]\n',
        'k/sub/file.yaml': deployment('x'),
        'p/kustomization.yaml': 'resources: []\npatches: []\n',
        'bad/broken.yaml': 'kind: [unclosed\n',
        'bad/noname.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n',
        'bad/nokind.yaml': 'apiVersion: v1\nmetadata: { name: x }\n',
      },
      ['k', 'p', 'bad'],
    );
    expect(result.errors.map(e => `${e.source}: ${e.message}`)).toEqual([
      "k/kustomization.yaml: resource 'missing.yaml' does not exist at k/missing.yaml",
      "k/kustomization.yaml: resource 'sub' is a directory without a kustomization.yaml; add one or list its files",
      "k/kustomization.yaml: resource '../../escape.yaml' points outside the repository; only relative paths inside it are supported",
      expect.stringMatching(
        /^p\/kustomization.yaml: uses patches, which the sandbox GitOps loop does not render/,
      ),
      expect.stringMatching(/^bad\/broken.yaml: is not valid YAML/),
      'bad/nokind.yaml: has no kind; add e.g. "kind: Deployment"',
      'bad/noname.yaml: ConfigMap has no metadata.name; every applied object needs a name',
    ]);
  });

  it('reports an object declared in two files', () => {
    const { result } = keys(
      {
        'a/one.yaml': deployment('same', 'n'),
        'a/two.yaml': deployment('same', 'n'),
      },
      ['a'],
    );
    expect(result.objects).toHaveLength(1);
    expect(result.errors).toEqual([
      {
        source: 'a/two.yaml',
        message:
          'declares apps/Deployment:n/same again; it is already declared in a/one.yaml',
      },
    ]);
  });
});

describe('parseManifestFile', () => {
  it('skips empty documents', () => {
    expect(parseManifestFile('x.yaml', '---\n---\n').objects).toEqual([]);
  });
});
