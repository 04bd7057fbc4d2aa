/*
 * Repositories, refs, pull requests, comments and commit statuses of the
 * GitHub stand-in, with the rules GitHub enforces (fast-forward ref updates,
 * one open pull request per head/base, mergeability, stale-head merges).
 * HTTP lives elsewhere; this is the state machine and its persistence.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  FlatTree,
  GitCommit,
  GitFileMode,
  GitObject,
  GitObjectMissingError,
  GitObjectStore,
  GitSignature,
  mergeFlatTrees,
} from './gitObjects';

/** An error carrying the HTTP status GitHub answers with for that case. */
export class GitHubApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Array<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'GitHubApiError';
  }
}

export interface PullRequestRecord {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  draft: boolean;
  author: string;
  headOwner: string;
  headRef: string;
  baseRef: string;
  /** Frozen when the pull request closes; while open the head ref decides. */
  headSha: string;
  /** Base branch tip when the pull request closed (for the diff afterwards). */
  closedBaseSha?: string;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
  mergedAt?: string;
  mergedBy?: string;
  mergeCommitSha?: string;
  requestedReviewers: string[];
  requestedTeams: string[];
  assignees: string[];
  /** Absent in state files written before reviews existed. */
  reviews?: PullRequestReviewRecord[];
}

export interface PullRequestReviewRecord {
  id: number;
  author: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED';
  body: string;
  commitId: string;
  submittedAt: string;
}

export interface IssueCommentRecord {
  id: number;
  issueNumber: number;
  author: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

export interface CommitStatusRecord {
  id: number;
  sha: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  context: string;
  description?: string;
  targetUrl?: string;
  creator: string;
  createdAt: string;
}

/** A repository webhook (`POST /repos/{owner}/{repo}/hooks`). */
export interface WebhookRecord {
  id: number;
  url: string;
  secret?: string;
  /** Event names, or '*' for all. */
  events: string[];
  active: boolean;
  createdAt: string;
}

export interface RepositoryRecord {
  id: number;
  owner: string;
  name: string;
  description?: string;
  defaultBranch: string;
  createdAt: string;
  /** Fully qualified ref name (`refs/heads/main`) → commit sha. */
  refs: Record<string, string>;
  objects: Record<string, GitObject>;
  pulls: PullRequestRecord[];
  comments: IssueCommentRecord[];
  statuses: CommitStatusRecord[];
  /** Absent in state files written before webhooks existed. */
  hooks?: WebhookRecord[];
  nextIssueNumber: number;
}

interface PersistedState {
  version: 1;
  nextId: number;
  repositories: RepositoryRecord[];
}

/** What `onMerge` listeners receive. */
export interface PullRequestMergedEvent {
  owner: string;
  repo: string;
  pullNumber: number;
  baseRef: string;
  defaultBranch: string;
  headRef: string;
  headSha: string;
  mergeCommitSha: string;
  mergedBy: string;
  mergeMethod: MergeMethod;
}

export type MergeMethod = 'merge' | 'squash' | 'rebase';

/** Content of a file to create: text, bytes, or text with an explicit mode. */
export type RepositoryFileContent =
  | string
  | Buffer
  | { content: string | Buffer; mode?: GitFileMode };

export interface TreeChange {
  path: string;
  mode?: string;
  type?: 'blob' | 'tree' | 'commit';
  /** null deletes the path, as in GitHub's create-a-tree API. */
  sha?: string | null;
  content?: string;
}

function nowIso(clock: () => Date): string {
  // GitHub returns second precision; the commit format only has seconds.
  return clock()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
}

export function qualifyBranch(ref: string): string {
  return ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
}

/** Stable numeric id for a user or team name (GitHub ids are numbers). */
export function stableId(name: string): number {
  return createHash('sha1').update(name).digest().readUInt32BE(0) % 100000000;
}

/**
 * What happened, for webhook deliveries (the state emits, the server turns
 * events into GitHub's webhook payloads).
 */
export type RepositoryEvent =
  | {
      type: 'push';
      repository: RepositoryRecord;
      ref: string;
      before: string;
      after: string;
      forced: boolean;
      actor: string;
    }
  | {
      type: 'pull_request';
      action:
        | 'opened'
        | 'edited'
        | 'closed'
        | 'reopened'
        | 'ready_for_review'
        | 'converted_to_draft'
        | 'review_requested'
        | 'synchronize';
      repository: RepositoryRecord;
      pull: PullRequestRecord;
      actor: string;
      requestedReviewer?: string;
      requestedTeam?: string;
    }
  | {
      type: 'pull_request_review';
      action: 'submitted';
      repository: RepositoryRecord;
      pull: PullRequestRecord;
      review: PullRequestReviewRecord;
      actor: string;
    }
  | {
      type: 'issue_comment';
      action: 'created';
      repository: RepositoryRecord;
      pull: PullRequestRecord;
      comment: IssueCommentRecord;
      actor: string;
    };

export const ZERO_SHA = '0000000000000000000000000000000000000000';

export interface GitHubStateOptions {
  stateFile?: string;
  clock?: () => Date;
  /** Called synchronously after each change; must not throw. */
  onEvent?: (event: RepositoryEvent) => void;
}

export class GitHubState {
  private repositories: RepositoryRecord[] = [];
  private nextId = 1;
  private readonly clock: () => Date;

  constructor(private readonly options: GitHubStateOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    this.load();
  }

  // --- persistence -------------------------------------------------------

