/*
 * Plain HTML pages of the GitHub stand-in, at the same paths as github.com
 * (`/<owner>/<repo>/pull/<n>`), so the portal's pull request links lead
 * somewhere real: title, state, reviewers, checks, comments, the diff and a
 * Merge button. No JavaScript; the button is a form POST.
 */
import express, { Request, Response, Router } from 'express';
import {
  GitHubApiError,
  GitHubState,
  PullRequestMergedEvent,
  PullRequestRecord,
  RepositoryRecord,
} from './gitHubState';
import { changedFiles, pullStateLabel } from './representations';
import { filePatch, pullRequestDiff } from './restApi';

export interface WebPagesContext {
  state: GitHubState;
  /** The login merges from the web page are attributed to. */
  webUser: string;
  afterMerge: (event: PullRequestMergedEvent) => Promise<void>;
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #1f2328; }
  a { color: #0969da; text-decoration: none; }
  .state { display: inline-block; padding: .2rem .7rem; border-radius: 1rem; color: #fff; font-weight: 600; }
  .state-open { background: #1f883d; } .state-draft { background: #6e7781; }
  .state-merged { background: #8250df; } .state-closed { background: #cf222e; }
  .status-success { color: #1f883d; } .status-failure, .status-error { color: #cf222e; } .status-pending { color: #9a6700; }
  pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; white-space: pre-wrap; }
  .diff .add { background: #dafbe1; } .diff .del { background: #ffebe9; } .diff .hunk { color: #6e7781; }
  .box { border: 1px solid #d0d7de; border-radius: 6px; padding: 1rem; margin: 1rem 0; }
  table { border-collapse: collapse; } td, th { padding: .25rem .75rem; text-align: left; }
  .error { color: #cf222e; }
`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(
    title,
  )}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

function reviewsHtml(pull: PullRequestRecord): string {
  const reviews = pull.reviews ?? [];
  if (reviews.length === 0) return '';
  const items = reviews.map(review => {
    const cls = {
      APPROVED: 'status-success',
      CHANGES_REQUESTED: 'status-failure',
      COMMENTED: '',
    }[review.state];
    return `<li class="${cls}"><strong>${escapeHtml(
      review.author,
    )}</strong> ${escapeHtml(
      review.state.toLowerCase().replace('_', ' '),
    )} at ${escapeHtml(review.submittedAt)}${
      review.body ? `: ${escapeHtml(review.body)}` : ''
    }</li>`;
  });
  return `<h2>Reviews</h2><ul>${items.join('')}</ul>`;
}

function diffHtml(hunks: string): string {
  return hunks
    .split('\n')
    .map(line => {
      let cls = '';
      if (line.startsWith('@@')) cls = 'hunk';
      else if (line.startsWith('+')) cls = 'add';
      else if (line.startsWith('-')) cls = 'del';
      return cls
        ? `<span class="${cls}">${escapeHtml(line)}</span>`
        : escapeHtml(line);
    })
    .join('\n');
}

export function createWebPagesRouter(context: WebPagesContext): Router {
  const { state } = context;
  const router = Router();
  router.use(express.urlencoded({ extended: false }));

  const handle =
    (fn: (req: Request, res: Response) => unknown | Promise<unknown>) =>
    async (req: Request, res: Response) => {
      try {
        await fn(req, res);
      } catch (error) {
        const status = error instanceof GitHubApiError ? error.status : 500;
        res
          .status(status)
          .type('html')
          .send(
            page(
              'Error',
              `<h1>${status}</h1><p class="error">${escapeHtml(
                (error as Error).message,
              )}</p><p><a href="/">All repositories</a></p>`,
            ),
          );
      }
    };

  router.get(
    '/',
    handle((_req, res) => {
      const rows = state.listRepositories().map(r => {
        const open = r.pulls.filter(p => p.state === 'open').length;
        return `<tr><td><a href="/${escapeHtml(r.owner)}/${escapeHtml(
          r.name,
        )}">${escapeHtml(r.owner)}/${escapeHtml(
          r.name,
        )}</a></td><td>${open} open pull request(s)</td></tr>`;
      });
      res
        .type('html')
        .send(
          page(
            'GitHub stand-in',
            `<h1>Repositories</h1><table>${
              rows.join('') || '<tr><td>No repositories yet.</td></tr>'
            }</table>`,
          ),
        );
    }),
  );

  const repoOf = (req: Request): RepositoryRecord =>
    state.repository(req.params.owner, req.params.repo);

  const pullList = (repository: RepositoryRecord) => {
    const rows = state.listPullRequests(repository, { state: 'all' }).map(p => {
      const label = pullStateLabel(p);
      return `<tr><td><span class="state state-${label}">${label}</span></td><td><a href="/${escapeHtml(
        repository.owner,
      )}/${escapeHtml(repository.name)}/pull/${p.number}">#${
        p.number
      } ${escapeHtml(p.title)}</a></td><td>${escapeHtml(
        p.headRef,
      )} → ${escapeHtml(p.baseRef)}</td></tr>`;
    });
    return `<table>${
      rows.join('') || '<tr><td>No pull requests.</td></tr>'
    }</table>`;
  };

  router.get(
    '/:owner/:repo',
    handle((req, res) => {
      const repository = repoOf(req);
      const store = state.objects(repository);
      const head = state.requireCommitish(repository, repository.defaultBranch);
      const files = [
        ...store.flattenTree(store.commit(head).tree).keys(),
      ].sort();
      const base = `/${escapeHtml(repository.owner)}/${escapeHtml(
        repository.name,
      )}`;
      res.type('html').send(
        page(
          `${repository.owner}/${repository.name}`,
          `
      <h1>${escapeHtml(repository.owner)}/${escapeHtml(repository.name)}</h1>
      <p>Default branch <code>${escapeHtml(
        repository.defaultBranch,
      )}</code> at <code>${head.slice(0, 7)}</code></p>
      <h2>Pull requests</h2>${pullList(repository)}
      <h2>Files</h2><ul>${files
        .map(
          f =>
            `<li><a href="${base}/blob/${escapeHtml(
              repository.defaultBranch,
            )}/${escapeHtml(f)}">${escapeHtml(f)}</a></li>`,
        )
        .join('')}</ul>`,
        ),
      );
    }),
  );

  router.get(
    '/:owner/:repo/pulls',
    handle((req, res) => {
      const repository = repoOf(req);
      res
        .type('html')
        .send(
          page(
            `Pull requests · ${repository.owner}/${repository.name}`,
            `<h1>Pull requests of ${escapeHtml(repository.owner)}/${escapeHtml(
              repository.name,
            )}</h1>${pullList(repository)}`,
          ),
        );
    }),
  );

  router.get(
    '/:owner/:repo/pull/:number.diff',
    handle((req, res) => {
      res
        .type('text/plain')
        .send(pullRequestDiff(state, repoOf(req), Number(req.params.number)));
    }),
  );

  router.get(
    '/:owner/:repo/pull/:number',
    handle((req, res) => {
      const repository = repoOf(req);
      const pull = state.pull(repository, Number(req.params.number));
      const store = state.objects(repository);
      const headSha = state.pullHeadSha(repository, pull);
      const before = store.flattenTree(
        store.commit(state.pullDiffBase(repository, pull)).tree,
      );
      const after = store.flattenTree(store.commit(headSha).tree);
      const changes = changedFiles(before, after);
      const label = pullStateLabel(pull);
      const { mergeable, conflicts } = state.mergeability(repository, pull);
      const base = `/${escapeHtml(repository.owner)}/${escapeHtml(
        repository.name,
      )}`;
      const statuses = [headSha, pull.mergeCommitSha]
        .filter((sha): sha is string => Boolean(sha))
        .flatMap(sha =>
          state.latestStatuses(repository, sha).map(s => ({ ...s, sha })),
        );
      const comments = repository.comments.filter(
        c => c.issueNumber === pull.number,
      );
      let mergeBox: string;
      if (pull.mergedAt) {
        mergeBox = `<p>Merged by ${escapeHtml(pull.mergedBy)} at ${escapeHtml(
          pull.mergedAt,
        )} as <code>${escapeHtml(pull.mergeCommitSha)}</code>.</p>`;
      } else if (pull.state !== 'open') {
        mergeBox = '<p>Closed without merging.</p>';
      } else if (pull.draft) {
        mergeBox =
          '<p>This pull request is still a draft; it must be marked ready for review before merging.</p>';
      } else if (!mergeable) {
        mergeBox = `<p class="error">Conflicts with ${escapeHtml(
          pull.baseRef,
        )}: ${conflicts.map(escapeHtml).join(', ')}</p>`;
      } else {
        mergeBox = `<form method="post" action="${base}/pull/${
          pull.number
        }/merge"><input type="hidden" name="sha" value="${headSha}"><button type="submit">Merge pull request</button> into <code>${escapeHtml(
          pull.baseRef,
        )}</code> as ${escapeHtml(context.webUser)}</form>`;
      }
      const files = changes.map(change => {
        const { hunks } = filePatch(
          state,
          repository,
          change.filename,
          change.beforeSha,
          change.afterSha,
        );
        return `<div class="box"><strong>${escapeHtml(
          change.filename,
        )}</strong> <em>${change.status}</em><pre class="diff">${diffHtml(
          hunks,
        )}</pre></div>`;
      });
      res.type('html').send(
        page(
          `${pull.title} · Pull Request #${pull.number}`,
          `
      <p><a href="${base}">${escapeHtml(repository.owner)}/${escapeHtml(
            repository.name,
          )}</a></p>
      <h1>${escapeHtml(pull.title)} <span>#${pull.number}</span></h1>
      <p><span class="state state-${label}">${label}</span>
        ${escapeHtml(pull.author)} wants to merge <code>${escapeHtml(
            pull.headRef,
          )}</code> into <code>${escapeHtml(pull.baseRef)}</code></p>
      <p>Reviewers: ${
        [
          ...pull.requestedReviewers,
          ...pull.requestedTeams.map(t => `${repository.owner}/${t}`),
        ]
          .map(escapeHtml)
          .join(', ') || 'none requested'
      }</p>
      ${reviewsHtml(pull)}
      ${
        pull.state === 'open' && pull.author !== context.webUser
          ? `<form method="post" action="${base}/pull/${
              pull.number
            }/review"><input type="hidden" name="event" value="APPROVE"><button type="submit">Approve</button> as ${escapeHtml(
              context.webUser,
            )}</form>`
          : ''
      }
      <div class="box">${
        pull.body
          ? `<pre>${escapeHtml(pull.body)}</pre>`
          : '<em>No description provided.</em>'
      }</div>
      <h2>Checks</h2>
      ${
        statuses.length
          ? `<ul>${statuses
              .map(
                s =>
                  `<li class="status-${s.state}"><strong>${escapeHtml(
                    s.context,
                  )}</strong> ${s.state} on <code>${s.sha.slice(
                    0,
                    7,
                  )}</code>: ${escapeHtml(s.description)}${
                    s.targetUrl
                      ? ` (<a href="${escapeHtml(s.targetUrl)}">details</a>)`
                      : ''
                  }</li>`,
              )
              .join('')}</ul>`
          : '<p>No checks reported.</p>'
      }
      <div class="box">${mergeBox}</div>
      <h2>Conversation</h2>
      ${
        comments
          .map(
            c =>
              `<div class="box" id="issuecomment-${c.id}"><strong>${escapeHtml(
                c.author,
              )}</strong> commented at ${escapeHtml(
                c.createdAt,
              )}<pre>${escapeHtml(c.body)}</pre></div>`,
          )
          .join('') || '<p>No comments.</p>'
      }
      <h2>Files changed (${changes.length})</h2>
      <p><a href="${base}/pull/${pull.number}.diff">Unified diff</a></p>
      ${files.join('')}`,
        ),
      );
    }),
  );

  router.post(
    '/:owner/:repo/pull/:number/review',
    handle((req, res) => {
      const repository = repoOf(req);
      const number = Number(req.params.number);
      state.submitReview(
        repository,
        number,
        {
          event: String(req.body?.event ?? ''),
          body: typeof req.body?.body === 'string' ? req.body.body : undefined,
        },
        context.webUser,
      );
      res.redirect(
        303,
        `/${repository.owner}/${repository.name}/pull/${number}`,
      );
    }),
  );

  router.post(
    '/:owner/:repo/pull/:number/merge',
    handle(async (req, res) => {
      const repository = repoOf(req);
      const number = Number(req.params.number);
      const sha = typeof req.body?.sha === 'string' ? req.body.sha : undefined;
      const { event } = state.mergePullRequest(
        repository,
        number,
        { sha },
        context.webUser,
      );
      await context.afterMerge(event);
      res.redirect(
        303,
        `/${repository.owner}/${repository.name}/pull/${number}`,
      );
    }),
  );

  /**
   * `<ref>/<path>` where the ref may itself contain slashes
   * (`keda/orders-worker`): like GitHub, the longest existing ref wins.
   */
  const refAndPath = (repository: RepositoryRecord, rest: string) => {
    const segments = rest.split('/');
    for (let i = segments.length; i >= 1; i--) {
      const ref = segments.slice(0, i).join('/');
      const commit = state.resolveCommitish(repository, ref);
      if (commit) return { ref, commit, path: segments.slice(i).join('/') };
    }
    throw new GitHubApiError(404, `No branch, tag or commit in '${rest}'`);
  };

  const located = (req: Request) => {
    const repository = repoOf(req);
    const { ref, commit, path } = refAndPath(
      repository,
      (req.params as Record<string, string>)[0] ?? '',
    );
    const store = state.objects(repository);
    const found = store.lookupPath(store.commit(commit).tree, path);
    if (!found)
      throw new GitHubApiError(404, `${path} does not exist at ${ref}`);
    return { repository, ref, path, found, store };
  };

  const fileAt = (req: Request) => {
    const { repository, ref, path, found, store } = located(req);
    if (found.type !== 'blob') {
      throw new GitHubApiError(
        404,
        `${path} is a directory at ${ref}, not a file`,
      );
    }
    return { repository, ref, path, content: store.blobContent(found.sha) };
  };

  const repoLink = (repository: RepositoryRecord) =>
    `<a href="/${escapeHtml(repository.owner)}/${escapeHtml(
      repository.name,
    )}">${escapeHtml(repository.owner)}/${escapeHtml(repository.name)}</a>`;

  router.get(
    '/:owner/:repo/blob/*',
    handle((req, res) => {
      const { repository, ref, path, content } = fileAt(req);
      res
        .type('html')
        .send(
          page(
            path,
            `<p>${repoLink(repository)} @ ${escapeHtml(
              ref,
            )}</p><h1>${escapeHtml(path)}</h1><pre>${escapeHtml(
              content.toString('utf8'),
            )}</pre>`,
          ),
        );
    }),
  );

  router.get(
    '/:owner/:repo/tree/*',
    handle((req, res) => {
      const { repository, ref, path, found, store } = located(req);
      if (found.type !== 'tree') {
        res.redirect(
          302,
          `/${repository.owner}/${repository.name}/blob/${ref}/${path}`,
        );
        return;
      }
      const base = `/${escapeHtml(repository.owner)}/${escapeHtml(
        repository.name,
      )}`;
      const entries = store.tree(found.sha).entries.map(entry => {
        const entryPath = path ? `${path}/${entry.name}` : entry.name;
        const kind = entry.type === 'tree' ? 'tree' : 'blob';
        return `<li><a href="${base}/${kind}/${escapeHtml(ref)}/${escapeHtml(
          entryPath,
        )}">${escapeHtml(entry.name)}${kind === 'tree' ? '/' : ''}</a></li>`;
      });
      res
        .type('html')
        .send(
          page(
            path || ref,
            `<p>${repoLink(repository)} @ ${escapeHtml(
              ref,
            )}</p><h1>${escapeHtml(path || '/')}</h1><ul>${entries.join(
              '',
            )}</ul>`,
          ),
        );
    }),
  );

  router.get(
    '/:owner/:repo/raw/*',
    handle((req, res) => {
      res.type('text/plain').send(fileAt(req).content);
    }),
  );

  router.get(
    '/:owner/:repo/commit/:sha',
    handle((req, res) => {
      const repository = repoOf(req);
      const sha = state.requireCommitish(repository, req.params.sha);
      const store = state.objects(repository);
      const commit = store.commit(sha);
      const before = commit.parents[0]
        ? store.flattenTree(store.commit(commit.parents[0]).tree)
        : new Map();
      const changes = changedFiles(before, store.flattenTree(commit.tree));
      const files = changes.map(change => {
        const { hunks } = filePatch(
          state,
          repository,
          change.filename,
          change.beforeSha,
          change.afterSha,
        );
        return `<div class="box"><strong>${escapeHtml(
          change.filename,
        )}</strong> <em>${change.status}</em><pre class="diff">${diffHtml(
          hunks,
        )}</pre></div>`;
      });
      const statuses = state.latestStatuses(repository, sha);
      res.type('html').send(
        page(
          `Commit ${sha.slice(0, 7)}`,
          `<p>${repoLink(repository)}</p>
          <h1>${escapeHtml(commit.message.split('\n')[0])}</h1>
          <pre>${escapeHtml(commit.message)}</pre>
          <p>${escapeHtml(commit.author.name)} &lt;${escapeHtml(
            commit.author.email,
          )}&gt; at ${escapeHtml(commit.author.date)} · <code>${sha}</code>
          ${commit.parents
            .map(
              p =>
                ` · parent <a href="/${escapeHtml(
                  repository.owner,
                )}/${escapeHtml(repository.name)}/commit/${p}"><code>${p.slice(
                  0,
                  7,
                )}</code></a>`,
            )
            .join('')}</p>
          ${
            statuses.length
              ? `<ul>${statuses
                  .map(
                    s =>
                      `<li class="status-${s.state}"><strong>${escapeHtml(
                        s.context,
                      )}</strong> ${s.state}: ${escapeHtml(
                        s.description,
                      )}</li>`,
                  )
                  .join('')}</ul>`
              : ''
          }
          <h2>Files changed (${changes.length})</h2>${files.join('')}`,
        ),
      );
    }),
  );

  return router;
}
