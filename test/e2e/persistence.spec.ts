import { test, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  mkdtempSync,
  writeFileSync,
  rmSync,
  readdirSync,
  openSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitForBackendReady } from './support/backend';

// A second backend of its own (port 7107, its own SQLite directory), stopped
// and started again, so that this test proves the default on-disk database
// keeps what was written through the API.
const root = resolve(__dirname, '../..');
const port = 7107;
const base = `http://localhost:${port}`;

function startBackend(configFile: string, logFile: string): ChildProcess {
  const log = openSync(logFile, 'a');
  return spawn(
    'node',
    [
      join(root, 'node_modules/@backstage/cli/bin/backstage-cli'),
      'package',
      'start',
      '--config',
      join(root, 'app-config.yaml'),
      '--config',
      configFile,
    ],
    {
      cwd: join(root, 'packages/backend'),
      stdio: ['ignore', log, log],
      detached: true,
    },
  );
}

async function stopBackend(child: ChildProcess) {
  const exited = new Promise(r => child.once('exit', r));
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
}

async function guestToken(request: any): Promise<string> {
  const res = await request.post(`${base}/api/auth/guest/refresh`, {
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  expect(res.ok()).toBeTruthy();
  return (await res.json()).backstageIdentity.token;
}

test('data written through the backend survives a restart (SQLite on disk)', async ({
  request,
}) => {
  test.setTimeout(480_000);
  const dir = mkdtempSync(join(tmpdir(), 'keda-portal-persist-'));
  const configFile = join(dir, 'app-config.test.yaml');
  writeFileSync(
    configFile,
    [
      'backend:',
      `  baseUrl: ${base}`,
      `  listen: { port: ${port} }`,
      '  database:',
      '    client: better-sqlite3',
      `    connection: { directory: ${join(dir, 'sqlite')} }`,
    ].join('\n'),
  );
  const value = `written at ${new Date().toISOString()}`;
  // The second backend's output, for when it does not come up.
  mkdirSync(join(root, 'artifacts'), { recursive: true });
  const logFile = join(root, 'artifacts/persistence-backend.log');
  let backend = startBackend(configFile, logFile);
  try {
    await waitForBackendReady(request, base, 180_000);
    const put = await request.put(
      `${base}/api/user-settings/buckets/persistence/keys/probe`,
      {
        headers: { authorization: `Bearer ${await guestToken(request)}` },
        data: { value },
      },
    );
    expect(put.ok()).toBeTruthy();
    expect(readdirSync(join(dir, 'sqlite'))).toContain('user-settings.sqlite');

    await stopBackend(backend);
    backend = startBackend(configFile, logFile);
    await waitForBackendReady(request, base, 180_000);

    const get = await request.get(
      `${base}/api/user-settings/buckets/persistence/keys/probe`,
      {
        headers: { authorization: `Bearer ${await guestToken(request)}` },
      },
    );
    expect(get.ok()).toBeTruthy();
    expect((await get.json()).value).toBe(value);
  } finally {
    await stopBackend(backend).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