  private load() {
    if (!this.options.stateFile) return;
    let raw: string;
    try {
      raw = readFileSync(this.options.stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const state = JSON.parse(raw) as PersistedState;
    if (state.version !== 1) {
      throw new Error(
        `GitHub stand-in state file ${this.options.stateFile} has version ${state.version}; expected 1. Delete the file to start from an empty state.`,
      );
    }
    this.repositories = state.repositories;
    this.nextId = state.nextId;
  }

  /** Writes the whole state (small, local) atomically after each change. */
  private save() {
    if (!this.options.stateFile) return;
    const state: PersistedState = {
      version: 1,
      nextId: this.nextId,
      repositories: this.repositories,
    };
    mkdirSync(dirname(this.options.stateFile), { recursive: true });
    const temporary = `${this.options.stateFile}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(state));
    renameSync(temporary, this.options.stateFile);
  }

  private emit(event: RepositoryEvent) {
    this.options.onEvent?.(event);
  }

  /** A branch moved: a push event, and `synchronize` for its open PRs. */
  private branchMoved(
    repository: RepositoryRecord,
    ref: string,
    before: string,
    after: string,
    forced: boolean,
    actor: string,
  ) {
    this.emit({ type: 'push', repository, ref, before, after, forced, actor });
    if (!ref.startsWith('refs/heads/') || after === ZERO_SHA) return;
    const branch = ref.slice('refs/heads/'.length);
    for (const pull of repository.pulls) {
      if (pull.state === 'open' && pull.headRef === branch) {
        // Remember the head, so the PR still shows its commits if the
        // branch is deleted while it is open.
        pull.headSha = after;
        this.save();
        this.emit({
          type: 'pull_request',
          action: 'synchronize',
          repository,
          pull,
          actor,
        });
      }
    }
  }

  reset() {
    this.repositories = [];
    this.nextId = 1;
    this.save();
  }

  now(): string {
    return nowIso(this.clock);
  }

  private allocateId(): number {
    return this.nextId++;
  }

  // --- repositories ------------------------------------------------------

  listRepositories(): RepositoryRecord[] {
    return this.repositories;
  }

  findRepository(owner: string, name: string): RepositoryRecord | undefined {
    return this.repositories.find(
      r =>
        r.owner.toLowerCase() === owner.toLowerCase() &&
        r.name.toLowerCase() === name.toLowerCase(),
    );
  }

  repository(owner: string, name: string): RepositoryRecord {
    const repository = this.findRepository(owner, name);
    if (!repository) {
      throw new GitHubApiError(
        404,
        `Not Found: repository ${owner}/${name} does not exist in the GitHub stand-in; create it with createRepo()`,
      );
    }
    return repository;
  }

  objects(repository: RepositoryRecord): GitObjectStore {
    return new GitObjectStore(repository.objects);
  }

  createRepository(
    owner: string,
    name: string,
    options: {
      defaultBranch?: string;
      description?: string;
      files?: Record<string, RepositoryFileContent>;
      author?: GitSignature;
      message?: string;
    } = {},
  ): RepositoryRecord {
    if (this.findRepository(owner, name)) {
      throw new GitHubApiError(
        422,
        `Repository creation failed: ${owner}/${name} already exists`,
        [
          {
            resource: 'Repository',
            code: 'custom',
            field: 'name',
            message: 'name already exists on this account',
          },
        ],
      );
    }
    const repository: RepositoryRecord = {
      id: this.allocateId(),
      owner,
      name,
      description: options.description,
      defaultBranch: options.defaultBranch ?? 'main',
      createdAt: this.now(),
      refs: {},
      objects: {},
      pulls: [],
      comments: [],
      statuses: [],
      nextIssueNumber: 1,
    };
    const store = this.objects(repository);
    const files: FlatTree = new Map();
    for (const [path, value] of Object.entries(options.files ?? {})) {
      const { content, mode } =
        typeof value === 'string' || Buffer.isBuffer(value)
          ? { content: value, mode: undefined }
          : value;
      files.set(normalisePath(path), {
        mode: mode ?? '100644',
        sha: store.putBlob(content),
      });
    }
    const signature = options.author ?? {
      name: 'GitHub Stand-in',
      email: 'stand-in@github.invalid',
      date: this.now(),
    };
    const commit = store.put({
      type: 'commit',
      tree: store.writeFlatTree(files),
      parents: [],
      author: signature,
      committer: signature,
      message: options.message ?? 'Initial commit',
    });
    repository.refs[qualifyBranch(repository.defaultBranch)] = commit;
    this.repositories.push(repository);
    this.save();
    return repository;
  }

  // --- refs and objects --------------------------------------------------

  /**
   * Resolves a branch, tag, full ref or commit sha (GitHub accepts all of
   * them wherever a `ref` or `sha` query parameter appears).
   */
  resolveCommitish(
    repository: RepositoryRecord,
    ref: string,
  ): string | undefined {
    const candidates = ref.startsWith('refs/')
      ? [ref]
      : [`refs/heads/${ref}`, `refs/tags/${ref}`, `refs/${ref}`];
    for (const candidate of candidates) {
      if (repository.refs[candidate]) return repository.refs[candidate];
    }
    if (
      /^[0-9a-f]{40}$/.test(ref) &&
      repository.objects[ref]?.type === 'commit'
    ) {
      return ref;
    }
    return undefined;
  }

  requireCommitish(repository: RepositoryRecord, ref: string): string {
    const sha = this.resolveCommitish(repository, ref);
    if (!sha) {
      throw new GitHubApiError(
        404,
        `No commit found for ref '${ref}' in ${repository.owner}/${repository.name}`,
      );
    }
    return sha;
  }

  createRef(
    repository: RepositoryRecord,
    ref: string,
    sha: string,
    actor = repository.owner,
  ): string {
    if (!/^refs\/[^\s]+\/[^\s]+/.test(ref)) {
      throw new GitHubApiError(
        422,
        `Reference name '${ref}' is invalid: it must start with 'refs' and have at least two slashes, e.g. refs/heads/my-branch`,
      );
    }
    if (repository.refs[ref]) {
      throw new GitHubApiError(422, `Reference already exists: ${ref}`);
    }
    this.requireCommit(repository, sha, 'sha');
    repository.refs[ref] = sha;
    this.save();
    this.branchMoved(repository, ref, ZERO_SHA, sha, false, actor);
    return ref;
  }

  updateRef(
    repository: RepositoryRecord,
    ref: string,
    sha: string,
    force: boolean,
    actor = repository.owner,
  ) {
    const current = repository.refs[ref];
    if (!current) {
      throw new GitHubApiError(422, `Reference does not exist: ${ref}`);
    }
    this.requireCommit(repository, sha, 'sha');
    if (!force && !this.objects(repository).isAncestor(current, sha)) {
      throw new GitHubApiError(
        422,
        `Update is not a fast forward: ${sha} does not contain ${current}; pass force: true to overwrite ${ref}`,
      );
    }
    repository.refs[ref] = sha;
    this.save();
    if (current !== sha) {
      const forced = !this.objects(repository).isAncestor(current, sha);
      this.branchMoved(repository, ref, current, sha, forced, actor);
    }
  }

  deleteRef(
    repository: RepositoryRecord,
    ref: string,
    actor = repository.owner,
  ) {
    const current = repository.refs[ref];
    if (!current) {
      throw new GitHubApiError(422, `Reference does not exist: ${ref}`);
    }
    delete repository.refs[ref];
    this.save();
    this.branchMoved(repository, ref, current, ZERO_SHA, false, actor);
  }

  private requireCommit(
    repository: RepositoryRecord,
    sha: string,
    field: string,
  ) {
    if (repository.objects[sha]?.type !== 'commit') {
      throw new GitHubApiError(
        422,
        `Object does not exist: ${field} ${sha} is not a commit in ${repository.owner}/${repository.name}`,
      );
    }
  }

  createBlob(
    repository: RepositoryRecord,
    content: string,
    encoding: string,
  ): string {
    if (encoding !== 'utf-8' && encoding !== 'base64') {
      throw new GitHubApiError(
        422,
        `Invalid encoding '${encoding}': use 'utf-8' or 'base64'`,
      );
    }
    const sha = this.objects(repository).putBlob(
      Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8'),
    );
    this.save();
    return sha;
  }

  /**
   * GitHub's create-a-tree: entries are paths (may contain '/'), applied on
   * top of `base_tree` if given. `sha: null` deletes; `content` makes a
   * blob; a `tree` entry grafts a whole sub-tree.
   */
  createTree(
    repository: RepositoryRecord,
    baseTree: string | undefined,
    changes: TreeChange[],
  ): string {
    const store = this.objects(repository);
    let files: FlatTree = new Map();
    if (baseTree) {
      try {
        files = store.flattenTree(baseTree);
      } catch (error) {
        if (error instanceof GitObjectMissingError) {
          throw new GitHubApiError(
            422,
            `base_tree ${baseTree} is not a tree in ${repository.owner}/${repository.name}`,
          );
        }
        throw error;
      }
    }
    changes.forEach((change, index) => {
      const field = `tree[${index}]`;
      if (!change.path) {
        throw new GitHubApiError(422, `${field}.path is required`);
      }
      const path = normalisePath(change.path);
      const mode = change.mode ?? '100644';
      if (change.sha === null) {
        if (!files.has(path)) {
          // Real GitHub answers GitRPC::BadObjectState; say what is wrong.
          const isDirectory = [...files.keys()].some(p =>
            p.startsWith(`${path}/`),
          );
          if (!isDirectory) {
            throw new GitHubApiError(
              422,
              `${field}: cannot delete '${path}': it does not exist in base_tree`,
            );
          }
          for (const p of [...files.keys()])
            if (p.startsWith(`${path}/`)) files.delete(p);
          return;
        }
        files.delete(path);
        return;
      }
      if (change.type === 'tree' || mode === '040000') {
        if (!change.sha)
          throw new GitHubApiError(422, `${field}: a tree entry needs a sha`);
        for (const p of [...files.keys()])
          if (p === path || p.startsWith(`${path}/`)) files.delete(p);
        try {
          for (const [sub, entry] of store.flattenTree(change.sha))
            files.set(`${path}/${sub}`, entry);
        } catch (error) {
          if (error instanceof GitObjectMissingError) {
            throw new GitHubApiError(
              422,
              `${field}.sha ${change.sha} is not a tree`,
            );
          }
          throw error;
        }
        return;
      }
      if (!['100644', '100755', '120000', '160000'].includes(mode)) {
        throw new GitHubApiError(
          422,
          `${field}.mode '${mode}' is invalid: use 100644, 100755, 040000, 160000 or 120000`,
        );
      }
      let sha: string;
      if (change.content !== undefined) {
        sha = store.putBlob(change.content);
      } else if (change.sha) {
        if (
          mode !== '160000' &&
          repository.objects[change.sha]?.type !== 'blob'
        ) {
          throw new GitHubApiError(
            422,
            `${field}.sha ${change.sha} is not a blob; create it first with POST /repos/{owner}/{repo}/git/blobs`,
          );
        }
        sha = change.sha;
      } else {
        throw new GitHubApiError(
          422,
          `${field} needs either 'content' or 'sha' (null to delete)`,
        );
      }
      // Replacing a directory with a file (or the reverse) drops the old side.
      for (const p of [...files.keys()])
        if (p.startsWith(`${path}/`)) files.delete(p);
      files.set(path, { mode: mode as GitFileMode, sha });
    });
    const sha = store.writeFlatTree(files);
    this.save();
    return sha;
  }

  createCommit(
    repository: RepositoryRecord,
    input: {
      message: string;
      tree: string;
      parents: string[];
      author?: Partial<GitSignature>;
      committer?: Partial<GitSignature>;
    },
    actor: string,
  ): string {
    const store = this.objects(repository);
    if (repository.objects[input.tree]?.type !== 'tree') {
      throw new GitHubApiError(
        422,
        `tree ${input.tree} is not a tree object in ${repository.owner}/${repository.name}`,
      );
    }
    input.parents.forEach((parent, index) =>
      this.requireCommit(repository, parent, `parents[${index}]`),
    );
    const fallback: GitSignature = {
      name: actor,
      email: `${actor}@users.noreply.github.invalid`,
      date: this.now(),
    };
    const author = completeSignature(input.author, fallback);
    const committer = completeSignature(
      input.committer ?? input.author,
      fallback,
    );
    const sha = store.put({
      type: 'commit',
      tree: input.tree,
      parents: input.parents,
      author,
      committer,
      message: input.message,
    });
    this.save();
    return sha;
  }

  // --- pull requests -----------------------------------------------------

  pullHeadSha(repository: RepositoryRecord, pull: PullRequestRecord): string {
    if (pull.state === 'open') {
      return repository.refs[qualifyBranch(pull.headRef)] ?? pull.headSha;
    }
    return pull.headSha;
  }

  pullBaseSha(repository: RepositoryRecord, pull: PullRequestRecord): string {
    if (pull.state === 'closed' && pull.closedBaseSha)
      return pull.closedBaseSha;
    // A deleted base branch leaves the PR without a base; show no diff
    // rather than failing every read of it.
    return (
      repository.refs[qualifyBranch(pull.baseRef)] ??
      pull.closedBaseSha ??
      this.pullHeadSha(repository, pull)
    );
  }

  /** Commit the pull request's diff is taken against. */
  pullDiffBase(repository: RepositoryRecord, pull: PullRequestRecord): string {
    const store = this.objects(repository);
    const head = this.pullHeadSha(repository, pull);
    const base = this.pullBaseSha(repository, pull);
    if (pull.mergedAt && pull.mergeCommitSha) {
      // After merge the base contains the head; diff against the merge's
      // first parent, which is the base as it was before the merge.
      return store.commit(pull.mergeCommitSha).parents[0] ?? base;
    }
    return store.mergeBase(base, head) ?? base;
  }

  pull(repository: RepositoryRecord, number: number): PullRequestRecord {
    const pull = repository.pulls.find(p => p.number === number);
    if (!pull) {
      throw new GitHubApiError(
        404,
        `Not Found: pull request #${number} does not exist in ${repository.owner}/${repository.name}`,
      );
    }
    return pull;
  }

