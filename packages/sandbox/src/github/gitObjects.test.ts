import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  EMPTY_TREE_SHA,
  FlatTree,
  GitObjectMissingError,
  GitObjectStore,
  mergeFlatTrees,
} from './gitObjects';

/** Real git is the oracle: the stand-in must compute the same object ids. */
function git(cwd: string, args: string[], env: Record<string, string> = {}) {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  }).trim();
}

describe('GitObjectStore', () => {
  let workdir: string;

  beforeEach(() => {
    workdir = mkdtempSync(join(tmpdir(), 'git-objects-'));
    git(workdir, ['init', '-q']);
  });

  afterEach(() => rmSync(workdir, { recursive: true, force: true }));

  it('hashes a blob exactly like git hash-object', () => {
    const store = new GitObjectStore();
    writeFileSync(join(workdir, 'hello.txt'), 'hello\n');
    expect(store.putBlob('hello\n')).toBe(
      git(workdir, ['hash-object', 'hello.txt']),
    );
  });

  it('hashes the empty tree like git', () => {
    const store = new GitObjectStore();
    expect(store.writeFlatTree(new Map())).toBe(EMPTY_TREE_SHA);
  });

  it('builds nested trees with the same ids as git write-tree, including git entry order and modes', () => {
    const files: Record<string, { content: string; executable?: boolean }> = {
      'a-b': { content: 'file before directory a because - < /\n' },
      'a/deployment.yaml': { content: 'kind: Deployment\n' },
      'a/nested/kustomization.yaml': { content: 'resources: []\n' },
      'run.sh': { content: '#!/bin/sh\necho hi\n', executable: true },
      'README.md': { content: '# demo\n' },
    };
    const store = new GitObjectStore();
    const flat: FlatTree = new Map();
    for (const [path, file] of Object.entries(files)) {
      const absolute = join(workdir, path);
      mkdirSync(dirname(absolute), { recursive: true });
      writeFileSync(absolute, file.content);
      if (file.executable) chmodSync(absolute, 0o755);
      flat.set(path, {
        mode: file.executable ? '100755' : '100644',
        sha: store.putBlob(file.content),
      });
    }
    git(workdir, ['add', '-A']);
    const treeSha = store.writeFlatTree(flat);
    expect(treeSha).toBe(git(workdir, ['write-tree']));
    expect(store.flattenTree(treeSha)).toEqual(flat);
  });

  it('hashes a commit like git commit-tree', () => {
    const store = new GitObjectStore();
    writeFileSync(join(workdir, 'x.txt'), 'x\n');
    git(workdir, ['add', '-A']);
    const tree = git(workdir, ['write-tree']);
    const date = '2026-11-28T05:00:00Z';
    const signature = { name: 'Sandbox Bot', email: 'bot@example.com', date };
    const gitSha = git(workdir, ['commit-tree', tree, '-m', 'Add x'], {
      GIT_AUTHOR_NAME: signature.name,
      GIT_AUTHOR_EMAIL: signature.email,
      GIT_AUTHOR_DATE: `${Date.parse(date) / 1000} +0000`,
      GIT_COMMITTER_NAME: signature.name,
      GIT_COMMITTER_EMAIL: signature.email,
      GIT_COMMITTER_DATE: `${Date.parse(date) / 1000} +0000`,
    });
    const ownTree = store.writeFlatTree(
      new Map([['x.txt', { mode: '100644', sha: store.putBlob('x\n') }]]),
    );
    expect(ownTree).toBe(tree);
    const sha = store.put({
      type: 'commit',
      tree,
      parents: [],
      author: signature,
      committer: signature,
      // git commit-tree -m appends the newline a commit message ends with.
      message: 'Add x\n',
    });
    expect(sha).toBe(gitSha);
  });

  it('names the missing object and its expected type', () => {
    const store = new GitObjectStore();
    const blob = store.putBlob('data');
    expect(() => store.tree(blob)).toThrow(GitObjectMissingError);
    expect(() => store.commit('f'.repeat(40))).toThrow(
      `No commit with sha ${'f'.repeat(40)} exists`,
    );
  });

  it('looks up files and directories by path', () => {
    const store = new GitObjectStore();
    const sha = store.putBlob('a');
    const tree = store.writeFlatTree(
      new Map([['deploy/app/a.yaml', { mode: '100644', sha }]]),
    );
    expect(store.lookupPath(tree, 'deploy/app/a.yaml')).toEqual({
      type: 'blob',
      mode: '100644',
      sha,
    });
    expect(store.lookupPath(tree, 'deploy')?.type).toBe('tree');
    expect(store.lookupPath(tree, 'deploy/missing.yaml')).toBeUndefined();
    expect(store.lookupPath(tree, 'deploy/app/a.yaml/below')).toBeUndefined();
  });

  it('finds the merge base of two branches', () => {
    const store = new GitObjectStore();
    const tree = store.writeFlatTree(new Map());
    const commit = (parents: string[], minute: number) =>
      store.put({
        type: 'commit',
        tree,
        parents,
        author: {
          name: 'a',
          email: 'a@x',
          date: `2026-01-01T00:0${minute}:00Z`,
        },
        committer: {
          name: 'a',
          email: 'a@x',
          date: `2026-01-01T00:0${minute}:00Z`,
        },
        message: `c${minute}`,
      });
    const root = commit([], 0);
    const fork = commit([root], 1);
    const main = commit([fork], 2);
    const feature = commit([fork], 3);
    expect(store.mergeBase(main, feature)).toBe(fork);
    expect(store.isAncestor(root, feature)).toBe(true);
    expect(store.isAncestor(main, feature)).toBe(false);
    expect(store.history(main)).toEqual([main, fork, root]);
  });
});

describe('mergeFlatTrees', () => {
  const entry = (sha: string) => ({ mode: '100644' as const, sha });

  it('takes each side’s change and reports paths changed differently on both', () => {
    const base: FlatTree = new Map([
      ['same.yaml', entry('1')],
      ['ours.yaml', entry('2')],
      ['theirs.yaml', entry('3')],
      ['both.yaml', entry('4')],
      ['deleted-by-them.yaml', entry('5')],
    ]);
    const ours: FlatTree = new Map([
      ['same.yaml', entry('1')],
      ['ours.yaml', entry('2-ours')],
      ['theirs.yaml', entry('3')],
      ['both.yaml', entry('4-ours')],
      ['deleted-by-them.yaml', entry('5')],
      ['added-by-us.yaml', entry('6')],
    ]);
    const theirs: FlatTree = new Map([
      ['same.yaml', entry('1')],
      ['ours.yaml', entry('2')],
      ['theirs.yaml', entry('3-theirs')],
      ['both.yaml', entry('4-theirs')],
      ['added-by-them.yaml', entry('7')],
    ]);
    const result = mergeFlatTrees(base, ours, theirs);
    expect(result.conflicts).toEqual(['both.yaml']);
    expect(Object.fromEntries(result.files)).toEqual({
      'added-by-them.yaml': entry('7'),
      'added-by-us.yaml': entry('6'),
      'ours.yaml': entry('2-ours'),
      'same.yaml': entry('1'),
      'theirs.yaml': entry('3-theirs'),
    });
  });
});
