/*
 * Runs Backstage's real `publish:github:pull-request` action (Octokit +
 * octokit-plugin-create-pull-request, REST and GraphQL) against the
 * stand-in, configured the way the sandbox app-config does it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { createPublishGithubPullRequestAction } from '@backstage/plugin-scaffolder-backend-module-github';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { GitHubStandIn, startGitHubStandIn } from './startGitHubStandIn';

const TOKEN = 'scaffolder-token';

describe('publish:github:pull-request against the GitHub stand-in', () => {
  let github: GitHubStandIn;
  let workspace: string;
  let action: ReturnType<typeof createPublishGithubPullRequestAction>;

  beforeEach(async () => {
    github = await startGitHubStandIn({
      port: 0,
      tokens: { [TOKEN]: 'backstage-scaffolder' },
    });
    github.createRepo('platform', 'gitops', {
      files: {
        'README.md': '# GitOps\n',
        'clusters/dev/orders/old.yaml': 'kind: ConfigMap\n',
      },
    });
    const config = new ConfigReader({
      integrations: {
        github: [
          { host: github.host, apiBaseUrl: github.apiBaseUrl, token: TOKEN },
        ],
      },
    });
    action = createPublishGithubPullRequestAction({
      integrations: ScmIntegrations.fromConfig(config),
      config,
    });
    workspace = mkdtempSync(join(tmpdir(), 'publish-pr-'));
  });

  afterEach(async () => {
    await github.close();
    rmSync(workspace, { recursive: true, force: true });
  });

  function writeWorkspace(files: Record<string, string>) {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(workspace, path)), { recursive: true });
      writeFileSync(join(workspace, path), content);
    }
  }

  async function run(input: Record<string, unknown>) {
    const ctx = createMockActionContext({
      input: input as any,
      workspacePath: workspace,
    });
    await action.handler({
      ...ctx,
      isDryRun: false,
      signal: new AbortController().signal,
    } as any);
    return Object.fromEntries((ctx.output as jest.Mock).mock.calls);
  }

  const baseInput = {
    repoUrl: '',
    branchName: 'keda/orders-autoscaling',
    title: 'Autoscale orders on SQS depth',
    description: 'Adds a ScaledObject for orders.',
    targetPath: 'clusters/dev/orders',
    reviewers: ['alice'],
    teamReviewers: ['platform-team'],
    draft: true,
    gitAuthorName: 'Backstage Scaffolder',
    gitAuthorEmail: 'scaffolder@example.com',
    filesToDelete: ['old.yaml'],
  };

  it('opens the pull request with the workspace files under targetPath, reviewers and the draft flag', async () => {
    writeWorkspace({
      'scaledobject.yaml': 'kind: ScaledObject\n',
      'kustomization.yaml': 'resources:\n  - scaledobject.yaml\n',
    });
    const output = await run({
      ...baseInput,
      repoUrl: `${github.host}?owner=platform&repo=gitops`,
    });

    expect(output).toEqual({
      targetBranchName: 'main',
      remoteUrl: `${github.url}/platform/gitops/pull/1`,
      pullRequestNumber: 1,
    });
    const [pull] = github.listPullRequests('platform', 'gitops');
    expect(pull).toMatchObject({
      number: 1,
      state: 'open',
      draft: true,
      title: 'Autoscale orders on SQS depth',
      body: 'Adds a ScaledObject for orders.',
      head: { ref: 'keda/orders-autoscaling' },
      base: { ref: 'main' },
      user: { login: 'backstage-scaffolder' },
    });
    expect(pull.requested_reviewers.map(u => u.login)).toEqual(['alice']);
    expect(pull.requested_teams.map(t => t.slug)).toEqual(['platform-team']);

    const branch = 'keda/orders-autoscaling';
    expect(
      github.getFile(
        'platform',
        'gitops',
        'clusters/dev/orders/scaledobject.yaml',
        branch,
      ),
    ).toBe('kind: ScaledObject\n');
    expect(
      github.getFile(
        'platform',
        'gitops',
        'clusters/dev/orders/kustomization.yaml',
        branch,
      ),
    ).toBe('resources:\n  - scaledobject.yaml\n');
    expect(
      github.getFile(
        'platform',
        'gitops',
        'clusters/dev/orders/old.yaml',
        branch,
      ),
    ).toBeUndefined();
    expect(github.getFile('platform', 'gitops', 'README.md', branch)).toBe(
      '# GitOps\n',
    );
    // The default branch is untouched until someone merges.
    expect(
      github.getFile(
        'platform',
        'gitops',
        'clusters/dev/orders/scaledobject.yaml',
      ),
    ).toBeUndefined();

    const repository = github.state.repository('platform', 'gitops');
    const store = github.state.objects(repository);
    const head = store.commit(repository.refs[`refs/heads/${branch}`]);
    expect(head.author).toMatchObject({
      name: 'Backstage Scaffolder',
      email: 'scaffolder@example.com',
    });
    expect(head.message).toBe('Autoscale orders on SQS depth');
  });

  it('converges on the same pull request when run again with update: true', async () => {
    const repoUrl = `${github.host}?owner=platform&repo=gitops`;
    writeWorkspace({
      'scaledobject.yaml': 'kind: ScaledObject\nmaxReplicaCount: 5\n',
    });
    await run({ ...baseInput, repoUrl });

    writeWorkspace({
      'scaledobject.yaml': 'kind: ScaledObject\nmaxReplicaCount: 10\n',
    });
    await expect(run({ ...baseInput, repoUrl })).rejects.toThrow(
      'Pull request creation failed',
    );

    const output = await run({
      ...baseInput,
      repoUrl,
      update: true,
      draft: false,
      title: 'Autoscale orders (max 10)',
    });
    expect(output.pullRequestNumber).toBe(1);

    const pulls = github.listPullRequests('platform', 'gitops');
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({
      number: 1,
      state: 'open',
      draft: false,
      title: 'Autoscale orders (max 10)',
      changed_files: 2,
    });
    expect(
      github.getFile(
        'platform',
        'gitops',
        'clusters/dev/orders/scaledobject.yaml',
        'keda/orders-autoscaling',
      ),
    ).toBe('kind: ScaledObject\nmaxReplicaCount: 10\n');

    // A merge of the converged pull request lands the latest content.
    await github.mergePullRequest('platform', 'gitops', 1);
    expect(
      github.getFile(
        'platform',
        'gitops',
        'clusters/dev/orders/scaledobject.yaml',
      ),
    ).toBe('kind: ScaledObject\nmaxReplicaCount: 10\n');
  });

  it('also accepts localhost as the integration host', async () => {
    const port = new URL(github.url).port;
    const config = new ConfigReader({
      integrations: {
        github: [
          {
            host: `localhost:${port}`,
            apiBaseUrl: `http://localhost:${port}/api/v3`,
            token: TOKEN,
          },
        ],
      },
    });
    action = createPublishGithubPullRequestAction({
      integrations: ScmIntegrations.fromConfig(config),
      config,
    });
    writeWorkspace({ 'scaledobject.yaml': 'kind: ScaledObject\n' });
    const output = await run({
      ...baseInput,
      filesToDelete: undefined,
      repoUrl: `localhost:${port}?owner=platform&repo=gitops`,
    });
    expect(output.pullRequestNumber).toBe(1);
  });
});