  createPullRequest(
    repository: RepositoryRecord,
    input: {
      head: string;
      base: string;
      title?: string;
      body?: string;
      draft?: boolean;
    },
    actor: string,
  ): PullRequestRecord {
    if (!input.title) {
      throw new GitHubApiError(422, 'Validation Failed: title is required', [
        { resource: 'PullRequest', field: 'title', code: 'missing_field' },
      ]);
    }
    const [headOwner, headRef] = input.head.includes(':')
      ? input.head.split(':', 2)
      : [repository.owner, input.head];
    if (headOwner.toLowerCase() !== repository.owner.toLowerCase()) {
      throw new GitHubApiError(
        422,
        `Validation Failed: head ${input.head} is a fork; the stand-in supports branches of ${repository.owner}/${repository.name} only`,
        [{ resource: 'PullRequest', field: 'head', code: 'invalid' }],
      );
    }
    const headSha = repository.refs[qualifyBranch(headRef)];
    if (!headSha) {
      throw new GitHubApiError(
        422,
        `Validation Failed: head branch '${headRef}' does not exist; push it first (POST /repos/{owner}/{repo}/git/refs)`,
        [{ resource: 'PullRequest', field: 'head', code: 'invalid' }],
      );
    }
    const baseSha = repository.refs[qualifyBranch(input.base)];
    if (!baseSha) {
      throw new GitHubApiError(
        422,
        `Validation Failed: base branch '${input.base}' does not exist`,
        [{ resource: 'PullRequest', field: 'base', code: 'invalid' }],
      );
    }
    const existing = repository.pulls.find(
      p =>
        p.state === 'open' && p.headRef === headRef && p.baseRef === input.base,
    );
    if (existing) {
      throw new GitHubApiError(
        422,
        `Validation Failed: A pull request already exists for ${repository.owner}:${headRef} (#${existing.number}).`,
        [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${repository.owner}:${headRef}.`,
          },
        ],
      );
    }
    if (
      baseSha === headSha ||
      this.objects(repository).isAncestor(headSha, baseSha)
    ) {
      throw new GitHubApiError(
        422,
        `Validation Failed: No commits between ${input.base} and ${headRef}`,
        [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `No commits between ${input.base} and ${headRef}`,
          },
        ],
      );
    }
    const now = this.now();
    const pull: PullRequestRecord = {
      number: repository.nextIssueNumber++,
      title: input.title,
      body: input.body ?? '',
      state: 'open',
      draft: input.draft ?? false,
      author: actor,
      headOwner: repository.owner,
      headRef,
      baseRef: input.base,
      headSha,
      createdAt: now,
      updatedAt: now,
      requestedReviewers: [],
      requestedTeams: [],
      assignees: [],
    };
    repository.pulls.push(pull);
    this.save();
    this.emit({
      type: 'pull_request',
      action: 'opened',
      repository,
      pull,
      actor,
    });
    return pull;
  }

  listPullRequests(
    repository: RepositoryRecord,
    filter: {
      state?: 'open' | 'closed' | 'all';
      head?: string;
      base?: string;
    } = {},
  ): PullRequestRecord[] {
    const state = filter.state ?? 'open';
    let headOwner: string | undefined;
    let headRef: string | undefined;
    if (filter.head) {
      // GitHub's filter is `user:ref-name`; a bare ref matches nothing there,
      // but accepting it is friendlier and unambiguous in a single-owner repo.
      [headOwner, headRef] = filter.head.includes(':')
        ? filter.head.split(':', 2)
        : [undefined, filter.head];
    }
    return repository.pulls
      .filter(p => state === 'all' || p.state === state)
      .filter(
        p =>
          !headRef ||
          (p.headRef === headRef &&
            (!headOwner ||
              p.headOwner.toLowerCase() === headOwner.toLowerCase())),
      )
      .filter(p => !filter.base || p.baseRef === filter.base)
      .sort((a, b) => b.number - a.number);
  }

  updatePullRequest(
    repository: RepositoryRecord,
    number: number,
    input: {
      title?: string;
      body?: string;
      state?: 'open' | 'closed';
      base?: string;
      draft?: boolean;
    },
    actor = repository.owner,
  ): PullRequestRecord {
    const pull = this.pull(repository, number);
    const actions: Array<
      | 'edited'
      | 'closed'
      | 'reopened'
      | 'ready_for_review'
      | 'converted_to_draft'
    > = [];
    if (
      (input.title !== undefined && input.title !== pull.title) ||
      (input.body !== undefined && input.body !== pull.body) ||
      (input.base !== undefined && input.base !== pull.baseRef)
    ) {
      actions.push('edited');
    }
    if (input.draft !== undefined && input.draft !== pull.draft) {
      actions.push(input.draft ? 'converted_to_draft' : 'ready_for_review');
    }
    if (input.state !== undefined && input.state !== pull.state) {
      actions.push(input.state === 'closed' ? 'closed' : 'reopened');
    }
    if (input.base !== undefined && input.base !== pull.baseRef) {
      if (!repository.refs[qualifyBranch(input.base)]) {
        throw new GitHubApiError(
          422,
          `Validation Failed: base branch '${input.base}' does not exist`,
          [{ resource: 'PullRequest', field: 'base', code: 'invalid' }],
        );
      }
      pull.baseRef = input.base;
    }
    if (input.title !== undefined) pull.title = input.title;
    if (input.body !== undefined) pull.body = input.body;
    if (input.draft !== undefined) pull.draft = input.draft;
    if (input.state !== undefined && input.state !== pull.state) {
      if (pull.mergedAt) {
        throw new GitHubApiError(
          422,
          `Validation Failed: pull request #${number} is merged and cannot be reopened`,
        );
      }
      if (input.state === 'closed') {
        pull.headSha = this.pullHeadSha(repository, pull);
        pull.closedBaseSha = this.pullBaseSha(repository, pull);
        pull.closedAt = this.now();
      } else {
        pull.closedAt = undefined;
        pull.closedBaseSha = undefined;
      }
      pull.state = input.state;
    }
    pull.updatedAt = this.now();
    this.save();
    for (const action of actions)
      this.emit({ type: 'pull_request', action, repository, pull, actor });
    return pull;
  }

