/*
 * The slice of GitHub's GraphQL API that clients of the stand-in use:
 * - octokit-plugin-create-pull-request asks `repository.ref(qualifiedName)`
 *   for `associatedPullRequests` to decide between creating and updating;
 * - turning a draft into a ready pull request is only possible through the
 *   `markPullRequestReadyForReview` mutation on real GitHub.
 * Queries are parsed and executed by graphql-js against a schema whose
 * names and shapes follow GitHub's public schema.
 */
import express, { Request, Response, Router } from 'express';
import { buildSchema, graphql, GraphQLError } from 'graphql';
import {
  GitHubApiError,
  GitHubState,
  PullRequestRecord,
  RepositoryRecord,
  qualifyBranch,
} from './gitHubState';
import {
  StandInUrls,
  parsePullNodeId,
  pullHtmlUrl,
  pullNodeId,
} from './representations';
import { authenticate } from './restApi';

const schema = buildSchema(`
  enum PullRequestState { OPEN CLOSED MERGED }

  type Actor { login: String! }

  type Commit { oid: String!, message: String! }

  type PullRequest {
    id: ID!
    number: Int!
    url: String!
    title: String!
    body: String!
    state: PullRequestState!
    isDraft: Boolean!
    merged: Boolean!
    headRefName: String!
    baseRefName: String!
    author: Actor
  }

  type PullRequestEdge { node: PullRequest! cursor: String! }

  type PullRequestConnection {
    totalCount: Int!
    edges: [PullRequestEdge!]!
    nodes: [PullRequest!]!
  }

  type Ref {
    id: ID!
    name: String!
    prefix: String!
    target: Commit
    associatedPullRequests(first: Int, states: [PullRequestState!]): PullRequestConnection!
  }

  type Repository {
    id: ID!
    name: String!
    nameWithOwner: String!
    url: String!
    owner: Actor!
    defaultBranchRef: Ref
    ref(qualifiedName: String!): Ref
    pullRequest(number: Int!): PullRequest
  }

  type Query {
    viewer: Actor!
    repository(owner: String!, name: String!): Repository
  }

  input MarkPullRequestReadyForReviewInput { pullRequestId: ID!, clientMutationId: String }
  type MarkPullRequestReadyForReviewPayload { pullRequest: PullRequest, clientMutationId: String }

  input ConvertPullRequestToDraftInput { pullRequestId: ID!, clientMutationId: String }
  type ConvertPullRequestToDraftPayload { pullRequest: PullRequest, clientMutationId: String }

  type Mutation {
    markPullRequestReadyForReview(input: MarkPullRequestReadyForReviewInput!): MarkPullRequestReadyForReviewPayload
    convertPullRequestToDraft(input: ConvertPullRequestToDraftInput!): ConvertPullRequestToDraftPayload
  }
`);

export interface GraphqlApiContext {
  state: GitHubState;
  urls: () => StandInUrls;
  tokens: Record<string, string>;
}

function graphqlPullState(pull: PullRequestRecord): string {
  if (pull.mergedAt) return 'MERGED';
  return pull.state === 'open' ? 'OPEN' : 'CLOSED';
}

function pullRequestNode(
  context: GraphqlApiContext,
  repository: RepositoryRecord,
  pull: PullRequestRecord,
) {
  return {
    id: pullNodeId(repository, pull.number),
    number: pull.number,
    url: pullHtmlUrl(context.urls(), repository, pull.number),
    title: pull.title,
    body: pull.body,
    state: graphqlPullState(pull),
    isDraft: pull.draft,
    merged: Boolean(pull.mergedAt),
    headRefName: pull.headRef,
    baseRefName: pull.baseRef,
    author: { login: pull.author },
  };
}

