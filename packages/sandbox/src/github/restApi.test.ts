import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { PullRequestMergedEvent } from './gitHubState';
import { GitHubStandIn, startGitHubStandIn } from './startGitHubStandIn';

const TOKEN = 'test-token';
const OWNER = 'platform';
/** Octokit logs every 4xx on console.error; the tests expect many of them. */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const REPO = 'gitops';

describe('GitHub stand-in REST API (through @octokit/rest)', () => {
  let github: GitHubStandIn;
  let octokit: Octokit;
  const merges: PullRequestMergedEvent[] = [];

  beforeEach(async () => {
    merges.length = 0;
    github = await startGitHubStandIn({
      port: 0,
      tokens: { [TOKEN]: 'scaffolder-bot', 'reviewer-token': 'alice' },
      onMerge: async event => {
        merges.push(event);
      },
    });
    octokit = new Octokit({
      baseUrl: github.apiBaseUrl,
      auth: TOKEN,
      log: quiet,
    });
    github.createRepo(OWNER, REPO, {
      files: {
        'README.md': '# GitOps\n',
        'apps/orders/deployment.yaml': 'kind: Deployment\n',
      },
    });
  });

  afterEach(() => github.close());

  /** Commits `files` (null deletes) on top of `from` and points `branch` at it. */
  async function pushBranch(
    branch: string,
    files: Record<string, string | null>,
    from = 'main',
  ) {
    const { data: base } = await octokit.repos.getCommit({
      owner: OWNER,
      repo: REPO,
      ref: from,
    });
    const { data: tree } = await octokit.git.createTree({
      owner: OWNER,
      repo: REPO,
      base_tree: base.commit.tree.sha,
      tree: Object.entries(files).map(([path, content]) =>
        content === null
          ? { path, mode: '100644' as const, sha: null }
          : { path, mode: '100644' as const, content },
      ),
    });
    const { data: commit } = await octokit.git.createCommit({
      owner: OWNER,
      repo: REPO,
      message: `Change ${branch}`,
      tree: tree.sha,
      parents: [base.sha],
    });
    try {
      await octokit.git.createRef({
        owner: OWNER,
        repo: REPO,
        ref: `refs/heads/${branch}`,
        sha: commit.sha,
      });
    } catch {
      await octokit.git.updateRef({
        owner: OWNER,
        repo: REPO,
        ref: `heads/${branch}`,
        sha: commit.sha,
        force: true,
      });
    }
    return commit.sha;
  }

  async function openPull(
    branch: string,
    files: Record<string, string | null>,
    extra: { draft?: boolean } = {},
  ) {
    await pushBranch(branch, files);
    const { data } = await octokit.pulls.create({
      owner: OWNER,
      repo: REPO,
      head: branch,
      base: 'main',
      title: `Change ${branch}`,
      body: 'Body text',
      ...extra,
    });
    return data;
  }

  describe('authentication', () => {
    it('answers 401 without a token and with an unknown token, and accepts Bearer', async () => {
      await expect(
        new Octokit({ baseUrl: github.apiBaseUrl, log: quiet }).repos.get({
          owner: OWNER,
          repo: REPO,
        }),
      ).rejects.toMatchObject({ status: 401 });
      await expect(
        new Octokit({
          baseUrl: github.apiBaseUrl,
          auth: 'nope',
          log: quiet,
        }).repos.get({ owner: OWNER, repo: REPO }),
      ).rejects.toMatchObject({ status: 401 });
      const bearer = await fetch(`${github.apiBaseUrl}/user`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(bearer.status).toBe(200);
      expect((await bearer.json()).login).toBe('scaffolder-bot');
    });
  });

  describe('repositories and contents', () => {
    it('returns the repository with its default branch, push permission and web URL', async () => {
      const { data, headers } = await octokit.repos.get({
        owner: OWNER,
        repo: REPO,
      });
      expect(data).toMatchObject({
        full_name: 'platform/gitops',
        default_branch: 'main',
        permissions: { push: true },
        html_url: `${github.url}/platform/gitops`,
      });
      expect(headers['x-oauth-scopes']).toContain('repo');
      await expect(
        octokit.repos.get({ owner: OWNER, repo: 'missing' }),
      ).rejects.toMatchObject({ status: 404 });
    });

    it('creates, updates and deletes single files with the contents API, guarded by the blob sha', async () => {
      const created = await octokit.repos.createOrUpdateFileContents({
        owner: OWNER,
        repo: REPO,
        path: 'catalog-info.yaml',
        message: 'Add catalog-info.yaml',
        content: Buffer.from('kind: Component\n').toString('base64'),
        branch: 'main',
      });
      expect(created.status).toBe(201);
      expect(github.getFile(OWNER, REPO, 'catalog-info.yaml')).toBe(
        'kind: Component\n',
      );
      const { data: main } = await octokit.git.getRef({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/main',
      });
      expect(main.object.sha).toBe(created.data.commit.sha);

      await expect(
        octokit.repos.createOrUpdateFileContents({
          owner: OWNER,
          repo: REPO,
          path: 'catalog-info.yaml',
          message: 'blind overwrite',
          content: 'eA==',
        }),
      ).rejects.toMatchObject({ status: 409 });
      const updated = await octokit.repos.createOrUpdateFileContents({
        owner: OWNER,
        repo: REPO,
        path: 'catalog-info.yaml',
        message: 'Update',
        content: Buffer.from('kind: System\n').toString('base64'),
        sha: created.data.content!.sha!,
      });
      expect(updated.status).toBe(200);
      expect(updated.data.commit.parents?.map(p => p.sha)).toEqual([
        created.data.commit.sha,
      ]);

      await expect(
        octokit.repos.deleteFile({
          owner: OWNER,
          repo: REPO,
          path: 'catalog-info.yaml',
          message: 'stale',
          sha: created.data.content!.sha!,
        }),
      ).rejects.toMatchObject({ status: 409 });
      const deleted = await octokit.repos.deleteFile({
        owner: OWNER,
        repo: REPO,
        path: 'catalog-info.yaml',
        message: 'Remove',
        sha: updated.data.content!.sha!,
      });
      expect(deleted.data.content).toBeNull();
      expect(github.getFile(OWNER, REPO, 'catalog-info.yaml')).toBeUndefined();
      await expect(
        octokit.repos.createOrUpdateFileContents({
          owner: OWNER,
          repo: REPO,
          path: 'x',
          message: 'm',
          content: 'eA==',
          branch: 'missing',
        }),
      ).rejects.toMatchObject({ status: 404 });
    });

    it('serves file contents and directory listings at a ref, and 404 for missing paths', async () => {
      const { data: file } = await octokit.repos.getContent({
        owner: OWNER,
        repo: REPO,
        path: 'apps/orders/deployment.yaml',
        ref: 'main',
      });
      expect(Array.isArray(file)).toBe(false);
      expect(
        Buffer.from((file as { content: string }).content, 'base64').toString(),
      ).toBe('kind: Deployment\n');
      const { data: dir } = await octokit.repos.getContent({
        owner: OWNER,
        repo: REPO,
        path: 'apps',
      });
      expect(
        (dir as Array<{ name: string; type: string }>).map(e => [
          e.name,
          e.type,
        ]),
      ).toEqual([['orders', 'dir']]);
      await expect(
        octokit.repos.getContent({
          owner: OWNER,
          repo: REPO,
          path: 'apps/nope.yaml',
        }),
      ).rejects.toMatchObject({ status: 404 });
      const head = await octokit.request(
        'HEAD /repos/{owner}/{repo}/contents/{path}',
        { owner: OWNER, repo: REPO, path: 'README.md' },
      );
      expect(head.status).toBe(200);
      const raw = await octokit.repos.getContent({
        owner: OWNER,
        repo: REPO,
        path: 'README.md',
        mediaType: { format: 'raw' },
      });
      expect(String(raw.data)).toBe('# GitOps\n');
    });
  });

  describe('git database', () => {
    it('creates and reads blobs in utf-8 and base64 with git object ids', async () => {
      const { data: text } = await octokit.git.createBlob({
        owner: OWNER,
        repo: REPO,
        content: 'hello\n',
        encoding: 'utf-8',
      });
      expect(text.sha).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
      const { data: binary } = await octokit.git.createBlob({
        owner: OWNER,
        repo: REPO,
        content: Buffer.from('hello\n').toString('base64'),
        encoding: 'base64',
      });
      expect(binary.sha).toBe(text.sha);
      const { data: blob } = await octokit.git.getBlob({
        owner: OWNER,
        repo: REPO,
        file_sha: text.sha,
      });
      expect(Buffer.from(blob.content, 'base64').toString()).toBe('hello\n');
      await expect(
        octokit.git.getBlob({
          owner: OWNER,
          repo: REPO,
          file_sha: 'f'.repeat(40),
        }),
      ).rejects.toMatchObject({ status: 404 });
    });

    it('creates trees on a base tree with inline content, blob shas and deletions', async () => {
      const { data: main } = await octokit.repos.getCommit({
        owner: OWNER,
        repo: REPO,
        ref: 'main',
      });
      const { data: blob } = await octokit.git.createBlob({
        owner: OWNER,
        repo: REPO,
        content: 'kind: ConfigMap\n',
      });
      const { data: tree } = await octokit.git.createTree({
        owner: OWNER,
        repo: REPO,
        base_tree: main.commit.tree.sha,
        tree: [
          {
            path: 'apps/orders/configmap.yaml',
            mode: '100644',
            type: 'blob',
            sha: blob.sha,
          },
          {
            path: 'apps/orders/kustomization.yaml',
            mode: '100644',
            content: 'resources: []\n',
          },
          { path: 'apps/orders/deployment.yaml', mode: '100644', sha: null },
        ],
      });
      const { data: listed } = await octokit.git.getTree({
        owner: OWNER,
        repo: REPO,
        tree_sha: tree.sha,
        recursive: 'true',
      });
      expect(
        listed.tree.filter(e => e.type === 'blob').map(e => e.path),
      ).toEqual([
        'README.md',
        'apps/orders/configmap.yaml',
        'apps/orders/kustomization.yaml',
      ]);
      await expect(
        octokit.git.createTree({
          owner: OWNER,
          repo: REPO,
          tree: [{ path: 'x', mode: '100644', sha: 'a'.repeat(40) }],
        }),
      ).rejects.toMatchObject({
        status: 422,
        message: expect.stringContaining('is not a blob'),
      });
    });

    it('creates commits, lists history and reads single commits', async () => {
      const sha = await pushBranch('feature', { 'new.txt': 'new\n' });
      const { data: commit } = await octokit.git.getCommit({
        owner: OWNER,
        repo: REPO,
        commit_sha: sha,
      });
      expect(commit.message).toBe('Change feature');
      expect(commit.author.name).toBe('scaffolder-bot');
      const { data: history } = await octokit.repos.listCommits({
        owner: OWNER,
        repo: REPO,
        sha: 'feature',
        per_page: 1,
      });
      expect(history.map(c => c.sha)).toEqual([sha]);
      const { data: all } = await octokit.repos.listCommits({
        owner: OWNER,
        repo: REPO,
        sha: 'feature',
      });
      expect(all).toHaveLength(2);
      const { data: single } = await octokit.repos.getCommit({
        owner: OWNER,
        repo: REPO,
        ref: sha,
      });
      expect(single.files?.map(f => [f.filename, f.status])).toEqual([
        ['new.txt', 'added'],
      ]);
      await expect(
        octokit.git.createCommit({
          owner: OWNER,
          repo: REPO,
          message: 'x',
          tree: commit.tree.sha,
          parents: ['0'.repeat(40)],
        }),
      ).rejects.toMatchObject({ status: 422 });
    });

    it('paginates lists with per_page, page and a Link header Octokit follows', async () => {
      await pushBranch('one', { '1.txt': '1\n' });
      await pushBranch('two', { '2.txt': '2\n' }, 'one');
      const page2 = await octokit.repos.listCommits({
        owner: OWNER,
        repo: REPO,
        sha: 'two',
        per_page: 1,
        page: 2,
      });
      expect(page2.data).toHaveLength(1);
      expect(page2.headers.link).toContain('rel="next"');
      const all = await octokit.paginate(octokit.repos.listCommits, {
        owner: OWNER,
        repo: REPO,
        sha: 'two',
        per_page: 1,
      });
      expect(all.map(c => c.commit.message)).toEqual([
        'Change two',
        'Change one',
        'Initial commit',
      ]);
    });

    it('creates, reads, fast-forwards, force-updates and deletes refs', async () => {
      const first = await pushBranch('topic', { 'a.txt': 'a\n' });
      const { data: ref } = await octokit.git.getRef({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/topic',
      });
      expect(ref.object.sha).toBe(first);
      await expect(
        octokit.git.createRef({
          owner: OWNER,
          repo: REPO,
          ref: 'refs/heads/topic',
          sha: first,
        }),
      ).rejects.toMatchObject({ status: 422 });
      const { data: main } = await octokit.git.getRef({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/main',
      });
      await expect(
        octokit.git.updateRef({
          owner: OWNER,
          repo: REPO,
          ref: 'heads/topic',
          sha: main.object.sha,
        }),
      ).rejects.toMatchObject({
        status: 422,
        message: expect.stringContaining('not a fast forward'),
      });
      await octokit.git.updateRef({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/topic',
        sha: main.object.sha,
        force: true,
      });
      const { data: matching } = await octokit.git.listMatchingRefs({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/',
      });
      expect(matching.map(r => r.ref)).toEqual([
        'refs/heads/main',
        'refs/heads/topic',
      ]);
      await octokit.git.deleteRef({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/topic',
      });
      await expect(
        octokit.git.getRef({ owner: OWNER, repo: REPO, ref: 'heads/topic' }),
      ).rejects.toMatchObject({ status: 404 });
    });

    it('keeps serving a pull request whose head and base branches were deleted', async () => {
      const pull = await openPull('feature', { 'x.txt': 'x\n' });
      await octokit.git.deleteRef({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/feature',
      });
      const { data: headless } = await octokit.pulls.get({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(headless).toMatchObject({
        head: { sha: pull.head.sha },
        changed_files: 1,
      });
      await octokit.git.createRef({
        owner: OWNER,
        repo: REPO,
        ref: 'refs/heads/base2',
        sha: pull.base.sha,
      });
      await octokit.pulls.update({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
        base: 'base2',
      });
      await octokit.git.deleteRef({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/base2',
      });
      const { data: baseless } = await octokit.pulls.get({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(baseless.state).toBe('open');
      await expect(
        octokit.pulls.merge({
          owner: OWNER,
          repo: REPO,
          pull_number: pull.number,
        }),
      ).rejects.toMatchObject({ status: 405 });
    });

    it('handles branch names containing slashes', async () => {
      const sha = await pushBranch('keda/orders-autoscaling', {
        'x.txt': 'x\n',
      });
      const { data } = await octokit.git.getRef({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/keda/orders-autoscaling',
      });
      expect(data.object.sha).toBe(sha);
    });
  });

  describe('pull requests', () => {
    it('creates a pull request with a web html_url and lists it by head filter', async () => {
      const pull = await openPull(
        'feature',
        { 'apps/orders/scaledobject.yaml': 'kind: ScaledObject\n' },
        { draft: true },
      );
      expect(pull).toMatchObject({
        number: 1,
        state: 'open',
        draft: true,
        html_url: `${github.url}/platform/gitops/pull/1`,
        head: { ref: 'feature' },
        base: { ref: 'main' },
        changed_files: 1,
      });
      const { data: byHead } = await octokit.pulls.list({
        owner: OWNER,
        repo: REPO,
        head: `${OWNER}:feature`,
      });
      expect(byHead.map(p => p.number)).toEqual([1]);
      const { data: other } = await octokit.pulls.list({
        owner: OWNER,
        repo: REPO,
        head: `${OWNER}:other`,
      });
      expect(other).toEqual([]);
      await expect(
        octokit.pulls.create({
          owner: OWNER,
          repo: REPO,
          head: 'feature',
          base: 'main',
          title: 'again',
        }),
      ).rejects.toMatchObject({
        status: 422,
        message: expect.stringContaining('A pull request already exists'),
      });
      await expect(
        octokit.pulls.create({
          owner: OWNER,
          repo: REPO,
          head: 'missing',
          base: 'main',
          title: 'x',
        }),
      ).rejects.toMatchObject({ status: 422 });
    });

    it('updates title, body, draft and state with PATCH', async () => {
      const pull = await openPull(
        'feature',
        { 'x.txt': 'x\n' },
        { draft: true },
      );
      const { data } = await octokit.pulls.update({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
        title: 'Renamed',
        body: 'New body',
        draft: false,
      } as any);
      expect(data).toMatchObject({
        title: 'Renamed',
        body: 'New body',
        draft: false,
      });
      const { data: closed } = await octokit.pulls.update({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
        state: 'closed',
      });
      expect(closed.state).toBe('closed');
      const { data: listed } = await octokit.pulls.list({
        owner: OWNER,
        repo: REPO,
        state: 'closed',
      });
      expect(listed.map(p => p.number)).toEqual([pull.number]);
    });

    it('requests user and team reviewers and lists them', async () => {
      const pull = await openPull('feature', { 'x.txt': 'x\n' });
      const { data } = await octokit.pulls.requestReviewers({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
        reviewers: ['alice'],
        team_reviewers: ['platform-team'],
      });
      expect(data.requested_reviewers?.map(u => u.login)).toEqual(['alice']);
      expect(data.requested_teams?.map(t => t.slug)).toEqual(['platform-team']);
      const { data: listed } = await octokit.pulls.listRequestedReviewers({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(listed.users.map(u => u.login)).toEqual(['alice']);
      expect(listed.teams.map(t => t.slug)).toEqual(['platform-team']);
      await expect(
        octokit.pulls.requestReviewers({
          owner: OWNER,
          repo: REPO,
          pull_number: pull.number,
          reviewers: ['scaffolder-bot'],
        }),
      ).rejects.toMatchObject({ status: 422 });
    });

    it('records reviews, answering the reviewer’s request, and refuses self-approval', async () => {
      const pull = await openPull('feature', { 'x.txt': 'x\n' });
      await octokit.pulls.requestReviewers({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
        reviewers: ['alice'],
      });
      await expect(
        octokit.pulls.createReview({
          owner: OWNER,
          repo: REPO,
          pull_number: pull.number,
          event: 'APPROVE',
        }),
      ).rejects.toMatchObject({
        status: 422,
        message: expect.stringContaining('your own pull request'),
      });
      const alice = new Octokit({
        baseUrl: github.apiBaseUrl,
        auth: 'reviewer-token',
        log: quiet,
      });
      const { data: review } = await alice.pulls.createReview({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
        event: 'APPROVE',
      });
      expect(review).toMatchObject({
        state: 'APPROVED',
        user: { login: 'alice' },
        commit_id: pull.head.sha,
      });
      const { data: reviews } = await octokit.pulls.listReviews({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(reviews.map(r => [r.user?.login, r.state])).toEqual([
        ['alice', 'APPROVED'],
      ]);
      const { data: after } = await octokit.pulls.get({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(after.requested_reviewers).toEqual([]);
      expect(await (await fetch(pull.html_url)).text()).toContain(
        '<strong>alice</strong> approved',
      );
      await expect(
        alice.pulls.createReview({
          owner: OWNER,
          repo: REPO,
          pull_number: pull.number,
          event: 'REQUEST_CHANGES',
        }),
      ).rejects.toMatchObject({
        status: 422,
        message: expect.stringContaining('body is required'),
      });
    });

    it('approves from the web page as the web user', async () => {
      const pull = await openPull('feature', { 'x.txt': 'x\n' });
      const response = await fetch(`${pull.html_url}/review`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'event=APPROVE',
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      const { data: reviews } = await octokit.pulls.listReviews({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(reviews.map(r => [r.user?.login, r.state])).toEqual([
        ['platform-reviewer', 'APPROVED'],
      ]);
    });

    it('lists changed files with patches and the pull request commits', async () => {
      const pull = await openPull('feature', {
        'apps/orders/deployment.yaml': 'kind: Deployment\nreplicas: 2\n',
        'README.md': null,
      });
      const { data: files } = await octokit.pulls.listFiles({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(
        files.map(f => [f.filename, f.status, f.additions, f.deletions]),
      ).toEqual([
        ['README.md', 'removed', 0, 1],
        ['apps/orders/deployment.yaml', 'modified', 1, 0],
      ]);
      expect(files[1].patch).toContain('+replicas: 2');
      const { data: commits } = await octokit.pulls.listCommits({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(commits).toHaveLength(1);
      const diff = await octokit.pulls.get({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
        mediaType: { format: 'diff' },
      });
      expect(String(diff.data)).toContain('diff --git a/README.md b/README.md');
    });

    it('merges: moves the base branch, marks the pull request merged and notifies onMerge', async () => {
      const pull = await openPull('feature', {
        'apps/orders/hpa.yaml': 'kind: HPA\n',
      });
      await expect(
        octokit.pulls.checkIfMerged({
          owner: OWNER,
          repo: REPO,
          pull_number: pull.number,
        }),
      ).rejects.toMatchObject({ status: 404 });
      const { data: merge } = await octokit.pulls.merge({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
        sha: pull.head.sha,
      });
      expect(merge.merged).toBe(true);
      const { data: main } = await octokit.git.getRef({
        owner: OWNER,
        repo: REPO,
        ref: 'heads/main',
      });
      expect(main.object.sha).toBe(merge.sha);
      const { data: mergeCommit } = await octokit.git.getCommit({
        owner: OWNER,
        repo: REPO,
        commit_sha: merge.sha,
      });
      expect(mergeCommit.parents.map(p => p.sha)).toEqual([
        pull.base.sha,
        pull.head.sha,
      ]);
      const { data: merged } = await octokit.pulls.get({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(merged).toMatchObject({
        state: 'closed',
        merged: true,
        merge_commit_sha: merge.sha,
        merged_by: { login: 'scaffolder-bot' },
      });
      await octokit.pulls.checkIfMerged({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(github.getFile(OWNER, REPO, 'apps/orders/hpa.yaml')).toBe(
        'kind: HPA\n',
      );
      expect(merges).toEqual([
        expect.objectContaining({
          owner: OWNER,
          repo: REPO,
          pullNumber: pull.number,
          baseRef: 'main',
          mergeCommitSha: merge.sha,
        }),
      ]);
      // The merged pull request still shows its own change.
      const { data: files } = await octokit.pulls.listFiles({
        owner: OWNER,
        repo: REPO,
        pull_number: pull.number,
      });
      expect(files.map(f => f.filename)).toEqual(['apps/orders/hpa.yaml']);
      await expect(
        octokit.pulls.merge({
          owner: OWNER,
          repo: REPO,
          pull_number: pull.number,
        }),
      ).rejects.toMatchObject({ status: 405 });
    });

    it('refuses to merge drafts, stale heads and conflicting changes', async () => {
      const draft = await openPull(
        'draft',
        { 'x.txt': 'x\n' },
        { draft: true },
      );
      await expect(
        octokit.pulls.merge({
          owner: OWNER,
          repo: REPO,
          pull_number: draft.number,
        }),
      ).rejects.toMatchObject({
        status: 405,
        message: expect.stringContaining('draft'),
      });

      const stale = await openPull('stale', { 'y.txt': 'y\n' });
      await expect(
        octokit.pulls.merge({
          owner: OWNER,
          repo: REPO,
          pull_number: stale.number,
          sha: 'b'.repeat(40),
        }),
      ).rejects.toMatchObject({ status: 409 });

      const first = await openPull('first', {
        'apps/orders/deployment.yaml': 'first\n',
      });
      const second = await openPull('second', {
        'apps/orders/deployment.yaml': 'second\n',
      });
      await octokit.pulls.merge({
        owner: OWNER,
        repo: REPO,
        pull_number: first.number,
      });
      const { data: conflicted } = await octokit.pulls.get({
        owner: OWNER,
        repo: REPO,
        pull_number: second.number,
      });
      expect(conflicted).toMatchObject({
        mergeable: false,
        mergeable_state: 'dirty',
      });
      await expect(
        octokit.pulls.merge({
          owner: OWNER,
          repo: REPO,
          pull_number: second.number,
        }),
      ).rejects.toMatchObject({
        status: 405,
        message: expect.stringContaining('apps/orders/deployment.yaml'),
      });
    });

    it('merges non-conflicting concurrent changes with squash and rebase', async () => {
      const a = await openPull('a', { 'a.txt': 'a\n' });
      const b = await openPull('b', { 'b.txt': 'b\n' });
      const { data: squash } = await octokit.pulls.merge({
        owner: OWNER,
        repo: REPO,
        pull_number: a.number,
        merge_method: 'squash',
      });
      const { data: squashCommit } = await octokit.git.getCommit({
        owner: OWNER,
        repo: REPO,
        commit_sha: squash.sha,
      });
      expect(squashCommit.parents).toHaveLength(1);
      const { data: rebase } = await octokit.pulls.merge({
        owner: OWNER,
        repo: REPO,
        pull_number: b.number,
        merge_method: 'rebase',
      });
      const { data: rebaseCommit } = await octokit.git.getCommit({
        owner: OWNER,
        repo: REPO,
        commit_sha: rebase.sha,
      });
      expect(rebaseCommit.parents.map(p => p.sha)).toEqual([squash.sha]);
      expect(github.getFile(OWNER, REPO, 'a.txt')).toBe('a\n');
      expect(github.getFile(OWNER, REPO, 'b.txt')).toBe('b\n');
    });
  });

  describe('issue comments, assignees and commit statuses', () => {
    it('adds and lists comments on a pull request', async () => {
      const pull = await openPull('feature', { 'x.txt': 'x\n' });
      const { data: comment } = await octokit.issues.createComment({
        owner: OWNER,
        repo: REPO,
        issue_number: pull.number,
        body: 'Looks good',
      });
      expect(comment.html_url).toBe(
        `${pull.html_url}#issuecomment-${comment.id}`,
      );
      const { data: comments } = await octokit.issues.listComments({
        owner: OWNER,
        repo: REPO,
        issue_number: pull.number,
      });
      expect(comments.map(c => [c.user?.login, c.body])).toEqual([
        ['scaffolder-bot', 'Looks good'],
      ]);
      await expect(
        octokit.issues.listComments({
          owner: OWNER,
          repo: REPO,
          issue_number: 99,
        }),
      ).rejects.toMatchObject({ status: 404 });
    });

    it('adds assignees', async () => {
      const pull = await openPull('feature', { 'x.txt': 'x\n' });
      const { data } = await octokit.issues.addAssignees({
        owner: OWNER,
        repo: REPO,
        issue_number: pull.number,
        assignees: ['alice'],
      });
      expect(data.assignees?.map(a => a.login)).toEqual(['alice']);
    });

    it('records commit statuses and combines the latest per context', async () => {
      const sha = await pushBranch('feature', { 'x.txt': 'x\n' });
      await octokit.repos.createCommitStatus({
        owner: OWNER,
        repo: REPO,
        sha,
        state: 'pending',
        context: 'gitops/sync',
      });
      await octokit.repos.createCommitStatus({
        owner: OWNER,
        repo: REPO,
        sha,
        state: 'failure',
        context: 'gitops/sync',
        description: 'ScaledObject rejected',
      });
      const { data: combined } = await octokit.repos.getCombinedStatusForRef({
        owner: OWNER,
        repo: REPO,
        ref: 'feature',
      });
      expect(combined.state).toBe('failure');
      expect(
        combined.statuses.map(s => [s.context, s.state, s.description]),
      ).toEqual([['gitops/sync', 'failure', 'ScaledObject rejected']]);
      const { data: all } = await octokit.repos.listCommitStatusesForRef({
        owner: OWNER,
        repo: REPO,
        ref: sha,
      });
      expect(all.map(s => s.state)).toEqual(['failure', 'pending']);
    });
  });

  describe('GraphQL', () => {
    it('reports the open pull request associated with a branch, and null for an unknown ref', async () => {
      const pull = await openPull('feature', { 'x.txt': 'x\n' });
      const query = `query ($owner: String!, $repo: String!, $head: String!) {
        repository(name: $repo, owner: $owner) {
          ref(qualifiedName: $head) { associatedPullRequests(first: 1, states: OPEN) { edges { node { id number url } } } }
        }
      }`;
      const found: any = await octokit.graphql(query, {
        owner: OWNER,
        repo: REPO,
        head: 'feature',
      });
      expect(
        found.repository.ref.associatedPullRequests.edges[0].node,
      ).toMatchObject({
        number: pull.number,
        url: pull.html_url,
        id: pull.node_id,
      });
      const missing: any = await octokit.graphql(query, {
        owner: OWNER,
        repo: REPO,
        head: 'nope',
      });
      expect(missing.repository.ref).toBeNull();
    });

    it('marks a draft ready for review with markPullRequestReadyForReview, and back', async () => {
      const pull = await openPull(
        'feature',
        { 'x.txt': 'x\n' },
        { draft: true },
      );
      const ready: any = await octokit.graphql(
        `mutation ($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { number isDraft } } }`,
        { id: pull.node_id },
      );
      expect(ready.markPullRequestReadyForReview.pullRequest).toEqual({
        number: pull.number,
        isDraft: false,
      });
      expect(
        (
          await octokit.pulls.get({
            owner: OWNER,
            repo: REPO,
            pull_number: pull.number,
          })
        ).data.draft,
      ).toBe(false);
      await octokit.graphql(
        `mutation ($id: ID!) { convertPullRequestToDraft(input: { pullRequestId: $id }) { pullRequest { isDraft } } }`,
        { id: pull.node_id },
      );
      expect(
        (
          await octokit.pulls.get({
            owner: OWNER,
            repo: REPO,
            pull_number: pull.number,
          })
        ).data.draft,
      ).toBe(true);
    });

    it('answers pullRequest, defaultBranchRef and viewer queries', async () => {
      const pull = await openPull('feature', { 'x.txt': 'x\n' });
      const result: any = await octokit.graphql(
        `query ($n: Int!) { viewer { login } repository(owner: "platform", name: "gitops") {
          nameWithOwner defaultBranchRef { name target { oid } } pullRequest(number: $n) { title state isDraft headRefName baseRefName author { login } }
        } }`,
        { n: pull.number },
      );
      expect(result.viewer.login).toBe('scaffolder-bot');
      expect(result.repository.defaultBranchRef).toEqual({
        name: 'main',
        target: { oid: pull.base.sha },
      });
      expect(result.repository.pullRequest).toEqual({
        title: 'Change feature',
        state: 'OPEN',
        isDraft: false,
        headRefName: 'feature',
        baseRefName: 'main',
        author: { login: 'scaffolder-bot' },
      });
    });

    it('returns GitHub-style NOT_FOUND errors and 401 without a token', async () => {
      await expect(
        octokit.graphql(`{ repository(owner: "x", name: "y") { id } }`),
      ).rejects.toMatchObject({
        errors: [expect.objectContaining({ type: 'NOT_FOUND' })],
      });
      const anonymous = await fetch(`${github.url}/api/graphql`, {
        method: 'POST',
        body: JSON.stringify({ query: '{ viewer { login } }' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(anonymous.status).toBe(401);
    });
  });

  describe('web pages', () => {
    it('shows a pull request with its diff and merges it from the Merge button', async () => {
      const pull = await openPull('feature', {
        'apps/orders/scaledobject.yaml': 'kind: ScaledObject\n',
      });
      const html = await (await fetch(pull.html_url)).text();
      expect(html).toContain('Change feature');
      expect(html).toContain('Body text');
      expect(html).toContain('+kind: ScaledObject');
      expect(html).toContain(
        `action="/platform/gitops/pull/${pull.number}/merge"`,
      );
      const response = await fetch(`${pull.html_url}/merge`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `sha=${pull.head.sha}`,
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(
        `/platform/gitops/pull/${pull.number}`,
      );
      const after = await (await fetch(pull.html_url)).text();
      expect(after).toContain('Merged by platform-reviewer');
      expect(merges).toHaveLength(1);
      expect(
        await (
          await fetch(
            `${github.url}/platform/gitops/raw/main/apps/orders/scaledobject.yaml`,
          )
        ).text(),
      ).toBe('kind: ScaledObject\n');
    });

    it('serves the pages html_urls point at: commits, trees and files on branches with slashes', async () => {
      const sha = await pushBranch('keda/orders', {
        'apps/orders/scaledobject.yaml': 'kind: ScaledObject\n',
      });
      const { data: commit } = await octokit.git.getCommit({
        owner: OWNER,
        repo: REPO,
        commit_sha: sha,
      });
      const commitPage = await fetch(commit.html_url);
      expect(commitPage.status).toBe(200);
      const commitHtml = await commitPage.text();
      expect(commitHtml).toContain('Change keda/orders');
      expect(commitHtml).toContain('+kind: ScaledObject');
      const { data: file } = await octokit.repos.getContent({
        owner: OWNER,
        repo: REPO,
        path: 'apps/orders/scaledobject.yaml',
        ref: 'keda/orders',
      });
      expect(
        await (await fetch((file as { html_url: string }).html_url)).text(),
      ).toContain('kind: ScaledObject');
      const { data: dir } = await octokit.repos.getContent({
        owner: OWNER,
        repo: REPO,
        path: 'apps',
        ref: 'keda/orders',
      });
      const treeHtml = await (
        await fetch((dir as Array<{ html_url: string }>)[0].html_url)
      ).text();
      expect(treeHtml).toContain('scaledobject.yaml');
      expect(treeHtml).toContain('deployment.yaml');
      expect(
        await (
          await fetch(
            `${github.url}/platform/gitops/raw/keda/orders/apps/orders/scaledobject.yaml`,
          )
        ).text(),
      ).toBe('kind: ScaledObject\n');
      expect(
        (await fetch(`${github.url}/platform/gitops/blob/nope/x.yaml`)).status,
      ).toBe(404);
    });

    it('escapes user content', async () => {
      await pushBranch('xss', { 'x.txt': 'x\n' });
      const { data } = await octokit.pulls.create({
        owner: OWNER,
        repo: REPO,
        head: 'xss',
        base: 'main',
        title: '<script>alert(1)</script>',
      });
      const html = await (await fetch(data.html_url)).text();
      expect(html).not.toContain('<script>alert(1)</script>');
      expect(html).toContain('&lt;script&gt;');
    });

    it('answers 404 pages for unknown pull requests', async () => {
      const response = await fetch(`${github.url}/platform/gitops/pull/42`);
      expect(response.status).toBe(404);
    });
  });

  describe('programmatic API', () => {
    it('merges and lists pull requests in process', async () => {
      const pull = await openPull('feature', { 'x.txt': 'x\n' });
      const event = await github.mergePullRequest(OWNER, REPO, pull.number, {
        mergedBy: 'alice',
      });
      expect(event.mergedBy).toBe('alice');
      expect(
        github.listPullRequests(OWNER, REPO).map(p => [p.number, p.merged]),
      ).toEqual([[pull.number, true]]);
      github.reset();
      await expect(
        octokit.repos.get({ owner: OWNER, repo: REPO }),
      ).rejects.toMatchObject({ status: 404 });
    });
  });
});

describe('GitHub stand-in state file', () => {
  it('restores repositories, refs and pull requests after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'github-state-'));
    const stateFile = join(dir, 'github.json');
    try {
      const first = await startGitHubStandIn({
        port: 0,
        stateFile,
        tokens: { t: 'bot' },
      });
      first.createRepo('o', 'r', { files: { 'a.txt': 'a\n' } });
      const octokit = new Octokit({
        baseUrl: first.apiBaseUrl,
        auth: 't',
        log: quiet,
      });
      const { data: main } = await octokit.git.getRef({
        owner: 'o',
        repo: 'r',
        ref: 'heads/main',
      });
      await first.close();

      const second = await startGitHubStandIn({
        port: 0,
        stateFile,
        tokens: { t: 'bot' },
      });
      try {
        const again = new Octokit({
          baseUrl: second.apiBaseUrl,
          auth: 't',
          log: quiet,
        });
        const { data: restored } = await again.git.getRef({
          owner: 'o',
          repo: 'r',
          ref: 'heads/main',
        });
        expect(restored.object.sha).toBe(main.object.sha);
        expect(second.getFile('o', 'r', 'a.txt')).toBe('a\n');
        second.reset();
      } finally {
        await second.close();
      }
      const third = await startGitHubStandIn({
        port: 0,
        stateFile,
        tokens: { t: 'bot' },
      });
      expect(third.state.listRepositories()).toEqual([]);
      await third.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
