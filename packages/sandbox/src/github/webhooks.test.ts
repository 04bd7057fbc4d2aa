import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Octokit } from '@octokit/rest';
import { verify } from '@octokit/webhooks-methods';
import { GitHubStandIn, startGitHubStandIn } from './startGitHubStandIn';

const TOKEN = 'token';
const SECRET = 'webhook-secret';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  payload: any;
}

/** A webhook receiver collecting every delivery. */
async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body, payload: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => new Promise(resolve => server.close(() => resolve())),
  };
}

describe('GitHub stand-in webhooks', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let github: GitHubStandIn;
  let octokit: Octokit;

  beforeEach(async () => {
    receiver = await startReceiver();
    github = await startGitHubStandIn({
      port: 0,
      tokens: { [TOKEN]: 'bot', reviewer: 'alice' },
      logger: { warn: () => {} },
      webhooks: [
        {
          url: receiver.url,
          secret: SECRET,
          events: [
            'pull_request',
            'push',
            'issue_comment',
            'pull_request_review',
          ],
        },
      ],
    });
    github.createRepo('platform', 'gitops', { files: { 'README.md': 'x\n' } });
    octokit = new Octokit({
      baseUrl: github.apiBaseUrl,
      auth: TOKEN,
      log: quiet,
    });
  });

  afterEach(async () => {
    await github.close();
    await receiver.close();
  });

  async function openPull(branch: string) {
    const { data: main } = await octokit.repos.getCommit({
      owner: 'platform',
      repo: 'gitops',
      ref: 'main',
    });
    const { data: tree } = await octokit.git.createTree({
      owner: 'platform',
      repo: 'gitops',
      base_tree: main.commit.tree.sha,
      tree: [
        {
          path: `${branch}.yaml`,
          mode: '100644',
          content: 'kind: ConfigMap\n',
        },
      ],
    });
    const { data: commit } = await octokit.git.createCommit({
      owner: 'platform',
      repo: 'gitops',
      message: `Add ${branch}`,
      tree: tree.sha,
      parents: [main.sha],
    });
    await octokit.git.createRef({
      owner: 'platform',
      repo: 'gitops',
      ref: `refs/heads/${branch}`,
      sha: commit.sha,
    });
    const { data: pull } = await octokit.pulls.create({
      owner: 'platform',
      repo: 'gitops',
      head: branch,
      base: 'main',
      title: branch,
      draft: true,
    });
    return pull;
  }

  const events = () =>
    receiver.received.map(r => [
      r.headers['x-github-event'],
      r.payload.action ?? r.payload.ref,
    ]);

  it('delivers signed push and pull_request events through a pull request’s life', async () => {
    const pull = await openPull('feature');
    await octokit.pulls.requestReviewers({
      owner: 'platform',
      repo: 'gitops',
      pull_number: pull.number,
      team_reviewers: ['platform-team'],
    });
    await octokit.graphql(
      `mutation ($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { isDraft } } }`,
      { id: pull.node_id },
    );
    await octokit.issues.createComment({
      owner: 'platform',
      repo: 'gitops',
      issue_number: pull.number,
      body: 'LGTM',
    });
    const reviewer = new Octokit({
      baseUrl: github.apiBaseUrl,
      auth: 'reviewer',
      log: quiet,
    });
    await reviewer.pulls.createReview({
      owner: 'platform',
      repo: 'gitops',
      pull_number: pull.number,
      event: 'APPROVE',
    });
    const { data: merge } = await octokit.pulls.merge({
      owner: 'platform',
      repo: 'gitops',
      pull_number: pull.number,
    });
    await github.whenWebhooksDelivered();

    expect(events()).toEqual([
      ['push', 'refs/heads/feature'],
      ['pull_request', 'opened'],
      ['pull_request', 'review_requested'],
      ['pull_request', 'ready_for_review'],
      ['issue_comment', 'created'],
      ['pull_request_review', 'submitted'],
      ['push', 'refs/heads/main'],
      ['pull_request', 'closed'],
    ]);
    for (const delivery of receiver.received) {
      expect(
        await verify(
          SECRET,
          delivery.body,
          String(delivery.headers['x-hub-signature-256']),
        ),
      ).toBe(true);
      expect(delivery.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
      expect(delivery.payload.repository.full_name).toBe('platform/gitops');
    }
    const opened = receiver.received[1].payload;
    expect(opened.pull_request).toMatchObject({
      number: pull.number,
      draft: true,
      html_url: pull.html_url,
    });
    expect(receiver.received[2].payload.requested_team.slug).toBe(
      'platform-team',
    );
    expect(receiver.received[4].payload.issue.pull_request.html_url).toBe(
      pull.html_url,
    );
    expect(receiver.received[5].payload.review).toMatchObject({
      state: 'APPROVED',
      user: { login: 'alice' },
    });
    const push = receiver.received[6].payload;
    expect(push).toMatchObject({
      before: pull.base.sha,
      after: merge.sha,
      created: false,
      deleted: false,
      forced: false,
    });
    expect(push.head_commit.id).toBe(merge.sha);
    const closed = receiver.received[7].payload;
    expect(closed.pull_request).toMatchObject({
      merged: true,
      merge_commit_sha: merge.sha,
      state: 'closed',
    });
    expect(github.webhookDeliveries().map(d => d.status)).toEqual(
      Array(8).fill(204),
    );
  });

  it('sends synchronize when an open pull request’s branch moves', async () => {
    const pull = await openPull('feature');
    const { data: head } = await octokit.git.getCommit({
      owner: 'platform',
      repo: 'gitops',
      commit_sha: pull.head.sha,
    });
    const { data: next } = await octokit.git.createCommit({
      owner: 'platform',
      repo: 'gitops',
      message: 'again',
      tree: head.tree.sha,
      parents: [head.sha],
    });
    await octokit.git.updateRef({
      owner: 'platform',
      repo: 'gitops',
      ref: 'heads/feature',
      sha: next.sha,
    });
    await github.whenWebhooksDelivered();
    expect(events().slice(-2)).toEqual([
      ['push', 'refs/heads/feature'],
      ['pull_request', 'synchronize'],
    ]);
  });

  it('manages repository hooks through the REST API, filtered by event, without revealing secrets', async () => {
    const second = await startReceiver();
    try {
      const { data: hook } = await octokit.repos.createWebhook({
        owner: 'platform',
        repo: 'gitops',
        config: { url: second.url, secret: 's3cret', content_type: 'json' },
        events: ['pull_request'],
      });
      expect(hook.config).toMatchObject({
        url: second.url,
        secret: '********',
      });
      const { data: hooks } = await octokit.repos.listWebhooks({
        owner: 'platform',
        repo: 'gitops',
      });
      expect(hooks.map(h => h.id)).toEqual([hook.id]);

      await openPull('feature');
      await github.whenWebhooksDelivered();
      expect(second.received.map(r => r.headers['x-github-event'])).toEqual([
        'pull_request',
      ]);
      expect(
        await verify(
          's3cret',
          second.received[0].body,
          String(second.received[0].headers['x-hub-signature-256']),
        ),
      ).toBe(true);

      await octokit.repos.deleteWebhook({
        owner: 'platform',
        repo: 'gitops',
        hook_id: hook.id,
      });
      await openPull('other');
      await github.whenWebhooksDelivered();
      expect(second.received).toHaveLength(1);
      await expect(
        octokit.repos.createWebhook({
          owner: 'platform',
          repo: 'gitops',
          config: { url: 'not-a-url' },
        }),
      ).rejects.toMatchObject({ status: 422 });
    } finally {
      await second.close();
    }
  });

  it('records failed deliveries without failing the API call', async () => {
    await receiver.close();
    await openPull('feature');
    await github.whenWebhooksDelivered();
    const deliveries = github.webhookDeliveries();
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.every(d => d.error && d.status === undefined)).toBe(true);
    receiver = await startReceiver();
  });
});
