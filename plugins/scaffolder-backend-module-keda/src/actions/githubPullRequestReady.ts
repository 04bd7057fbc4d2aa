import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  DefaultGithubCredentialsProvider,
  ScmIntegrations,
  type GithubCredentialsProvider,
} from '@backstage/integration';
import {
  createTemplateAction,
  parseRepoUrl,
} from '@backstage/plugin-scaffolder-node';
import { KEDA_ACTION_IDS } from '@keda-self-service/plugin-keda-common';
import { Octokit } from 'octokit';
import { examples } from './githubPullRequestReady.examples';

// GitHub's own rules for account and repository names: a value outside
// them can only be a typo or an attempt to reach another API path.
const GITHUB_OWNER = /^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$/;
const GITHUB_REPO = /^[A-Za-z0-9._-]{1,100}$/;

/** Action id of {@link createKedaGithubPullRequestReadyAction}. @public */
export const KEDA_GITHUB_PR_READY_ACTION_ID =
  KEDA_ACTION_IDS.githubPullRequestReady;

const MARK_READY = `
  mutation MarkReady($id: ID!) {
    markPullRequestReadyForReview(input: { pullRequestId: $id }) {
      pullRequest { isDraft }
    }
  }
`;

/**
 * `keda:github:pull-request:ready`: after approval, comments on the request's
 * draft pull request and marks it ready for review. GitHub allows the draft
 * → ready change only through GraphQL (`markPullRequestReadyForReview`).
 * Uses the GitHub integration's credentials and honours `apiBaseUrl`.
 *
 * @public
 */
export function createKedaGithubPullRequestReadyAction(options: {
  config: Config;
  integrations?: ScmIntegrations;
  credentialsProvider?: GithubCredentialsProvider;
}) {
  const integrations =
    options.integrations ?? ScmIntegrations.fromConfig(options.config);
  const credentialsProvider =
    options.credentialsProvider ??
    DefaultGithubCredentialsProvider.fromIntegrations(integrations);

  return createTemplateAction({
    id: KEDA_GITHUB_PR_READY_ACTION_ID,
    description:
      'Comments on a KEDA request pull request and marks it ready for review (GraphQL markPullRequestReadyForReview)',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        repoUrl: z =>
          z
            .string()
            .describe(
              'Repository, scaffolder form github.com?owner=platform&repo=gitops',
            ),
        pullRequestNumber: z =>
          z.number().int().positive().describe('Pull request number'),
        comment: z =>
          z
            .string()
            .optional()
            .describe(
              'Markdown comment to add first (not repeated when the same text is already there)',
            ),
      },
      output: {
        pullRequestUrl: z => z.string().describe('Web URL of the pull request'),
        wasDraft: z =>
          z
            .boolean()
            .describe(
              'true when this run turned a draft into ready for review',
            ),
        commented: z =>
          z.boolean().describe('true when this run added the comment'),
      },
    },
    async handler(ctx) {
      let parsed: ReturnType<typeof parseRepoUrl>;
      try {
        // The URL parser would drop a newline or tab quietly.
        if (/[^\x21-\x7e]/.test(ctx.input.repoUrl)) {
          throw new Error(
            'it contains a space, a control or a non-ASCII character',
          );
        }
        parsed = parseRepoUrl(ctx.input.repoUrl, integrations);
      } catch (error) {
        throw new InputError(
          `repoUrl: ${
            (error as Error).message
          }; use github.com?owner=<org>&repo=<repo>`,
        );
      }
      const { host, owner, repo } = parsed;
      if (owner && !GITHUB_OWNER.test(owner)) {
        throw new InputError(
          `repoUrl: owner ${JSON.stringify(
            owner,
          )} is not a GitHub user or organization name (letters, digits and single "-", at most 39)`,
        );
      }
      if (!GITHUB_REPO.test(repo) || repo === '.' || repo === '..') {
        throw new InputError(
          `repoUrl: repo ${JSON.stringify(
            repo,
          )} is not a GitHub repository name (letters, digits, ".", "-" and "_", at most 100)`,
        );
      }
      if (!owner) {
        throw new InputError(
          `repoUrl: "${ctx.input.repoUrl}" has no owner; use github.com?owner=<org>&repo=<repo>`,
        );
      }
      const integration = integrations.github.byHost(host);
      if (!integration) {
        throw new InputError(
          `repoUrl: no GitHub integration for host ${host}; add it to integrations.github in app-config`,
        );
      }
      const number = ctx.input.pullRequestNumber;
      if (ctx.isDryRun) {
        ctx.output(
          'pullRequestUrl',
          `https://${host}/${owner}/${repo}/pull/${number}`,
        );
        ctx.output('wasDraft', false);
        ctx.output('commented', false);
        return;
      }
      const { token } = await credentialsProvider.getCredentials({
        url: `https://${host}/${encodeURIComponent(owner)}/${encodeURIComponent(
          repo,
        )}`,
      });
      if (!token) {
        throw new InputError(
          `No GitHub token for ${host}/${owner}/${repo}; configure integrations.github[].token or an app`,
        );
      }
      const octokit = new Octokit({
        auth: token,
        baseUrl: integration.config.apiBaseUrl,
      });
      const { data: pull } = await octokit.rest.pulls.get({
        owner,
        repo,
        pull_number: number,
      });

      let commented = false;
      if (ctx.input.comment) {
        const body = ctx.input.comment;
        commented = await ctx.checkpoint({
          key: `comment:${owner}/${repo}#${number}`,
          fn: async () => {
            const existing = await octokit.paginate(
              octokit.rest.issues.listComments,
              {
                owner,
                repo,
                issue_number: number,
                per_page: 100,
              },
            );
            if (existing.some(c => c.body === body)) return false;
            await octokit.rest.issues.createComment({
              owner,
              repo,
              issue_number: number,
              body,
            });
            return true;
          },
        });
      }

      let wasDraft = false;
      if (pull.draft) {
        await ctx.checkpoint({
          key: `ready:${owner}/${repo}#${number}`,
          fn: async () => {
            await octokit.graphql(MARK_READY, { id: pull.node_id });
          },
        });
        wasDraft = true;
        ctx.logger.info(`Marked ${pull.html_url} ready for review`);
      } else {
        ctx.logger.info(`${pull.html_url} is already ready for review`);
      }
      ctx.output('pullRequestUrl', pull.html_url);
      ctx.output('wasDraft', wasDraft);
      ctx.output('commented', commented);
    },
  });
}