  requestReviewers(
    repository: RepositoryRecord,
    number: number,
    reviewers: string[],
    teams: string[],
    actor = repository.owner,
  ): PullRequestRecord {
    const pull = this.pull(repository, number);
    if (reviewers.some(r => r.toLowerCase() === pull.author.toLowerCase())) {
      // GitHub: "Review cannot be requested from pull request author."
      throw new GitHubApiError(
        422,
        `Reviews may only be requested from collaborators other than the author: ${pull.author} opened #${number}`,
      );
    }
    for (const reviewer of reviewers)
      if (!pull.requestedReviewers.includes(reviewer))
        pull.requestedReviewers.push(reviewer);
    for (const team of teams)
      if (!pull.requestedTeams.includes(team)) pull.requestedTeams.push(team);
    pull.updatedAt = this.now();
    this.save();
    // GitHub sends one review_requested delivery per reviewer or team.
    for (const reviewer of reviewers) {
      this.emit({
        type: 'pull_request',
        action: 'review_requested',
        repository,
        pull,
        actor,
        requestedReviewer: reviewer,
      });
    }
    for (const team of teams) {
      this.emit({
        type: 'pull_request',
        action: 'review_requested',
        repository,
        pull,
        actor,
        requestedTeam: team,
      });
    }
    return pull;
  }