function refNode(
  context: GraphqlApiContext,
  repository: RepositoryRecord,
  qualifiedName: string,
) {
  const ref = qualifyBranch(qualifiedName);
  const sha = repository.refs[ref];
  if (!sha) return null;
  const branch = ref.replace(/^refs\/heads\//, '');
  const parts = ref.split('/');
  return {
    id: `REF_${Buffer.from(
      `${repository.owner}/${repository.name}:${ref}`,
    ).toString('base64url')}`,
    name: parts.slice(2).join('/'),
    prefix: `${parts.slice(0, 2).join('/')}/`,
    target: {
      oid: sha,
      message: context.state.objects(repository).commit(sha).message,
    },
    associatedPullRequests: ({
      first,
      states,
    }: {
      first?: number;
      states?: string[];
    }) => {
      const nodes = repository.pulls
        .filter(p => p.headRef === branch)
        .map(p => pullRequestNode(context, repository, p))
        .filter(p => !states || states.includes(p.state))
        .sort((a, b) => b.number - a.number)
        .slice(0, first ?? 100);
      return {
        totalCount: nodes.length,
        nodes,
        edges: nodes.map(node => ({ node, cursor: node.id })),
      };
    },
  };
}

function rootValue(context: GraphqlApiContext, actor: string) {
  const { state } = context;
  const pullFromNodeId = (id: string) => {
    const parsed = parsePullNodeId(id);
    if (!parsed)
      throw new GraphQLError(
        `Could not resolve to a node with the global id of '${id}'`,
        { extensions: { type: 'NOT_FOUND' } },
      );
    const repository = state.repository(parsed.owner, parsed.repo);
    return { repository, pull: state.pull(repository, parsed.number) };
  };
  const setDraft = (
    input: { pullRequestId: string; clientMutationId?: string },
    draft: boolean,
  ) => {
    const { repository, pull } = pullFromNodeId(input.pullRequestId);
    if (pull.state !== 'open') {
      throw new GraphQLError(
        `Pull request #${pull.number} is closed; only open pull requests change draft state`,
        { extensions: { type: 'UNPROCESSABLE' } },
      );
    }
    state.updatePullRequest(repository, pull.number, { draft }, actor);
    return {
      pullRequest: pullRequestNode(context, repository, pull),
      clientMutationId: input.clientMutationId ?? null,
    };
  };
  return {
    viewer: () => ({ login: actor }),
    repository: ({ owner, name }: { owner: string; name: string }) => {
      const repository = state.findRepository(owner, name);
      if (!repository) {
        throw new GraphQLError(
          `Could not resolve to a Repository with the name '${owner}/${name}'.`,
          { extensions: { type: 'NOT_FOUND' } },
        );
      }
      return {
        id: `R_${Buffer.from(`${repository.owner}/${repository.name}`).toString(
          'base64url',
        )}`,
        name: repository.name,
        nameWithOwner: `${repository.owner}/${repository.name}`,
        url: `${context.urls().webUrl}/${repository.owner}/${repository.name}`,
        owner: { login: repository.owner },
        defaultBranchRef: () =>
          refNode(context, repository, repository.defaultBranch),
        ref: ({ qualifiedName }: { qualifiedName: string }) =>
          refNode(context, repository, qualifiedName),
        pullRequest: ({ number }: { number: number }) => {
          const pull = repository.pulls.find(p => p.number === number);
          return pull ? pullRequestNode(context, repository, pull) : null;
        },
      };
    },
    markPullRequestReadyForReview: ({
      input,
    }: {
      input: { pullRequestId: string; clientMutationId?: string };
    }) => setDraft(input, false),
    convertPullRequestToDraft: ({
      input,
    }: {
      input: { pullRequestId: string; clientMutationId?: string };
    }) => setDraft(input, true),
  };
}

export function createGraphqlRouter(context: GraphqlApiContext): Router {
  const router = Router();
  router.use(express.json({ limit: '1mb' }));
  router.post('/', async (req: Request, res: Response) => {
    let actor: string;
    try {
      actor = authenticate(context.tokens, req.headers.authorization);
    } catch (error) {
      res.status(401).json({
        message: (error as Error).message,
        documentation_url: 'https://docs.github.com/graphql',
      });
      return;
    }
    const { query, variables, operationName } = req.body ?? {};
    if (typeof query !== 'string') {
      res.status(400).json({
        message: `Problems parsing JSON: the body needs a 'query' string`,
      });
      return;
    }
    const result = await graphql({
      schema,
      source: query,
      rootValue: rootValue(context, actor),
      variableValues: variables,
      operationName,
    });
    // GitHub answers 200 with `errors` (each with a `type`) for resolver
    // failures; Octokit turns that into a GraphqlResponseError.
    res.json({
      ...(result.data !== undefined ? { data: result.data } : {}),
      ...(result.errors
        ? {
            errors: result.errors.map(error => ({
              message: error.message,
              type:
                (error.extensions?.type as string | undefined) ??
                (error.originalError instanceof GitHubApiError &&
                error.originalError.status === 404
                  ? 'NOT_FOUND'
                  : undefined),
              path: error.path,
              locations: error.locations,
            })),
          }
        : {}),
    });
  });
  return router;
}
