/*
 * The GitHub REST API subset the portal needs, mounted at `/api/v3` like
 * GitHub Enterprise Server (so `integrations.github[].apiBaseUrl` is
 * `<url>/api/v3` and Octokit derives `<url>/api/graphql` from it).
 */
import express, { NextFunction, Request, Response, Router } from 'express';
import {
  GitHubApiError,
  GitHubState,
  MergeMethod,
  PullRequestMergedEvent,
  RepositoryRecord,
  TreeChange,
  WebhookRecord,
  normalisePath,
  qualifyBranch,
} from './gitHubState';
import { GitObjectMissingError } from './gitObjects';
import {
  StandInUrls,
  changedFiles,
  commentJson,
  gitCommitJson,
  pullRequestJson,
  refJson,
  repoCommitJson,
  repositoryJson,
  reviewJson,
  statusJson,
  userJson,
} from './representations';
import { createPatch } from 'diff';

export interface RestApiContext {
  state: GitHubState;
  urls: () => StandInUrls;
  /** token → login */
  tokens: Record<string, string>;
  /** Called after a merge moved the base branch; see startGitHubStandIn. */
  afterMerge: (event: PullRequestMergedEvent) => Promise<void>;
}

/** Responds with GitHub's error body: `{ message, errors?, documentation_url }`. */
export function sendGitHubError(res: Response, error: unknown) {
  if (error instanceof GitHubApiError) {
    res.status(error.status).json({
      message: error.message,
      ...(error.errors ? { errors: error.errors } : {}),
      documentation_url: 'https://docs.github.com/rest',
      status: String(error.status),
    });
    return;
  }
  if (error instanceof GitObjectMissingError) {
    res.status(404).json({
      message: error.message,
      documentation_url: 'https://docs.github.com/rest/git',
      status: '404',
    });
    return;
  }
  res.status(500).json({
    message: `GitHub stand-in internal error: ${
      (error as Error)?.message ?? error
    }`,
    status: '500',
  });
}

/** Resolves the caller from `Authorization: token|Bearer <t>`. */
export function authenticate(
  tokens: Record<string, string>,
  header: string | undefined,
): string {
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? '');
  const login = match ? tokens[match[1]] : undefined;
  if (!login) {
    throw new GitHubApiError(
      401,
      header
        ? 'Bad credentials: the token is not one of the stand-in tokens (see startGitHubStandIn({ tokens }))'
        : 'Requires authentication: send Authorization: token <token>',
    );
  }
  return login;
}

type Handler = (
  req: Request,
  res: Response,
  actor: string,
) => unknown | Promise<unknown>;

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new GitHubApiError(
      422,
      `Invalid request: '${field}' is required and must be a string`,
      [{ field, code: 'missing_field' }],
    );
  }
  return value;
}

function stringArray(body: Record<string, unknown>, field: string): string[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some(v => typeof v !== 'string')) {
    throw new GitHubApiError(
      422,
      `Invalid request: '${field}' must be an array of strings`,
      [{ field, code: 'invalid' }],
    );
  }
  return value as string[];
}

function pullNumber(req: Request): number {
  const number = Number(req.params.number);
  if (!Number.isInteger(number) || number < 1)
    throw new GitHubApiError(
      404,
      `Not Found: '${req.params.number}' is not a pull request number`,
    );
  return number;
}