  /**
   * Submits a review. Like GitHub: authors cannot approve or request
   * changes on their own pull request, reviews need an open pull request,
   * and a review answers (removes) the reviewer's pending request.
   */
  submitReview(
    repository: RepositoryRecord,
    number: number,
    input: { event?: string; body?: string },
    actor: string,
  ): PullRequestReviewRecord {
    const pull = this.pull(repository, number);
    const states: Record<string, PullRequestReviewRecord['state']> = {
      APPROVE: 'APPROVED',
      REQUEST_CHANGES: 'CHANGES_REQUESTED',
      COMMENT: 'COMMENTED',
    };
    const state = states[input.event ?? ''];
    if (!state) {
      throw new GitHubApiError(
        422,
        `Unprocessable Entity: event must be APPROVE, REQUEST_CHANGES or COMMENT (a pending review is not supported), got '${
          input.event ?? ''
        }'`,
      );
    }
    if (pull.state !== 'open') {
      throw new GitHubApiError(
        422,
        `Unprocessable Entity: pull request #${number} is closed; reviews need an open pull request`,
      );
    }
    if (
      state !== 'COMMENTED' &&
      actor.toLowerCase() === pull.author.toLowerCase()
    ) {
      throw new GitHubApiError(
        422,
        `Unprocessable Entity: Can not ${
          state === 'APPROVED' ? 'approve' : 'request changes on'
        } your own pull request`,
      );
    }
    if (state !== 'APPROVED' && !input.body) {
      throw new GitHubApiError(
        422,
        `Unprocessable Entity: body is required for ${input.event} reviews`,
      );
    }
    const review: PullRequestReviewRecord = {
      id: this.allocateId(),
      author: actor,
      state,
      body: input.body ?? '',
      commitId: this.pullHeadSha(repository, pull),
      submittedAt: this.now(),
    };
    pull.reviews = [...(pull.reviews ?? []), review];
    pull.requestedReviewers = pull.requestedReviewers.filter(
      r => r.toLowerCase() !== actor.toLowerCase(),
    );
    pull.updatedAt = this.now();
    this.save();
    this.emit({
      type: 'pull_request_review',
      action: 'submitted',
      repository,
      pull,
      review,
      actor,
    });
    return review;
  }

