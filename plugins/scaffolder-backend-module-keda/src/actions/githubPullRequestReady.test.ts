import { ConfigReader } from '@backstage/config';
import { startGitHubStandIn, type GitHubStandIn } from '@internal/sandbox';
import { exampleInputs, runAction } from '../__testUtils__/fixtures';
import { createKedaGithubPullRequestReadyAction } from './githubPullRequestReady';

const TOKEN = 'ready-test-token';

describe('keda:github:pull-request:ready against the GitHub stand-in', () => {
  let github: GitHubStandIn;
  let action: ReturnType<typeof createKedaGithubPullRequestReadyAction>;
  let repoUrl: string;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      port: 0,
      tokens: { [TOKEN]: 'backstage-scaffolder' },
      logger: { warn: () => {} },
    });
    const repository = github.createRepo('platform', 'gitops', {
      files: { 'README.md': '# GitOps\n' },
    });
    const main = repository.refs['refs/heads/main'];
    const baseTree = github.state.objects(repository).commit(main).tree;
    const tree = github.state.createTree(repository, baseTree, [
      {
        path: 'clusters/demo-eks/orders/orders-worker/scaledobject.yaml',
        content: 'kind: ScaledObject\n',
      },
    ]);
    const commit = github.state.createCommit(
      repository,
      { message: 'KEDA for orders-worker', tree, parents: [main] },
      'backstage-scaffolder',
    );
    github.state.createRef(repository, 'refs/heads/keda/orders', commit);
    github.state.createPullRequest(
      repository,
      {
        head: 'keda/orders',
        base: 'main',
        title: 'KEDA for orders-worker',
        draft: true,
      },
      'backstage-scaffolder',
    );
    action = createKedaGithubPullRequestReadyAction({
      config: new ConfigReader({
        integrations: {
          github: [
            { host: github.host, apiBaseUrl: github.apiBaseUrl, token: TOKEN },
          ],
        },
      }),
    });
    repoUrl = `${github.host}?owner=platform&repo=gitops`;
  });

  afterEach(() => github.close());

  it('comments and marks the draft ready for review through GraphQL; a re-run changes nothing', async () => {
    const comment = 'Approved by user:default/priya: the scaler role exists.';
    const { outputs } = await runAction(action, {
      repoUrl,
      pullRequestNumber: 1,
      comment,
    });
    expect(outputs).toEqual({
      pullRequestUrl: `${github.url}/platform/gitops/pull/1`,
      wasDraft: true,
      commented: true,
    });
    const [pull] = github.listPullRequests('platform', 'gitops');
    expect(pull.draft).toBe(false);
    const repository = github.state.repository('platform', 'gitops');
    expect(github.state.listComments(repository, 1).map(c => c.body)).toEqual([
      comment,
    ]);

    const again = await runAction(action, {
      repoUrl,
      pullRequestNumber: 1,
      comment,
    });
    expect(again.outputs).toMatchObject({ wasDraft: false, commented: false });
    expect(github.state.listComments(repository, 1)).toHaveLength(1);
  });

  it('calls GitHub not at all in dry run', async () => {
    const { outputs } = await runAction(
      action,
      { repoUrl, pullRequestNumber: 1, comment: 'x' },
      { dryRun: true },
    );
    expect(outputs.wasDraft).toBe(false);
    expect(github.listPullRequests('platform', 'gitops')[0].draft).toBe(true);
  });

  it('says which integration is missing for an unknown host', async () => {
    await expect(
      runAction(action, {
        repoUrl: 'ghe.example.com?owner=a&repo=b',
        pullRequestNumber: 1,
      }),
    ).rejects.toThrow(/ghe.example.com/);
  });

  it.each(
    exampleInputs(
      createKedaGithubPullRequestReadyAction({ config: new ConfigReader({}) }),
    ),
  )('runs the example in dry run: $description', async ({ input }) => {
    const { outputs } = await runAction(
      createKedaGithubPullRequestReadyAction({ config: new ConfigReader({}) }),
      input,
      { dryRun: true },
    );
    expect(outputs.pullRequestUrl).toBe(
      'https://github.com/platform/gitops/pull/1',
    );
  });
});
