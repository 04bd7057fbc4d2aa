/*
 * JSON shapes of the GitHub REST API (the fields clients such as Octokit,
 * Backstage and octokit-plugin-create-pull-request read), built from the
 * stand-in's state. `html_url`s point at the stand-in's own web pages.
 */
import {
  CommitStatusRecord,
  GitHubState,
  IssueCommentRecord,
  PullRequestRecord,
  PullRequestReviewRecord,
  RepositoryRecord,
  stableId,
} from './gitHubState';
import { FlatTree, GitCommit, GitSignature } from './gitObjects';

export interface StandInUrls {
  /** Web root, e.g. http://127.0.0.1:4567 */
  webUrl: string;
  /** REST root, e.g. http://127.0.0.1:4567/api/v3 */
  apiBaseUrl: string;
}

export function userJson(urls: StandInUrls, login: string) {
  return {
    login,
    id: stableId(`user:${login}`),
    node_id: `U_${Buffer.from(login).toString('base64url')}`,
    type: 'User',
    site_admin: false,
    url: `${urls.apiBaseUrl}/users/${login}`,
    html_url: `${urls.webUrl}/${login}`,
    avatar_url: '',
  };
}

export function teamJson(urls: StandInUrls, owner: string, slug: string) {
  return {
    id: stableId(`team:${owner}/${slug}`),
    node_id: `T_${Buffer.from(`${owner}/${slug}`).toString('base64url')}`,
    slug,
    name: slug,
    privacy: 'closed',
    permission: 'pull',
    url: `${urls.apiBaseUrl}/orgs/${owner}/teams/${slug}`,
    html_url: `${urls.webUrl}/orgs/${owner}/teams/${slug}`,
  };
}

export function repositoryJson(
  urls: StandInUrls,
  repository: RepositoryRecord,
) {
  const fullName = `${repository.owner}/${repository.name}`;
  return {
    id: repository.id,
    node_id: `R_${Buffer.from(fullName).toString('base64url')}`,
    name: repository.name,
    full_name: fullName,
    private: false,
    visibility: 'public',
    owner: userJson(urls, repository.owner),
    description: repository.description ?? null,
    fork: false,
    default_branch: repository.defaultBranch,
    created_at: repository.createdAt,
    html_url: `${urls.webUrl}/${fullName}`,
    url: `${urls.apiBaseUrl}/repos/${fullName}`,
    clone_url: `${urls.webUrl}/${fullName}.git`,
    // Every token of the stand-in may push; octokit-plugin-create-pull-request
    // forks the repository when `permissions.push` is false.
    permissions: {
      admin: true,
      maintain: true,
      push: true,
      triage: true,
      pull: true,
    },
    allow_merge_commit: true,
    allow_squash_merge: true,
    allow_rebase_merge: true,
  };
}

function signatureJson(signature: GitSignature) {
  return { name: signature.name, email: signature.email, date: signature.date };
}

export function gitCommitJson(
  urls: StandInUrls,
  repository: RepositoryRecord,
  sha: string,
  commit: GitCommit,
) {
  const base = `${urls.apiBaseUrl}/repos/${repository.owner}/${repository.name}`;
  return {
    sha,
    node_id: `C_${sha}`,
    url: `${base}/git/commits/${sha}`,
    html_url: `${urls.webUrl}/${repository.owner}/${repository.name}/commit/${sha}`,
    author: signatureJson(commit.author),
    committer: signatureJson(commit.committer),
    message: commit.message,
    tree: { sha: commit.tree, url: `${base}/git/trees/${commit.tree}` },
    parents: commit.parents.map(parent => ({
      sha: parent,
      url: `${base}/git/commits/${parent}`,
    })),
    verification: {
      verified: false,
      reason: 'unsigned',
      signature: null,
      payload: null,
    },
  };
}