/** `per_page`/`page` slicing with a GitHub-style `Link: rel="next"` header. */
function paginate<T>(req: Request, res: Response, items: T[]): T[] {
  const perPage = Math.min(
    Math.max(Number(req.query.per_page ?? 30) || 30, 1),
    100,
  );
  const page = Math.max(Number(req.query.page ?? 1) || 1, 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (page * perPage < items.length) {
    const next = new URL(
      `${req.protocol}://${req.get('host')}${req.originalUrl}`,
    );
    next.searchParams.set('page', String(page + 1));
    next.searchParams.set('per_page', String(perPage));
    res.setHeader('Link', `<${next.toString()}>; rel="next"`);
  }
  return slice;
}

/** GitHub wraps base64 content at 60 characters per line. */
function wrapBase64(content: Buffer): string {
  return (content.toString('base64').match(/.{1,60}/g) ?? [])
    .map(line => `${line}\n`)
    .join('');
}

export function createRestApiRouter(context: RestApiContext): Router {
  const { state } = context;
  const router = Router();
  router.use(express.json({ limit: '50mb' }));

  const route = (
    method: 'get' | 'post' | 'patch' | 'put' | 'delete',
    path: string,
    handler: Handler,
  ) => {
    router[method](
      path,
      async (req: Request, res: Response, next: NextFunction) => {
        try {
          const actor = authenticate(context.tokens, req.headers.authorization);
          res.setHeader('X-OAuth-Scopes', 'repo, read:org');
          res.setHeader('X-GitHub-Media-Type', 'github.v3; format=json');
          await handler(req, res, actor);
        } catch (error) {
          if (res.headersSent) {
            next(error);
            return;
          }
          sendGitHubError(res, error);
        }
      },
    );
  };
  const repo = (req: Request): RepositoryRecord =>
    state.repository(req.params.owner, req.params.repo);
  const urls = () => context.urls();

  route('get', '/user', (_req, res, actor) =>
    res.json({
      ...userJson(urls(), actor),
      name: actor,
      email: `${actor}@users.noreply.github.invalid`,
    }),
  );

  route('get', '/repos/:owner/:repo', (req, res) =>
    res.json(repositoryJson(urls(), repo(req))),
  );

  // --- commits ---------------------------------------------------------

  route('get', '/repos/:owner/:repo/commits', (req, res) => {
    const repository = repo(req);
    const start = state.requireCommitish(
      repository,
      str(req.query.sha) ?? repository.defaultBranch,
    );
    const store = state.objects(repository);
    let history = store.history(start);
    const path = str(req.query.path);
    if (path) {
      // Only commits that changed the path compared with their first parent.
      const at = (sha?: string) =>
        sha ? store.lookupPath(store.commit(sha).tree, path)?.sha : undefined;
      history = history.filter(
        sha => at(sha) !== at(store.commit(sha).parents[0]),
      );
    }
    res.json(
      paginate(req, res, history).map(sha =>
        repoCommitJson(urls(), repository, sha, store.commit(sha)),
      ),
    );
  });

  route('get', '/repos/:owner/:repo/commits/:ref', (req, res) => {
    const repository = repo(req);
    const sha = state.requireCommitish(repository, req.params.ref);
    const store = state.objects(repository);
    const commit = store.commit(sha);
    const before = commit.parents[0]
      ? store.flattenTree(store.commit(commit.parents[0]).tree)
      : new Map();
    const files = changedFiles(before, store.flattenTree(commit.tree)).map(
      f => ({
        filename: f.filename,
        status: f.status,
        sha: f.afterSha ?? f.beforeSha,
      }),
    );
    res.json({ ...repoCommitJson(urls(), repository, sha, commit), files });
  });

  route('post', '/repos/:owner/:repo/statuses/:sha', (req, res, actor) => {
    const repository = repo(req);
    const status = state.addStatus(
      repository,
      req.params.sha,
      {
        state: requireString(req.body, 'state') as 'success',
        context: str(req.body.context),
        description: str(req.body.description),
        targetUrl: str(req.body.target_url),
      },
      actor,
    );
    res.status(201).json(statusJson(urls(), status));
  });

  route('get', '/repos/:owner/:repo/commits/:ref/statuses', (req, res) => {
    const repository = repo(req);
    const sha = state.requireCommitish(repository, req.params.ref);
    const statuses = repository.statuses.filter(s => s.sha === sha).reverse();
    res.json(paginate(req, res, statuses).map(s => statusJson(urls(), s)));
  });

  route('get', '/repos/:owner/:repo/commits/:ref/status', (req, res) => {
    const repository = repo(req);
    const sha = state.requireCommitish(repository, req.params.ref);
    const statuses = state.latestStatuses(repository, sha);
    // GitHub's combined state: any failure wins, then any pending.
    let combined = 'success';
    if (statuses.some(s => s.state === 'pending') || statuses.length === 0) {
      combined = 'pending';
    }
    if (statuses.some(s => s.state === 'error' || s.state === 'failure')) {
      combined = 'failure';
    }
    res.json({
      state: combined,
      sha,
      total_count: statuses.length,
      statuses: statuses.map(s => statusJson(urls(), s)),
      repository: repositoryJson(urls(), repository),
    });
  });

  route('get', '/repos/:owner/:repo/branches/:branch', (req, res) => {
    const repository = repo(req);
    const sha = repository.refs[qualifyBranch(req.params.branch)];
    if (!sha)
      throw new GitHubApiError(404, `Branch not found: ${req.params.branch}`);
    const commit = state.objects(repository).commit(sha);
    res.json({
      name: req.params.branch,
      commit: repoCommitJson(urls(), repository, sha, commit),
      protected: false,
    });
  });

  // --- refs ------------------------------------------------------------

  const refName = (req: Request) =>
    `refs/${(req.params as Record<string, string>)[0]}`;

  route('get', '/repos/:owner/:repo/git/ref/*', (req, res) => {
    const repository = repo(req);
    const ref = refName(req);
    const sha = repository.refs[ref];
    if (!sha)
      throw new GitHubApiError(
        404,
        `Not Found: reference ${ref} does not exist`,
      );
    res.json(refJson(urls(), repository, ref, sha));
  });

  const matchingRefs = (req: Request, res: Response) => {
    const repository = repo(req);
    const prefix = refName(req);
    const matches = Object.entries(repository.refs)
      .filter(([ref]) => ref.startsWith(prefix))
      .sort(([a], [b]) => a.localeCompare(b));
    return res.json(
      matches.map(([ref, sha]) => refJson(urls(), repository, ref, sha)),
    );
  };
  route('get', '/repos/:owner/:repo/git/matching-refs/*', matchingRefs);

  // The legacy list endpoint: an exact match is returned as an object.
  route('get', '/repos/:owner/:repo/git/refs/*', (req, res) => {
    const repository = repo(req);
    const ref = refName(req);
    if (repository.refs[ref])
      return res.json(refJson(urls(), repository, ref, repository.refs[ref]));
    const matches = Object.entries(repository.refs).filter(([name]) =>
      name.startsWith(`${ref}/`),
    );
    if (matches.length === 0)
      throw new GitHubApiError(
        404,
        `Not Found: reference ${ref} does not exist`,
      );
    return res.json(
      matches.map(([name, sha]) => refJson(urls(), repository, name, sha)),
    );
  });

  route('post', '/repos/:owner/:repo/git/refs', (req, res, actor) => {
    const repository = repo(req);
    const ref = state.createRef(
      repository,
      requireString(req.body, 'ref'),
      requireString(req.body, 'sha'),
      actor,
    );
    res
      .status(201)
      .json(refJson(urls(), repository, ref, repository.refs[ref]));
  });

  route('patch', '/repos/:owner/:repo/git/refs/*', (req, res, actor) => {
    const repository = repo(req);
    const ref = refName(req);
    state.updateRef(
      repository,
      ref,
      requireString(req.body, 'sha'),
      req.body.force === true,
      actor,
    );
    res.json(refJson(urls(), repository, ref, repository.refs[ref]));
  });

  route('delete', '/repos/:owner/:repo/git/refs/*', (req, res, actor) => {
    state.deleteRef(repo(req), refName(req), actor);
    res.status(204).end();
  });

  // --- blobs, trees, commits --------------------------------------------

  route('post', '/repos/:owner/:repo/git/blobs', (req, res) => {
    const repository = repo(req);
    const content = req.body.content;
    if (typeof content !== 'string')
      throw new GitHubApiError(
        422,
        `Invalid request: 'content' is required and must be a string`,
        [{ field: 'content', code: 'missing_field' }],
      );
    const sha = state.createBlob(
      repository,
      content,
      str(req.body.encoding) ?? 'utf-8',
    );
    res.status(201).json({
      sha,
      url: `${urls().apiBaseUrl}/repos/${repository.owner}/${
        repository.name
      }/git/blobs/${sha}`,
    });
  });

  route('get', '/repos/:owner/:repo/git/blobs/:sha', (req, res) => {
    const repository = repo(req);
    const content = state.objects(repository).blobContent(req.params.sha);
    res.json({
      sha: req.params.sha,
      node_id: `B_${req.params.sha}`,
      size: content.length,
      encoding: 'base64',
      content: wrapBase64(content),
      url: `${urls().apiBaseUrl}/repos/${repository.owner}/${
        repository.name
      }/git/blobs/${req.params.sha}`,
    });
  });

  const treeJson = (
    repository: RepositoryRecord,
    sha: string,
    recursive: boolean,
  ) => {
    const store = state.objects(repository);
    const base = `${urls().apiBaseUrl}/repos/${repository.owner}/${
      repository.name
    }/git`;
    const entries: Array<Record<string, unknown>> = [];
    const walk = (treeSha: string, prefix: string) => {
      for (const entry of store.tree(treeSha).entries) {
        const path = prefix ? `${prefix}/${entry.name}` : entry.name;
        entries.push({
          path,
          mode: entry.mode,
          type: entry.type,
          sha: entry.sha,
          ...(entry.type === 'blob'
            ? {
                size: store.blobContent(entry.sha).length,
                url: `${base}/blobs/${entry.sha}`,
              }
            : { url: `${base}/trees/${entry.sha}` }),
        });
        if (recursive && entry.type === 'tree') walk(entry.sha, path);
      }
    };
    walk(sha, '');
    return {
      sha,
      url: `${base}/trees/${sha}`,
      tree: entries,
      truncated: false,
    };
  };

  route('post', '/repos/:owner/:repo/git/trees', (req, res) => {
    const repository = repo(req);
    if (!Array.isArray(req.body.tree))
      throw new GitHubApiError(
        422,
        `Invalid request: 'tree' must be an array of entries`,
        [{ field: 'tree', code: 'missing_field' }],
      );
    const sha = state.createTree(
      repository,
      str(req.body.base_tree),
      req.body.tree as TreeChange[],
    );
    res.status(201).json(treeJson(repository, sha, false));
  });

  route('get', '/repos/:owner/:repo/git/trees/:sha', (req, res) => {
    const repository = repo(req);
    let sha = req.params.sha;
    if (repository.objects[sha]?.type !== 'tree') {
      // GitHub also accepts a branch name or commit sha as tree_sha.
      const commit = state.resolveCommitish(repository, sha);
      if (!commit)
        throw new GitHubApiError(404, `Not Found: no tree or ref '${sha}'`);
      sha = state.objects(repository).commit(commit).tree;
    }
    const recursive =
      req.query.recursive !== undefined &&
      req.query.recursive !== '0' &&
      req.query.recursive !== 'false';
    res.json(treeJson(repository, sha, recursive));
  });

  route('post', '/repos/:owner/:repo/git/commits', (req, res, actor) => {
    const repository = repo(req);
    const sha = state.createCommit(
      repository,
      {
        message: requireString(req.body, 'message'),
        tree: requireString(req.body, 'tree'),
        parents: stringArray(req.body, 'parents'),
        author: req.body.author ?? undefined,
        committer: req.body.committer ?? undefined,
      },
      actor,
    );
    res
      .status(201)
      .json(
        gitCommitJson(
          urls(),
          repository,
          sha,
          state.objects(repository).commit(sha),
        ),
      );
  });

  route('get', '/repos/:owner/:repo/git/commits/:sha', (req, res) => {
    const repository = repo(req);
    res.json(
      gitCommitJson(
        urls(),
        repository,
        req.params.sha,
        state.objects(repository).commit(req.params.sha),
      ),
    );
  });

  // --- contents ----------------------------------------------------------

  const contents = (req: Request, res: Response) => {
    const repository = repo(req);
    const rawPath = (req.params as Record<string, string>)[0] ?? '';
    const ref = str(req.query.ref) ?? repository.defaultBranch;
    const commitSha = state.requireCommitish(repository, ref);
    const store = state.objects(repository);
    const path = rawPath ? normalisePath(rawPath) : '';
    const found = store.lookupPath(store.commit(commitSha).tree, path);
    if (!found)
      throw new GitHubApiError(
        404,
        `Not Found: ${path || '/'} does not exist at ${ref}`,
      );
    const base = `${urls().apiBaseUrl}/repos/${repository.owner}/${
      repository.name
    }`;
    const web = `${urls().webUrl}/${repository.owner}/${repository.name}`;
    const entryJson = (
      entryPath: string,
      type: 'file' | 'dir',
      sha: string,
      size: number,
    ) => ({
      type,
      name: entryPath.split('/').pop() ?? '',
      path: entryPath,
      sha,
      size,
      url: `${base}/contents/${entryPath}?ref=${encodeURIComponent(ref)}`,
      git_url: `${base}/git/${type === 'file' ? 'blobs' : 'trees'}/${sha}`,
      html_url: `${web}/${
        type === 'file' ? 'blob' : 'tree'
      }/${ref}/${entryPath}`,
      download_url: type === 'file' ? `${web}/raw/${ref}/${entryPath}` : null,
    });
    if (found.type === 'tree') {
      return res.json(
        store.tree(found.sha).entries.map(entry => {
          const entryPath = path ? `${path}/${entry.name}` : entry.name;
          return entry.type === 'tree'
            ? entryJson(entryPath, 'dir', entry.sha, 0)
            : entryJson(
                entryPath,
                'file',
                entry.sha,
                store.blobContent(entry.sha).length,
              );
        }),
      );
    }
    const content = store.blobContent(found.sha);
    if (/application\/vnd\.github(\.v3)?\.raw/.test(req.headers.accept ?? '')) {
      return res.type('text/plain; charset=utf-8').send(content);
    }
    return res.json({
      ...entryJson(path, 'file', found.sha, content.length),
      encoding: 'base64',
      content: wrapBase64(content),
    });
  };
  // Express answers HEAD with the GET handler minus the body, which is what
  // octokit-plugin-create-pull-request's existence check needs.
  route('get', '/repos/:owner/:repo/contents', contents);
  route('get', '/repos/:owner/:repo/contents/*', contents);

  const fileCommitJson = (
    repository: RepositoryRecord,
    path: string,
    branch: string,
    result: { commitSha: string; blobSha?: string },
  ) => {
    const store = state.objects(repository);
    const base = `${urls().apiBaseUrl}/repos/${repository.owner}/${
      repository.name
    }`;
    const web = `${urls().webUrl}/${repository.owner}/${repository.name}`;
    return {
      content: result.blobSha
        ? {
            type: 'file',
            name: path.split('/').pop(),
            path,
            sha: result.blobSha,
            size: store.blobContent(result.blobSha).length,
            url: `${base}/contents/${path}?ref=${encodeURIComponent(branch)}`,
            html_url: `${web}/blob/${branch}/${path}`,
            git_url: `${base}/git/blobs/${result.blobSha}`,
            download_url: `${web}/raw/${branch}/${path}`,
          }
        : null,
      commit: gitCommitJson(
        urls(),
        repository,
        result.commitSha,
        store.commit(result.commitSha),
      ),
    };
  };

  route('put', '/repos/:owner/:repo/contents/*', (req, res, actor) => {
    const repository = repo(req);
    const path = (req.params as Record<string, string>)[0];
    const content = requireString(req.body, 'content');
    const branch = str(req.body.branch) ?? repository.defaultBranch;
    const result = state.commitFileChange(
      repository,
      {
        path,
        content: Buffer.from(content, 'base64'),
        expectedSha: str(req.body.sha),
        branch,
        message: requireString(req.body, 'message'),
        author: req.body.author ?? undefined,
        committer: req.body.committer ?? undefined,
      },
      actor,
    );
    res
      .status(result.created ? 201 : 200)
      .json(fileCommitJson(repository, normalisePath(path), branch, result));
  });

  route('delete', '/repos/:owner/:repo/contents/*', (req, res, actor) => {
    const repository = repo(req);
    const path = (req.params as Record<string, string>)[0];
    const branch = str(req.body?.branch) ?? repository.defaultBranch;
    const result = state.commitFileChange(
      repository,
      {
        path,
        content: null,
        expectedSha: requireString(req.body ?? {}, 'sha'),
        branch,
        message: requireString(req.body ?? {}, 'message'),
        author: req.body.author ?? undefined,
        committer: req.body.committer ?? undefined,
      },
      actor,
    );
    res.json(fileCommitJson(repository, normalisePath(path), branch, result));
  });

  // --- pull requests -------------------------------------------------------

  const prJson = (repository: RepositoryRecord, number: number) =>
    pullRequestJson(urls(), state, repository, state.pull(repository, number));

  route('get', '/repos/:owner/:repo/pulls', (req, res) => {
    const repository = repo(req);
    const stateFilter = str(req.query.state) ?? 'open';
    if (!['open', 'closed', 'all'].includes(stateFilter))
      throw new GitHubApiError(
        422,
        `Invalid state '${stateFilter}': use open, closed or all`,
      );
    const pulls = state.listPullRequests(repository, {
      state: stateFilter as 'open',
      head: str(req.query.head),
      base: str(req.query.base),
    });
    res.json(
      paginate(req, res, pulls).map(p =>
        pullRequestJson(urls(), state, repository, p),
      ),
    );
  });

  route('post', '/repos/:owner/:repo/pulls', (req, res, actor) => {
    const repository = repo(req);
    const pull = state.createPullRequest(
      repository,
      {
        head: requireString(req.body, 'head'),
        base: requireString(req.body, 'base'),
        title: str(req.body.title),
        body: str(req.body.body),
        draft: req.body.draft === true,
      },
      actor,
    );
    res.status(201).json(prJson(repository, pull.number));
  });

  route('get', '/repos/:owner/:repo/pulls/:number', (req, res) => {
    const repository = repo(req);
    const number = pullNumber(req);
    const accept = req.headers.accept ?? '';
    if (/\.diff|\.patch/.test(accept))
      return res
        .type('text/plain')
        .send(pullRequestDiff(state, repository, number));
    return res.json(prJson(repository, number));
  });

  route('patch', '/repos/:owner/:repo/pulls/:number', (req, res, actor) => {
    const repository = repo(req);
    const number = pullNumber(req);
    const input = req.body as Record<string, unknown>;
    if (
      input.state !== undefined &&
      input.state !== 'open' &&
      input.state !== 'closed'
    ) {
      throw new GitHubApiError(
        422,
        `Invalid state '${input.state}': use open or closed`,
      );
    }
    // Real GitHub ignores `draft` here (it needs the GraphQL mutation); the
    // stand-in accepts it so scripts can flip drafts without GraphQL.
    state.updatePullRequest(
      repository,
      number,
      {
        title: str(input.title),
        body: str(input.body),
        state: input.state as 'open' | 'closed' | undefined,
        base: str(input.base),
        draft: typeof input.draft === 'boolean' ? input.draft : undefined,
      },
      actor,
    );
    res.json(prJson(repository, number));
  });

  route('get', '/repos/:owner/:repo/pulls/:number/files', (req, res) => {
    const repository = repo(req);
    const pull = state.pull(repository, pullNumber(req));
    const store = state.objects(repository);
    const before = store.flattenTree(
      store.commit(state.pullDiffBase(repository, pull)).tree,
    );
    const after = store.flattenTree(
      store.commit(state.pullHeadSha(repository, pull)).tree,
    );
    const files = changedFiles(before, after).map(change => {
      const patch = filePatch(
        state,
        repository,
        change.filename,
        change.beforeSha,
        change.afterSha,
      );
      return {
        sha: change.afterSha ?? change.beforeSha,
        filename: change.filename,
        status: change.status,
        additions: patch.additions,
        deletions: patch.deletions,
        changes: patch.additions + patch.deletions,
        patch: patch.hunks,
      };
    });
    res.json(paginate(req, res, files));
  });

  route('get', '/repos/:owner/:repo/pulls/:number/commits', (req, res) => {
    const repository = repo(req);
    const pull = state.pull(repository, pullNumber(req));
    const store = state.objects(repository);
    const base = state.pullDiffBase(repository, pull);
    const commits = store
      .commitsBetween(base, state.pullHeadSha(repository, pull))
      .reverse();
    res.json(
      paginate(req, res, commits).map(sha =>
        repoCommitJson(urls(), repository, sha, store.commit(sha)),
      ),
    );
  });

  route('get', '/repos/:owner/:repo/pulls/:number/merge', (req, res) => {
    const pull = state.pull(repo(req), pullNumber(req));
    if (!pull.mergedAt)
      throw new GitHubApiError(
        404,
        `Not Found: pull request #${pull.number} has not been merged`,
      );
    res.status(204).end();
  });

  route(
    'put',
    '/repos/:owner/:repo/pulls/:number/merge',
    async (req, res, actor) => {
      const repository = repo(req);
      const { pull, event } = state.mergePullRequest(
        repository,
        pullNumber(req),
        {
          mergeMethod: str(req.body?.merge_method) as MergeMethod | undefined,
          commitTitle: str(req.body?.commit_title),
          commitMessage: str(req.body?.commit_message),
          sha: str(req.body?.sha),
        },
        actor,
      );
      await context.afterMerge(event);
      res.json({
        sha: pull.mergeCommitSha,
        merged: true,
        message: 'Pull Request successfully merged',
      });
    },
  );

  route(
    'get',
    '/repos/:owner/:repo/pulls/:number/requested_reviewers',
    (req, res) => {
      const repository = repo(req);
      const pull = state.pull(repository, pullNumber(req));
      res.json({
        users: pull.requestedReviewers.map(l => userJson(urls(), l)),
        teams: prJson(repository, pull.number).requested_teams,
      });
    },
  );

  route(
    'post',
    '/repos/:owner/:repo/pulls/:number/requested_reviewers',
    (req, res, actor) => {
      const repository = repo(req);
      const number = pullNumber(req);
      state.requestReviewers(
        repository,
        number,
        stringArray(req.body, 'reviewers'),
        stringArray(req.body, 'team_reviewers'),
        actor,
      );
      res.status(201).json(prJson(repository, number));
    },
  );

  route(
    'delete',
    '/repos/:owner/:repo/pulls/:number/requested_reviewers',
    (req, res) => {
      const repository = repo(req);
      const number = pullNumber(req);
      state.removeRequestedReviewers(
        repository,
        number,
        stringArray(req.body ?? {}, 'reviewers'),
        stringArray(req.body ?? {}, 'team_reviewers'),
      );
      res.json(prJson(repository, number));
    },
  );

  route('get', '/repos/:owner/:repo/pulls/:number/reviews', (req, res) => {
    const repository = repo(req);
    const pull = state.pull(repository, pullNumber(req));
    res.json(
      paginate(req, res, pull.reviews ?? []).map(review =>
        reviewJson(urls(), repository, pull.number, review),
      ),
    );
  });

  route(
    'post',
    '/repos/:owner/:repo/pulls/:number/reviews',
    (req, res, actor) => {
      const repository = repo(req);
      const number = pullNumber(req);
      const review = state.submitReview(
        repository,
        number,
        { event: str(req.body?.event), body: str(req.body?.body) },
        actor,
      );
      res.json(reviewJson(urls(), repository, number, review));
    },
  );

  // --- repository webhooks ----------------------------------------------------

  const hookJson = (repository: RepositoryRecord, hook: WebhookRecord) => ({
    type: 'Repository',
    id: hook.id,
    name: 'web',
    active: hook.active,
    events: hook.events,
    // GitHub never returns the secret, only that there is one.
    config: {
      url: hook.url,
      content_type: 'json',
      insecure_ssl: '0',
      ...(hook.secret ? { secret: '********' } : {}),
    },
    created_at: hook.createdAt,
    updated_at: hook.createdAt,
    url: `${urls().apiBaseUrl}/repos/${repository.owner}/${
      repository.name
    }/hooks/${hook.id}`,
  });

  route('post', '/repos/:owner/:repo/hooks', (req, res) => {
    const repository = repo(req);
    const config = (req.body?.config ?? {}) as Record<string, unknown>;
    if (config.content_type !== undefined && config.content_type !== 'json') {
      throw new GitHubApiError(
        422,
        `Validation Failed: the stand-in delivers config.content_type 'json' only`,
        [{ resource: 'Hook', field: 'config.content_type', code: 'invalid' }],
      );
    }
    const hook = state.createHook(repository, {
      url: str(config.url),
      secret: str(config.secret),
      events: stringArray(req.body, 'events'),
      active:
        typeof req.body?.active === 'boolean' ? req.body.active : undefined,
    });
    res.status(201).json(hookJson(repository, hook));
  });

  route('get', '/repos/:owner/:repo/hooks', (req, res) => {
    const repository = repo(req);
    res.json((repository.hooks ?? []).map(hook => hookJson(repository, hook)));
  });

  route('delete', '/repos/:owner/:repo/hooks/:id', (req, res) => {
    state.deleteHook(repo(req), Number(req.params.id));
    res.status(204).end();
  });

  // --- issues (pull requests are issues) -------------------------------------

  route('get', '/repos/:owner/:repo/issues/:number/comments', (req, res) => {
    const repository = repo(req);
    const comments = state.listComments(repository, pullNumber(req));
    res.json(
      paginate(req, res, comments).map(c => commentJson(urls(), repository, c)),
    );
  });

  route(
    'post',
    '/repos/:owner/:repo/issues/:number/comments',
    (req, res, actor) => {
      const repository = repo(req);
      const comment = state.addComment(
        repository,
        pullNumber(req),
        str(req.body.body) ?? '',
        actor,
      );
      res.status(201).json(commentJson(urls(), repository, comment));
    },
  );

  route('post', '/repos/:owner/:repo/issues/:number/assignees', (req, res) => {
    const repository = repo(req);
    const number = pullNumber(req);
    state.addAssignees(repository, number, stringArray(req.body, 'assignees'));
    res.status(201).json(prJson(repository, number));
  });

  router.use((req: Request, res: Response) => {
    res.status(404).json({
      message: `Not Found: the GitHub stand-in does not implement ${req.method} ${req.path}`,
      documentation_url: 'https://docs.github.com/rest',
    });
  });

  return router;
}

/** Per-file unified diff hunks, as GitHub's `patch` field carries them. */
export function filePatch(
  state: GitHubState,
  repository: RepositoryRecord,
  path: string,
  beforeSha?: string,
  afterSha?: string,
) {
  const store = state.objects(repository);
  const text = (sha?: string) =>
    sha ? store.blobContent(sha).toString('utf8') : '';
  const full = createPatch(path, text(beforeSha), text(afterSha), '', '', {
    context: 3,
  });
  // Drop the "Index:"/"===="/"---"/"+++" header; GitHub's patch starts at @@.
  const hunks = full.split('\n').slice(4).join('\n').replace(/\n$/, '');
  let additions = 0;
  let deletions = 0;
  for (const line of hunks.split('\n')) {
    if (line.startsWith('+')) additions++;
    else if (line.startsWith('-')) deletions++;
  }
  return { hunks, additions, deletions };
}

/** The whole pull request as a git-style unified diff. */
export function pullRequestDiff(
  state: GitHubState,
  repository: RepositoryRecord,
  number: number,
): string {
  const pull = state.pull(repository, number);
  const store = state.objects(repository);
  const before = store.flattenTree(
    store.commit(state.pullDiffBase(repository, pull)).tree,
  );
  const after = store.flattenTree(
    store.commit(state.pullHeadSha(repository, pull)).tree,
  );
  return `${changedFiles(before, after)
    .map(change => {
      const { hunks } = filePatch(
        state,
        repository,
        change.filename,
        change.beforeSha,
        change.afterSha,
      );
      const from =
        change.status === 'added' ? '/dev/null' : `a/${change.filename}`;
      const to =
        change.status === 'removed' ? '/dev/null' : `b/${change.filename}`;
      return [
        `diff --git a/${change.filename} b/${change.filename}`,
        `--- ${from}`,
        `+++ ${to}`,
        hunks,
      ].join('\n');
    })
    .join('\n')}\n`;
}
