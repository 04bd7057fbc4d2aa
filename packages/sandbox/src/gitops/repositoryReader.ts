/*
 * Reads a GitOps repository revision over the GitHub REST API (the stand-in
 * or real GitHub): the branch head, then the recursive tree, then the blobs
 * of manifest-like files. Blobs are content-addressed, so they are cached
 * by sha across syncs.
 */
import { Octokit } from '@octokit/rest';

export interface RepositoryReader {
  defaultBranch(owner: string, repo: string): Promise<string>;
  branchHead(owner: string, repo: string, branch: string): Promise<string>;
  /** path → text of every manifest-like file at `commitSha`. */
  snapshot(
    owner: string,
    repo: string,
    commitSha: string,
  ): Promise<Map<string, string>>;
}

const MANIFEST_LIKE = /(\.(ya?ml|json)|(^|\/)Kustomization)$/i;

const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

export interface GitHubReaderOptions {
  /** REST root, e.g. the stand-in's `apiBaseUrl` or https://api.github.com */
  apiBaseUrl: string;
  token: string;
}

export class GitHubRepositoryReader implements RepositoryReader {
  readonly octokit: Octokit;
  private readonly blobs = new Map<string, string>();

  constructor(options: GitHubReaderOptions) {
    this.octokit = new Octokit({
      baseUrl: options.apiBaseUrl,
      auth: options.token,
      log: quietLog,
    });
  }

  async defaultBranch(owner: string, repo: string): Promise<string> {
    const { data } = await this.octokit.repos.get({ owner, repo });
    return data.default_branch;
  }

  async branchHead(
    owner: string,
    repo: string,
    branch: string,
  ): Promise<string> {
    const { data } = await this.octokit.git.getRef({
      owner,
      repo,
      ref: `heads/${branch}`,
    });
    return data.object.sha;
  }

  async snapshot(
    owner: string,
    repo: string,
    commitSha: string,
  ): Promise<Map<string, string>> {
    const { data: commit } = await this.octokit.git.getCommit({
      owner,
      repo,
      commit_sha: commitSha,
    });
    const { data: tree } = await this.octokit.git.getTree({
      owner,
      repo,
      tree_sha: commit.tree.sha,
      recursive: 'true',
    });
    if (tree.truncated) {
      throw new Error(
        `The tree of ${owner}/${repo}@${commitSha} is too large to list in one request; split the GitOps repository`,
      );
    }
    const files = new Map<string, string>();
    for (const entry of tree.tree) {
      if (
        entry.type !== 'blob' ||
        !entry.path ||
        !entry.sha ||
        !MANIFEST_LIKE.test(entry.path)
      )
        continue;
      let content = this.blobs.get(entry.sha);
      if (content === undefined) {
        const { data: blob } = await this.octokit.git.getBlob({
          owner,
          repo,
          file_sha: entry.sha,
        });
        content = Buffer.from(
          blob.content,
          blob.encoding === 'base64' ? 'base64' : 'utf8',
        ).toString('utf8');
        this.blobs.set(entry.sha, content);
      }
      files.set(entry.path, content);
    }
    return files;
  }
}