/** The shape of `GET /repos/{o}/{r}/commits[/{ref}]` items. */
export function repoCommitJson(
  urls: StandInUrls,
  repository: RepositoryRecord,
  sha: string,
  commit: GitCommit,
) {
  const base = `${urls.apiBaseUrl}/repos/${repository.owner}/${repository.name}`;
  const git = gitCommitJson(urls, repository, sha, commit);
  return {
    sha,
    node_id: git.node_id,
    url: `${base}/commits/${sha}`,
    html_url: git.html_url,
    commit: {
      url: git.url,
      author: git.author,
      committer: git.committer,
      message: git.message,
      tree: git.tree,
      comment_count: 0,
      verification: git.verification,
    },
    author: null,
    committer: null,
    parents: commit.parents.map(parent => ({
      sha: parent,
      url: `${base}/commits/${parent}`,
    })),
  };
}

export function refJson(
  urls: StandInUrls,
  repository: RepositoryRecord,
  ref: string,
  sha: string,
) {
  const base = `${urls.apiBaseUrl}/repos/${repository.owner}/${repository.name}`;
  return {
    ref,
    node_id: `REF_${Buffer.from(
      `${repository.owner}/${repository.name}:${ref}`,
    ).toString('base64url')}`,
    url: `${base}/git/${ref}`,
    object: { type: 'commit', sha, url: `${base}/git/commits/${sha}` },
  };
}

export function pullHtmlUrl(
  urls: StandInUrls,
  repository: RepositoryRecord,
  number: number,
) {
  return `${urls.webUrl}/${repository.owner}/${repository.name}/pull/${number}`;
}

export function pullNodeId(repository: RepositoryRecord, number: number) {
  return `PR_${Buffer.from(
    `${repository.owner}/${repository.name}#${number}`,
  ).toString('base64url')}`;
}

/** Inverse of pullNodeId: which repository and number a node id names. */
export function parsePullNodeId(
  id: string,
): { owner: string; repo: string; number: number } | undefined {
  if (!id.startsWith('PR_')) return undefined;
  const match = /^([^/]+)\/([^#]+)#(\d+)$/.exec(
    Buffer.from(id.slice(3), 'base64url').toString(),
  );
  return match
    ? { owner: match[1], repo: match[2], number: Number(match[3]) }
    : undefined;
}

function changeStatus(before?: unknown, after?: unknown) {
  if (!before) return 'added' as const;
  return after ? ('modified' as const) : ('removed' as const);
}

/** How the web page and `mergeable_state` name a pull request's state. */
export function pullStateLabel(
  pull: PullRequestRecord,
): 'merged' | 'draft' | 'open' | 'closed' {
  if (pull.mergedAt) return 'merged';
  if (pull.state === 'open' && pull.draft) return 'draft';
  return pull.state;
}

function mergeableState(pull: PullRequestRecord, mergeable: boolean): string {
  if (pull.state !== 'open') return 'unknown';
  if (!mergeable) return 'dirty';
  return pull.draft ? 'draft' : 'clean';
}

/** File-level changes of a pull request (the `/pulls/{n}/files` entries). */
export function changedFiles(before: FlatTree, after: FlatTree) {
  const changes: Array<{
    filename: string;
    status: 'added' | 'removed' | 'modified';
    beforeSha?: string;
    afterSha?: string;
  }> = [];
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const path of paths) {
    const b = before.get(path);
    const a = after.get(path);
    if (b && a && b.sha === a.sha && b.mode === a.mode) continue;
    changes.push({
      filename: path,
      status: changeStatus(b, a),
      beforeSha: b?.sha,
      afterSha: a?.sha,
    });
  }
  return changes;
}

export function pullRequestJson(
  urls: StandInUrls,
  state: GitHubState,
  repository: RepositoryRecord,
  pull: PullRequestRecord,
) {
  const fullName = `${repository.owner}/${repository.name}`;
  const base = `${urls.apiBaseUrl}/repos/${fullName}`;
  const headSha = state.pullHeadSha(repository, pull);
  const baseSha = state.pullBaseSha(repository, pull);
  const { mergeable } = state.mergeability(repository, pull);
  const htmlUrl = pullHtmlUrl(urls, repository, pull.number);
  const store = state.objects(repository);
  const diffBase = state.pullDiffBase(repository, pull);
  const files = changedFiles(
    store.flattenTree(store.commit(diffBase).tree),
    store.flattenTree(store.commit(headSha).tree),
  );
  const commits = store.commitsBetween(diffBase, headSha).length;
  const repo = repositoryJson(urls, repository);
  return {
    id: stableId(`pull:${fullName}#${pull.number}`),
    node_id: pullNodeId(repository, pull.number),
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    body: pull.body,
    user: userJson(urls, pull.author),
    draft: pull.draft,
    merged: Boolean(pull.mergedAt),
    mergeable: pull.state === 'open' ? mergeable : null,
    mergeable_state: mergeableState(pull, mergeable),
    merged_at: pull.mergedAt ?? null,
    merged_by: pull.mergedBy ? userJson(urls, pull.mergedBy) : null,
    merge_commit_sha: pull.mergeCommitSha ?? null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt ?? null,
    html_url: htmlUrl,
    diff_url: `${htmlUrl}.diff`,
    patch_url: `${htmlUrl}.diff`,
    url: `${base}/pulls/${pull.number}`,
    issue_url: `${base}/issues/${pull.number}`,
    comments_url: `${base}/issues/${pull.number}/comments`,
    statuses_url: `${base}/statuses/${headSha}`,
    head: {
      label: `${pull.headOwner}:${pull.headRef}`,
      ref: pull.headRef,
      sha: headSha,
      user: userJson(urls, pull.headOwner),
      repo,
    },
    base: {
      label: `${repository.owner}:${pull.baseRef}`,
      ref: pull.baseRef,
      sha: baseSha,
      user: userJson(urls, repository.owner),
      repo,
    },
    requested_reviewers: pull.requestedReviewers.map(login =>
      userJson(urls, login),
    ),
    requested_teams: pull.requestedTeams.map(slug =>
      teamJson(urls, repository.owner, slug),
    ),
    assignees: pull.assignees.map(login => userJson(urls, login)),
    assignee: pull.assignees[0] ? userJson(urls, pull.assignees[0]) : null,
    labels: [],
    comments: repository.comments.filter(c => c.issueNumber === pull.number)
      .length,
    commits,
    changed_files: files.length,
    author_association: 'OWNER',
  };
}

