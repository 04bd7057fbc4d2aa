/*
 * Processes and temporary directories the bench starts, and their cleanup on
 * every way out (normal end, error, Ctrl-C, SIGTERM).
 */
import { ChildProcess, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Counts } from '../standIns';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const NODE_TRANSFORM = require.resolve(
  '@backstage/cli/config/nodeTransform.cjs',
);

const cleanups: Array<() => Promise<void> | void> = [];
let cleaningUp: Promise<void> | undefined;

/**
 * Runs every cleanup registered so far, newest first (each once). Called
 * after each object count and on the way out; concurrent calls share one pass.
 */
export function cleanupAll(): Promise<void> {
  cleaningUp ??= (async () => {
    while (cleanups.length) {
      try {
        await cleanups.pop()!();
      } catch {
        // best effort: the next cleanup still runs
      }
    }
  })().finally(() => {
    cleaningUp = undefined;
  });
  return cleaningUp;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n[bench] ${signal}: stopping everything\n`);
    cleanupAll().finally(() => process.exit(130));
  });
}

export function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-bench-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A port that was free a moment ago (the backend needs it in its config). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>(resolve =>
    child.once('exit', () => resolve()),
  );
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface StandInCluster {
  name: string;
  /** Through the counting proxy: what the backend is configured with. */
  url: string;
  /** The stand-in itself: the bench seeds and patches here (not counted). */
  directUrl: string;
}

export interface StandIns {
  clusters: StandInCluster[];
  counts(): Promise<Record<string, Counts>>;
  reset(): Promise<void>;
  setLatency(ms: number): Promise<void>;
}

/** Forks bench/standIns.ts and starts the stand-ins and their proxies in it. */
export async function startStandIns(
  names: string[],
  token: string,
): Promise<StandIns> {
  const child = fork(path.join(__dirname, '..', 'standIns.ts'), [], {
    execArgv: ['--require', NODE_TRANSFORM],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push(async () => {
    if (child.connected) {
      await Promise.race([
        call('stop', {}).catch(() => undefined),
        new Promise(r => setTimeout(r, 5000)),
      ]);
    }
    await stopChild(child, 3000);
  });
  let nextId = 1;
  const pending = new Map<number, (reply: any) => void>();
  child.on('message', (reply: any) => {
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', code =>
      reject(new Error(`the stand-in process exited (code ${code})`)),
    ),
  );
  exited.catch(() => undefined);
  function call(type: string, body: object): Promise<any> {
    const id = nextId++;
    const answer = new Promise<any>((resolve, reject) => {
      pending.set(id, reply =>
        reply.error ? reject(new Error(reply.error)) : resolve(reply),
      );
    });
    child.send({ id, type, ...body });
    return Promise.race([answer, exited]);
  }
  const { clusters } = await call('start', { clusters: names, token });
  return {
    clusters,
    counts: async () => (await call('counts', {})).counts,
    reset: async () => {
      await call('reset', {});
    },
    setLatency: async (ms: number) => {
      await call('latency', { ms });
    },
  };
}

export interface Backend {
  pid: number;
  baseUrl: string;
  logFile: string;
  /** Rejects when the backend exits. */
  exited: Promise<never>;
}

/**
 * Starts packages/backend the way `backstage-cli package start` does (same
 * transform, working directory and NODE_ENV), but without its file watcher:
 * people editing the checkout must not restart the backend mid-run.
 */
export function startBackend(
  configFiles: string[],
  port: number,
  tmpDir: string,
): Backend {
  const logFile = path.join(tmpDir, 'backend.log');
  const log = fs.openSync(logFile, 'a');
  const args = [
    '--enable-source-maps',
    '--require',
    NODE_TRANSFORM,
    'src/index.ts',
    ...configFiles.flatMap(file => ['--config', file]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: path.join(REPO_ROOT, 'packages', 'backend'),
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      NODE_ENV: 'development',
      ESBK_TSCONFIG_PATH: path.join(REPO_ROOT, 'tsconfig.json'),
      // Nothing in the bench should reach AWS: an address that refuses.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    },
  });
  cleanups.push(() => stopChild(child));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', code =>
      reject(
        new Error(`the backend exited (code ${code}); its log: ${logFile}`),
      ),
    ),
  );
  exited.catch(() => undefined);
  return {
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${port}`,
    logFile,
    exited,
  };
}

/** VmRSS of a process in bytes (Linux). */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
