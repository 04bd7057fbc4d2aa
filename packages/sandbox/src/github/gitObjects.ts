/*
 * The git object model of the GitHub stand-in: blobs, trees and commits,
 * content-addressed by SHA-1 exactly like git computes it
 * (`<type> <size>\0<payload>`), so the same files always get the same ids and
 * a sha seen in a scaffolder log can be checked with `git hash-object`.
 */
import { createHash } from 'node:crypto';

/** File modes git (and the GitHub trees API) knows. */
export type GitFileMode = '100644' | '100755' | '120000';
export type GitTreeEntryMode = GitFileMode | '040000' | '160000';

export interface GitSignature {
  name: string;
  email: string;
  /** ISO-8601 timestamp, as the GitHub API returns it. */
  date: string;
}

export interface GitBlob {
  type: 'blob';
  /** Content, base64 encoded so the store serialises to JSON losslessly. */
  content: string;
}

export interface GitTreeEntry {
  name: string;
  mode: GitTreeEntryMode;
  type: 'blob' | 'tree' | 'commit';
  sha: string;
}

export interface GitTree {
  type: 'tree';
  entries: GitTreeEntry[];
}

export interface GitCommit {
  type: 'commit';
  tree: string;
  parents: string[];
  author: GitSignature;
  committer: GitSignature;
  message: string;
}

export type GitObject = GitBlob | GitTree | GitCommit;

/** A file in a flattened tree: path relative to the tree's root. */
export interface GitFileEntry {
  mode: GitFileMode | '160000';
  sha: string;
}

/** path → entry, only files (git has no empty directories). */
export type FlatTree = Map<string, GitFileEntry>;

export const EMPTY_TREE_SHA = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** Raised when an object id does not exist or has the wrong type. */
export class GitObjectMissingError extends Error {
  constructor(
    readonly sha: string,
    readonly expectedType: GitObject['type'] | 'object',
  ) {
    super(`No ${expectedType} with sha ${sha} exists in this repository`);
    this.name = 'GitObjectMissingError';
  }
}

function hashObject(type: string, payload: Buffer): string {
  const header = Buffer.from(`${type} ${payload.length}\0`);
  return createHash('sha1').update(header).update(payload).digest('hex');
}

/**
 * Git orders tree entries by name bytes, but compares a sub-tree as if its
 * name ended in '/': the file `a-b` sorts before the directory `a` because
 * '-' < '/'. Getting this wrong changes every tree sha.
 */
function treeSortKey(entry: GitTreeEntry): Buffer {
  return Buffer.from(entry.type === 'tree' ? `${entry.name}/` : entry.name);
}

export function sortTreeEntries(entries: GitTreeEntry[]): GitTreeEntry[] {
  return [...entries].sort((a, b) =>
    Buffer.compare(treeSortKey(a), treeSortKey(b)),
  );
}

function signatureLine(role: string, signature: GitSignature): string {
  const seconds = Math.floor(new Date(signature.date).getTime() / 1000);
  // The stand-in normalises every timestamp to UTC, so the zone is +0000.
  return `${role} ${signature.name} <${signature.email}> ${seconds} +0000`;
}

export function serializeGitObject(object: GitObject): Buffer {
  switch (object.type) {
    case 'blob':
      return Buffer.from(object.content, 'base64');
    case 'tree':
      return Buffer.concat(
        sortTreeEntries(object.entries).map(entry =>
          Buffer.concat([
            // git writes directory modes without the leading zero.
            Buffer.from(`${entry.mode.replace(/^0+/, '')} ${entry.name}\0`),
            Buffer.from(entry.sha, 'hex'),
          ]),
        ),
      );
    case 'commit': {
      const lines = [`tree ${object.tree}`];
      for (const parent of object.parents) lines.push(`parent ${parent}`);
      lines.push(signatureLine('author', object.author));
      lines.push(signatureLine('committer', object.committer));
      return Buffer.from(`${lines.join('\n')}\n\n${object.message}`);
    }
    default:
      throw new Error(`Unknown git object type`);
  }
}

export function gitObjectSha(object: GitObject): string {
  return hashObject(object.type, serializeGitObject(object));
}

/**
 * A content-addressed object database. Backed by a plain record so that the
 * repository state can be written to and read from a JSON file.
 */
export class GitObjectStore {
  constructor(private readonly objects: Record<string, GitObject> = {}) {}

  /** The raw record, for persistence. */
  toJSON(): Record<string, GitObject> {
    return this.objects;
  }