export function commentJson(
  urls: StandInUrls,
  repository: RepositoryRecord,
  comment: IssueCommentRecord,
) {
  const fullName = `${repository.owner}/${repository.name}`;
  return {
    id: comment.id,
    node_id: `IC_${comment.id}`,
    body: comment.body,
    user: userJson(urls, comment.author),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    url: `${urls.apiBaseUrl}/repos/${fullName}/issues/comments/${comment.id}`,
    issue_url: `${urls.apiBaseUrl}/repos/${fullName}/issues/${comment.issueNumber}`,
    html_url: `${pullHtmlUrl(
      urls,
      repository,
      comment.issueNumber,
    )}#issuecomment-${comment.id}`,
    author_association: 'OWNER',
  };
}

export function reviewJson(
  urls: StandInUrls,
  repository: RepositoryRecord,
  pullNumber: number,
  review: PullRequestReviewRecord,
) {
  return {
    id: review.id,
    node_id: `PRR_${review.id}`,
    user: userJson(urls, review.author),
    body: review.body,
    state: review.state,
    commit_id: review.commitId,
    submitted_at: review.submittedAt,
    html_url: `${pullHtmlUrl(urls, repository, pullNumber)}#pullrequestreview-${
      review.id
    }`,
    pull_request_url: `${urls.apiBaseUrl}/repos/${repository.owner}/${repository.name}/pulls/${pullNumber}`,
    author_association: 'MEMBER',
  };
}

export function statusJson(urls: StandInUrls, status: CommitStatusRecord) {
  return {
    id: status.id,
    node_id: `SC_${status.id}`,
    state: status.state,
    context: status.context,
    description: status.description ?? null,
    target_url: status.targetUrl ?? null,
    creator: userJson(urls, status.creator),
    created_at: status.createdAt,
    updated_at: status.createdAt,
  };
}
