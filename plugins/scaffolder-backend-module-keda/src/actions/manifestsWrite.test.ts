import { createMockDirectory } from '@backstage/backend-test-utils';
import { exampleInputs, runAction } from '../__testUtils__/fixtures';
import { createKedaManifestsWriteAction } from './manifestsWrite';

describe('keda:manifests:write', () => {
  const workspace = createMockDirectory();
  const action = createKedaManifestsWriteAction();

  beforeEach(() => workspace.clear());

  it('writes every file under targetPath with its repository path', async () => {
    const { outputs } = await runAction(
      action,
      {
        targetPath: 'out',
        manifests: [
          {
            path: 'clusters/demo-eks/orders/w/scaledobject.yaml',
            content: 'kind: ScaledObject\n',
          },
          {
            path: 'clusters/demo-eks/orders/w/iam-plan.json',
            content: '{"a":1}\n',
          },
        ],
      },
      { workspacePath: workspace.path },
    );
    expect(outputs).toEqual({
      targetPath: 'out',
      files: [
        'clusters/demo-eks/orders/w/scaledobject.yaml',
        'clusters/demo-eks/orders/w/iam-plan.json',
      ],
    });
    expect(workspace.content()).toEqual({
      out: {
        clusters: {
          'demo-eks': {
            orders: {
              w: {
                'scaledobject.yaml': 'kind: ScaledObject\n',
                'iam-plan.json': '{"a":1}\n',
              },
            },
          },
        },
      },
    });
  });

  it.each([
    ['../escape.yaml', 'must be a relative path inside the repository'],
    ['/etc/passwd', 'must be a relative path inside the repository'],
    ['a/../../b.yaml', 'must be a relative path inside the repository'],
  ])('refuses the path %s and writes nothing', async (bad, message) => {
    await expect(
      runAction(
        action,
        {
          manifests: [
            { path: 'ok.yaml', content: 'x' },
            { path: bad, content: 'x' },
          ],
        },
        { workspacePath: workspace.path },
      ),
    ).rejects.toThrow(message);
    expect(workspace.content()).toEqual({});
  });

  it('refuses a targetPath outside the workspace', async () => {
    await expect(
      runAction(
        action,
        {
          targetPath: '../outside',
          manifests: [{ path: 'a.yaml', content: 'x' }],
        },
        { workspacePath: workspace.path },
      ),
    ).rejects.toThrow(/outside/i);
  });

  it.each(exampleInputs(action))(
    'runs the example: $description',
    async ({ input }) => {
      const { outputs } = await runAction(action, input, {
        workspacePath: workspace.path,
      });
      expect(outputs.files).toHaveLength((input.manifests as unknown[]).length);
    },
  );
});