  has(sha: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.objects, sha);
  }

  get(sha: string): GitObject | undefined {
    return this.has(sha) ? this.objects[sha] : undefined;
  }

  put(object: GitObject): string {
    const sha = gitObjectSha(object);
    if (!this.has(sha)) {
      this.objects[sha] =
        object.type === 'tree'
          ? { type: 'tree', entries: sortTreeEntries(object.entries) }
          : object;
    }
    return sha;
  }

  putBlob(content: Buffer | string): string {
    const buffer = typeof content === 'string' ? Buffer.from(content) : content;
    return this.put({ type: 'blob', content: buffer.toString('base64') });
  }

  blob(sha: string): GitBlob {
    const object = this.get(sha);
    if (object?.type !== 'blob') throw new GitObjectMissingError(sha, 'blob');
    return object;
  }

  blobContent(sha: string): Buffer {
    return Buffer.from(this.blob(sha).content, 'base64');
  }

  tree(sha: string): GitTree {
    const object = this.get(sha);
    if (object?.type !== 'tree') throw new GitObjectMissingError(sha, 'tree');
    return object;
  }

  commit(sha: string): GitCommit {
    const object = this.get(sha);
    if (object?.type !== 'commit') {
      throw new GitObjectMissingError(sha, 'commit');
    }
    return object;
  }

  /** Every file below a tree, keyed by its path relative to that tree. */
  flattenTree(treeSha: string, prefix = ''): FlatTree {
    const files: FlatTree = new Map();
    for (const entry of this.tree(treeSha).entries) {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.type === 'tree') {
        for (const [subPath, file] of this.flattenTree(entry.sha, path)) {
          files.set(subPath, file);
        }
      } else {
        files.set(path, {
          mode: entry.mode as GitFileEntry['mode'],
          sha: entry.sha,
        });
      }
    }
    return files;
  }

  /** Builds (and stores) the nested trees for a flat file map. */
  writeFlatTree(files: FlatTree): string {
    const root: DirectoryNode = new Map();
    for (const [path, file] of files) {
      const segments = path.split('/');
      let directory = root;
      for (const segment of segments.slice(0, -1)) {
        let child = directory.get(segment);
        if (!(child instanceof Map)) {
          child = new Map();
          directory.set(segment, child);
        }
        directory = child;
      }
      directory.set(segments[segments.length - 1], file);
    }
    return this.writeDirectory(root);
  }

  private writeDirectory(directory: DirectoryNode): string {
    const entries: GitTreeEntry[] = [];
    for (const [name, node] of directory) {
      if (node instanceof Map) {
        entries.push({
          name,
          mode: '040000',
          type: 'tree',
          sha: this.writeDirectory(node),
        });
      } else {
        entries.push({
          name,
          mode: node.mode,
          type: node.mode === '160000' ? 'commit' : 'blob',
          sha: node.sha,
        });
      }
    }
    return this.put({ type: 'tree', entries });
  }

  /** Looks a path up in a tree: a file entry, a sub-tree sha, or undefined. */
  lookupPath(
    treeSha: string,
    path: string,
  ):
    | { type: 'tree'; sha: string }
    | ({ type: 'blob' } & GitFileEntry)
    | undefined {
    const segments = path.split('/').filter(Boolean);
    let current:
      | { type: 'tree'; sha: string }
      | ({ type: 'blob' } & GitFileEntry) = {
      type: 'tree',
      sha: treeSha,
    };
    for (const segment of segments) {
      if (current.type !== 'tree') return undefined;
      const entry: GitTreeEntry | undefined = this.tree(
        current.sha,
      ).entries.find(e => e.name === segment);
      if (!entry) return undefined;
      current =
        entry.type === 'tree'
          ? { type: 'tree', sha: entry.sha }
          : {
              type: 'blob',
              mode: entry.mode as GitFileEntry['mode'],
              sha: entry.sha,
            };
    }
    return current;
  }

  /** Commits reachable from `sha`, newest first (breadth first by date). */
  history(sha: string): string[] {
    const seen = new Set<string>();
    const ordered: string[] = [];
    let frontier = [sha];
    while (frontier.length > 0) {
      frontier.sort(
        (a, b) =>
          Date.parse(this.commit(b).committer.date) -
          Date.parse(this.commit(a).committer.date),
      );
      const next = frontier.shift()!;
      if (seen.has(next)) continue;
      seen.add(next);
      ordered.push(next);
      frontier = frontier.concat(this.commit(next).parents);
    }
    return ordered;
  }

  /** Commits reachable from `head` but not from `base`, newest first. */
  commitsBetween(base: string | undefined, head: string): string[] {
    const excluded = new Set(base ? this.history(base) : []);
    return this.history(head).filter(sha => !excluded.has(sha));
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    return this.history(descendant).includes(ancestor);
  }

  /**
   * The best common ancestor of two commits (the newest commit reachable
   * from both), which is what a three-way merge diffs both sides against.
   */
  mergeBase(a: string, b: string): string | undefined {
    const fromA = new Set(this.history(a));
    return this.history(b).find(sha => fromA.has(sha));
  }
}

type DirectoryNode = Map<string, DirectoryNode | GitFileEntry>;

function sameEntry(a?: GitFileEntry, b?: GitFileEntry): boolean {
  if (!a || !b) return a === b;
  return a.sha === b.sha && a.mode === b.mode;
}

export interface ThreeWayMergeResult {
  files: FlatTree;
  /** Paths both sides changed differently. */
  conflicts: string[];
}

/**
 * File-level three-way merge: a path changed on one side only takes that
 * side; changed identically on both is fine; changed differently is a
 * conflict (GitHub would refuse to merge, and so does the stand-in).
 */
export function mergeFlatTrees(
  base: FlatTree,
  ours: FlatTree,
  theirs: FlatTree,
): ThreeWayMergeResult {
  const files: FlatTree = new Map();
  const conflicts: string[] = [];
  const paths = new Set([...base.keys(), ...ours.keys(), ...theirs.keys()]);
  for (const path of [...paths].sort()) {
    const b = base.get(path);
    const o = ours.get(path);
    const t = theirs.get(path);
    let result: GitFileEntry | undefined;
    if (sameEntry(o, t)) result = o;
    else if (sameEntry(o, b)) result = t;
    else if (sameEntry(t, b)) result = o;
    else {
      conflicts.push(path);
      continue;
    }
    if (result) files.set(path, result);
  }
  // A file where the other side now has a directory (or vice versa) cannot
  // be represented; report it instead of writing a corrupt tree.
  for (const path of files.keys()) {
    for (const other of files.keys()) {
      if (other.startsWith(`${path}/`)) conflicts.push(path);
    }
  }
  return { files, conflicts: [...new Set(conflicts)].sort() };
}