  removeRequestedReviewers(
    repository: RepositoryRecord,
    number: number,
    reviewers: string[],
    teams: string[],
  ): PullRequestRecord {
    const pull = this.pull(repository, number);
    pull.requestedReviewers = pull.requestedReviewers.filter(
      r => !reviewers.includes(r),
    );
    pull.requestedTeams = pull.requestedTeams.filter(t => !teams.includes(t));
    pull.updatedAt = this.now();
    this.save();
    return pull;
  }

  addAssignees(
    repository: RepositoryRecord,
    number: number,
    assignees: string[],
  ): PullRequestRecord {
    const pull = this.pull(repository, number);
    for (const assignee of assignees)
      if (!pull.assignees.includes(assignee)) pull.assignees.push(assignee);
    pull.updatedAt = this.now();
    this.save();
    return pull;
  }

  /** Whether the head merges cleanly into the base (`mergeable`). */
  mergeability(
    repository: RepositoryRecord,
    pull: PullRequestRecord,
  ): { mergeable: boolean; conflicts: string[] } {
    if (pull.state !== 'open') return { mergeable: false, conflicts: [] };
    const store = this.objects(repository);
    const head = this.pullHeadSha(repository, pull);
    const base = this.pullBaseSha(repository, pull);
    const mergeBase = store.mergeBase(base, head);
    const result = mergeFlatTrees(
      mergeBase ? store.flattenTree(store.commit(mergeBase).tree) : new Map(),
      store.flattenTree(store.commit(base).tree),
      store.flattenTree(store.commit(head).tree),
    );
    return {
      mergeable: result.conflicts.length === 0,
      conflicts: result.conflicts,
    };
  }

  mergePullRequest(
    repository: RepositoryRecord,
    number: number,
    input: {
      mergeMethod?: MergeMethod;
      commitTitle?: string;
      commitMessage?: string;
      sha?: string;
    },
    actor: string,
  ): { pull: PullRequestRecord; event: PullRequestMergedEvent } {
    const pull = this.pull(repository, number);
    const method = input.mergeMethod ?? 'merge';
    if (!['merge', 'squash', 'rebase'].includes(method)) {
      throw new GitHubApiError(
        422,
        `Invalid merge_method '${method}': use merge, squash or rebase`,
      );
    }
    if (pull.mergedAt)
      throw new GitHubApiError(
        405,
        `Pull Request #${number} is already merged`,
      );
    if (pull.state !== 'open')
      throw new GitHubApiError(
        405,
        `Pull Request #${number} is closed; reopen it before merging`,
      );
    if (pull.draft) {
      throw new GitHubApiError(
        405,
        `Pull Request #${number} is still a draft; mark it ready for review before merging`,
      );
    }
    const store = this.objects(repository);
    const head = this.pullHeadSha(repository, pull);
    if (input.sha && input.sha !== head) {
      throw new GitHubApiError(
        409,
        `Head branch was modified. Review and try the merge again. (expected ${input.sha}, head is ${head})`,
      );
    }
    const baseRefName = qualifyBranch(pull.baseRef);
    const base = repository.refs[baseRefName];
    if (!base)
      throw new GitHubApiError(
        405,
        `Base branch ${pull.baseRef} no longer exists`,
      );
    const mergeBase = store.mergeBase(base, head);
    const treeOf = (sha: string | undefined) =>
      sha ? store.flattenTree(store.commit(sha).tree) : (new Map() as FlatTree);
    const merged = mergeFlatTrees(
      treeOf(mergeBase),
      treeOf(base),
      treeOf(head),
    );
    if (merged.conflicts.length > 0) {
      throw new GitHubApiError(
        405,
        `Pull Request is not mergeable: ${merged.conflicts.join(
          ', ',
        )} changed on both ${pull.baseRef} and ${pull.headRef}`,
      );
    }
    const committer: GitSignature = {
      name: actor,
      email: `${actor}@users.noreply.github.invalid`,
      date: this.now(),
    };
    const headCommit = store.commit(head);
    const title =
      input.commitTitle ??
      (method === 'squash'
        ? `${pull.title} (#${pull.number})`
        : `Merge pull request #${pull.number} from ${pull.headOwner}/${pull.headRef}`);
    // Like GitHub: a merge commit's body defaults to the pull request title.
    let message = method === 'merge' ? `${title}\n\n${pull.title}` : title;
    if (input.commitMessage !== undefined) {
      message = `${title}\n\n${input.commitMessage}`;
    }
    let mergeCommitSha: string;
    if (method === 'merge') {
      mergeCommitSha = store.put({
        type: 'commit',
        tree: store.writeFlatTree(merged.files),
        parents: [base, head],
        author: committer,
        committer,
        message,
      });
    } else if (method === 'squash') {
      mergeCommitSha = store.put({
        type: 'commit',
        tree: store.writeFlatTree(merged.files),
        parents: [base],
        author: headCommit.author,
        committer,
        message,
      });
    } else {
      // Rebase: replay each commit of the pull request onto the base tip.
      const commits = store.commitsBetween(mergeBase, head).reverse();
      let tip = base;
      for (const sha of commits) {
        const commit: GitCommit = store.commit(sha);
        if (commit.parents.length > 1) continue;
        const replay = mergeFlatTrees(
          treeOf(commit.parents[0]),
          treeOf(tip),
          treeOf(sha),
        );
        if (replay.conflicts.length > 0) {
          throw new GitHubApiError(
            405,
            `Pull Request is not rebaseable: ${replay.conflicts.join(
              ', ',
            )} conflict while replaying ${sha}`,
          );
        }
        tip = store.put({
          type: 'commit',
          tree: store.writeFlatTree(replay.files),
          parents: [tip],
          author: commit.author,
          committer,
          message: commit.message,
        });
      }
      mergeCommitSha = tip;
    }
    repository.refs[baseRefName] = mergeCommitSha;
    const now = this.now();
    pull.headSha = head;
    pull.closedBaseSha = mergeCommitSha;
    pull.state = 'closed';
    pull.mergedAt = now;
    pull.closedAt = now;
    pull.updatedAt = now;
    pull.mergedBy = actor;
    pull.mergeCommitSha = mergeCommitSha;
    this.save();
    // GitHub's order: the push to the base branch, then the closed PR.
    this.branchMoved(
      repository,
      baseRefName,
      base,
      mergeCommitSha,
      false,
      actor,
    );
    this.emit({
      type: 'pull_request',
      action: 'closed',
      repository,
      pull,
      actor,
    });
    return {
      pull,
      event: {
        owner: repository.owner,
        repo: repository.name,
        pullNumber: pull.number,
        baseRef: pull.baseRef,
        defaultBranch: repository.defaultBranch,
        headRef: pull.headRef,
        headSha: head,
        mergeCommitSha,
        mergedBy: actor,
        mergeMethod: method,
      },
    };
  }

  // --- contents API (one file per commit) ---------------------------------

  /**
   * `PUT`/`DELETE /repos/{o}/{r}/contents/{path}`: commits a single file
   * change on a branch. Like GitHub, changing an existing file needs its
   * current blob `sha` (409 otherwise), so concurrent writers cannot
   * silently overwrite each other.
   */
  commitFileChange(
    repository: RepositoryRecord,
    input: {
      path: string;
      /** New content; null deletes the file. */
      content: Buffer | null;
      expectedSha?: string;
      branch?: string;
      message: string;
      author?: Partial<GitSignature>;
      committer?: Partial<GitSignature>;
    },
    actor: string,
  ): { commitSha: string; blobSha?: string; created: boolean } {
    const path = normalisePath(input.path);
    const branch = input.branch ?? repository.defaultBranch;
    const ref = qualifyBranch(branch);
    const head = repository.refs[ref];
    if (!head) {
      throw new GitHubApiError(
        404,
        `Branch ${branch} not found in ${repository.owner}/${repository.name}`,
      );
    }
    const store = this.objects(repository);
    const files = store.flattenTree(store.commit(head).tree);
    const current = files.get(path);
    if (input.content === null) {
      if (!current)
        throw new GitHubApiError(
          404,
          `Not Found: ${path} does not exist on ${branch}`,
        );
    }
    if (current && input.expectedSha !== current.sha) {
      throw new GitHubApiError(
        409,
        input.expectedSha
          ? `${path} does not match ${input.expectedSha}: it is at ${current.sha} on ${branch}; read it again and retry`
          : `Invalid request: "sha" wasn't supplied; ${path} already exists on ${branch} (sha ${current.sha})`,
      );
    }
    let blobSha: string | undefined;
    if (input.content === null) {
      files.delete(path);
    } else {
      blobSha = store.putBlob(input.content);
      files.set(path, { mode: current?.mode ?? '100644', sha: blobSha });
    }
    const commitSha = this.createCommit(
      repository,
      {
        message: input.message,
        tree: store.writeFlatTree(files),
        parents: [head],
        author: input.author,
        committer: input.committer,
      },
      actor,
    );
    this.updateRef(repository, ref, commitSha, false, actor);
    return { commitSha, blobSha, created: !current };
  }

  // --- webhooks ----------------------------------------------------------

  createHook(
    repository: RepositoryRecord,
    input: {
      url?: string;
      secret?: string;
      events?: string[];
      active?: boolean;
    },
  ): WebhookRecord {
    if (!input.url || !/^https?:\/\//.test(input.url)) {
      throw new GitHubApiError(
        422,
        `Validation Failed: config.url must be an http(s) URL, got '${
          input.url ?? ''
        }'`,
        [{ resource: 'Hook', field: 'config.url', code: 'invalid' }],
      );
    }
    const hook: WebhookRecord = {
      id: this.allocateId(),
      url: input.url,
      secret: input.secret,
      events: input.events?.length ? input.events : ['push'],
      active: input.active ?? true,
      createdAt: this.now(),
    };
    repository.hooks = [...(repository.hooks ?? []), hook];
    this.save();
    return hook;
  }

  deleteHook(repository: RepositoryRecord, id: number) {
    if (!(repository.hooks ?? []).some(h => h.id === id)) {
      throw new GitHubApiError(
        404,
        `Not Found: hook ${id} does not exist in ${repository.owner}/${repository.name}`,
      );
    }
    repository.hooks = (repository.hooks ?? []).filter(h => h.id !== id);
    this.save();
  }

  // --- comments and statuses ---------------------------------------------

  issueExists(repository: RepositoryRecord, number: number): boolean {
    return repository.pulls.some(p => p.number === number);
  }

  listComments(
    repository: RepositoryRecord,
    number: number,
  ): IssueCommentRecord[] {
    if (!this.issueExists(repository, number)) {
      throw new GitHubApiError(
        404,
        `Not Found: issue #${number} does not exist in ${repository.owner}/${repository.name}`,
      );
    }
    return repository.comments.filter(c => c.issueNumber === number);
  }

  addComment(
    repository: RepositoryRecord,
    number: number,
    body: string,
    actor: string,
  ): IssueCommentRecord {
    this.listComments(repository, number);
    if (!body)
      throw new GitHubApiError(422, 'Validation Failed: body is required', [
        { resource: 'IssueComment', field: 'body', code: 'missing_field' },
      ]);
    const now = this.now();
    const comment: IssueCommentRecord = {
      id: this.allocateId(),
      issueNumber: number,
      author: actor,
      body,
      createdAt: now,
      updatedAt: now,
    };
    repository.comments.push(comment);
    this.save();
    const pull = this.pull(repository, number);
    this.emit({
      type: 'issue_comment',
      action: 'created',
      repository,
      pull,
      comment,
      actor,
    });
    return comment;
  }

  addStatus(
    repository: RepositoryRecord,
    sha: string,
    input: {
      state: CommitStatusRecord['state'];
      context?: string;
      description?: string;
      targetUrl?: string;
    },
    actor: string,
  ): CommitStatusRecord {
    this.requireCommit(repository, sha, 'sha');
    if (!['error', 'failure', 'pending', 'success'].includes(input.state)) {
      throw new GitHubApiError(
        422,
        `Validation Failed: state '${input.state}' must be one of error, failure, pending, success`,
      );
    }
    const status: CommitStatusRecord = {
      id: this.allocateId(),
      sha,
      state: input.state,
      context: input.context ?? 'default',
      // GitHub truncates descriptions at 140 characters; so does the stand-in.
      description: input.description?.slice(0, 140),
      targetUrl: input.targetUrl,
      creator: actor,
      createdAt: this.now(),
    };
    repository.statuses.push(status);
    this.save();
    return status;
  }

  /** Latest status per context for a commit, newest first. */
  latestStatuses(
    repository: RepositoryRecord,
    sha: string,
  ): CommitStatusRecord[] {
    const latest = new Map<string, CommitStatusRecord>();
    for (const status of repository.statuses.filter(s => s.sha === sha))
      latest.set(status.context, status);
    return [...latest.values()].reverse();
  }
}

function completeSignature(
  partial: Partial<GitSignature> | undefined,
  fallback: GitSignature,
): GitSignature {
  return {
    name: partial?.name ?? fallback.name,
    email: partial?.email ?? fallback.email,
    date: partial?.date
      ? new Date(partial.date).toISOString().replace(/\.\d{3}Z$/, 'Z')
      : fallback.date,
  };
}

export function normalisePath(path: string): string {
  const normalised = path
    .split('/')
    .filter(segment => segment !== '' && segment !== '.')
    .join('/');
  if (!normalised || normalised.split('/').includes('..')) {
    throw new GitHubApiError(
      422,
      `Invalid path '${path}': use a relative path inside the repository without '..'`,
    );
  }
  return normalised;
}
