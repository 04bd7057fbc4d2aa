#!/usr/bin/env node
// The steps of scripts/check-install.sh that are easier in Node. Each prints
// what it did to stderr and exits non-zero on a failure:
//   check-pack <tarball-dir>          the packed tarballs hold what package.json promises
//   prepare <app> <tarball-dir>       resolutions to the tarballs, the repository's Backstage release
//   readme <app> <tarball-dir>        applies the plugins' README "Install" sections
//   config <app> <sandbox-data-dir>   app-config.local.yaml: the stand-ins, the example entities
//   verify <app> <backend-url>             the actions, the status route, the card in Chromium
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';

const repoRoot = path.resolve(new URL('..', import.meta.url).pathname);
const say = m =>
  process.stderr.write(`\x1b[1;34m[install-check]\x1b[0m ${m}\n`);
const fail = m => {
  say(`FAILED: ${m}`);
  process.exit(1);
};
const readJson = file => JSON.parse(fs.readFileSync(file, 'utf8'));
const writeJson = (file, data) =>
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);

// The plugin folders whose README "Install" section the app follows, in order.
const INSTALLED = [
  'keda-backend',
  'scaffolder-backend-module-keda',
  'permission-backend-module-keda-policy',
  'keda',
];
const PACKED = [
  'keda-common',
  'keda-node',
  'keda-backend',
  'scaffolder-backend-module-keda',
  'permission-backend-module-keda-policy',
  'keda',
];

/** name -> { file (absolute), version } of the packed tarballs */
function tarballs(dir) {
  const out = new Map();
  for (const folder of PACKED) {
    const pkg = readJson(
      path.join(repoRoot, 'plugins', folder, 'package.json'),
    );
    const file = path.join(dir, `${folder}.tgz`);
    if (!fs.existsSync(file)) fail(`no tarball for ${pkg.name}: ${file}`);
    out.set(pkg.name, { file, version: pkg.version, folder });
  }
  return out;
}

function checkPack(dir) {
  for (const [name, { file }] of tarballs(dir)) {
    const listing = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(f => f.replace(/^package\//, ''));
    const norm = f => f.replace(/^\.\//, '');
    const has = f => listing.includes(norm(f));
    const packed = JSON.parse(
      execFileSync('tar', ['-xOzf', file, 'package/package.json'], {
        encoding: 'utf8',
      }),
    );
    const problems = [];
    // (prepack turns a config.d.ts into config.schema.json in "files")
    for (const entry of packed.files ?? []) {
      if (!listing.some(f => f === entry || f.startsWith(`${entry}/`)))
        problems.push(`"files" entry ${entry} is not in the tarball`);
    }
    for (const field of ['main', 'module', 'types', 'configSchema']) {
      if (packed[field] && !has(packed[field]))
        problems.push(`${field} ${packed[field]} is not in the tarball`);
    }
    if (packed.main && !norm(packed.main).startsWith('dist/'))
      problems.push(`main is ${packed.main}, not dist/ (prepack did not run?)`);
    const leaves = v =>
      typeof v === 'string' ? [v] : Object.values(v ?? {}).flatMap(leaves);
    for (const t of leaves(packed.exports).filter(v => v.startsWith('./'))) {
      if (!t.endsWith('package.json') && !has(t) && !t.startsWith('./src'))
        problems.push(`exports target ${t} is not in the tarball`);
      if (t.startsWith('./src'))
        problems.push(`exports point at sources: ${t}`);
    }
    for (const field of ['dependencies', 'peerDependencies']) {
      for (const [dep, range] of Object.entries(packed[field] ?? {})) {
        if (/^(workspace|link|file|portal):/.test(range))
          problems.push(
            `${field} ${dep}@${range} cannot be installed from a registry`,
          );
      }
    }
    if (!listing.some(f => f.startsWith('dist/')))
      problems.push('no dist/ in the tarball');
    if (problems.length) fail(`${name}: ${problems.join('; ')}`);
    say(
      `${path.basename(file)}: ${listing.length} files, ${(
        packed.files ?? []
      ).join(', ')} present, main ${packed.main ?? '-'}`,
    );
  }
}

function workspaceManifests(root) {
  const files = [path.join(root, 'package.json')];
  for (const dir of ['packages', 'plugins']) {
    if (!fs.existsSync(path.join(root, dir))) continue;
    for (const name of fs.readdirSync(path.join(root, dir))) {
      const file = path.join(root, dir, name, 'package.json');
      if (fs.existsSync(file)) files.push(file);
    }
  }
  return files;
}

function prepare(app, dir) {
  // 1. The six packages come from the tarballs, wherever they are asked for
  //    (the app's own dependencies and the plugins' dependencies on each other).
  const local = path.join(app, 'keda-tarballs');
  fs.mkdirSync(local, { recursive: true });
  const rootManifest = readJson(path.join(app, 'package.json'));
  rootManifest.resolutions ??= {};
  for (const [name, { file }] of tarballs(dir)) {
    fs.copyFileSync(file, path.join(local, path.basename(file)));
    rootManifest.resolutions[name] = `file:./keda-tarballs/${path.basename(
      file,
    )}`;
  }
  writeJson(path.join(app, 'package.json'), rootManifest);

  // 2. The repository's Backstage release, as our own app got it
  //    (scripts/bump-backstage.mjs): every @backstage/* dependency on the range
  //    this repository declares; one it does not declare on ^ the version it
  //    has installed. The repository's yarn.lock seeds the resolution, as
  //    create-app's own yarn.lock seed would.
  const ranges = new Map();
  for (const file of workspaceManifests(repoRoot)) {
    const pkg = readJson(file);
    for (const field of ['dependencies', 'devDependencies']) {
      for (const [name, range] of Object.entries(pkg[field] ?? {})) {
        if (name.startsWith('@backstage/') && !ranges.has(name))
          ranges.set(name, range);
      }
    }
  }
  let moved = 0;
  const kept = [];
  for (const file of workspaceManifests(app)) {
    const pkg = readJson(file);
    for (const field of ['dependencies', 'devDependencies']) {
      for (const [name, range] of Object.entries(pkg[field] ?? {})) {
        if (!name.startsWith('@backstage/')) continue;
        let want = ranges.get(name);
        if (!want) {
          const installed = path.join(
            repoRoot,
            'node_modules',
            name,
            'package.json',
          );
          if (fs.existsSync(installed))
            want = `^${readJson(installed).version}`;
        }
        if (!want) {
          kept.push(`${name}@${range}`);
          continue;
        }
        if (want !== range) {
          pkg[field][name] = want;
          moved++;
        }
      }
    }
    writeJson(file, pkg);
  }
  fs.copyFileSync(
    path.join(repoRoot, 'yarn.lock'),
    path.join(app, 'yarn.lock'),
  );
  say(
    `resolutions to ${
      tarballs(dir).size
    } tarballs; ${moved} @backstage/* ranges moved to this repository's release` +
      (kept.length ? `; kept (not used here): ${kept.join(', ')}` : ''),
  );
}

/** The "## Install" section of a README (the new frontend system's for keda). */
function installSection(folder) {
  const text = fs.readFileSync(
    path.join(repoRoot, 'plugins', folder, 'README.md'),
    'utf8',
  );
  const lines = text.split('\n');
  const start = lines.findIndex(
    l => /^## Install\b/.test(l) && !/legacy/i.test(l),
  );
  if (start < 0)
    fail(`plugins/${folder}/README.md has no "## Install" section`);
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (end < 0) end = lines.length;
  const section = lines.slice(start, end).join('\n');
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(m => ({
    lang: m[1],
    body: m[2],
  }));
  return { section, blocks };
}

const importsIn = code =>
  [...code.matchAll(/backend\.add\(\s*import\('([^']+)'\)\s*,?\s*\)/g)].map(
    m => m[1],
  );

function yarnIn(app, args) {
  const yarnPath = parse(
    fs.readFileSync(path.join(app, '.yarnrc.yml'), 'utf8'),
  ).yarnPath;
  const r = spawnSync(process.execPath, [path.join(app, yarnPath), ...args], {
    cwd: app,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) fail(`yarn ${args.join(' ')} exited ${r.status}`);
}

function readme(app, dir) {
  const packed = tarballs(dir);
  for (const folder of INSTALLED) {
    const { section, blocks } = installSection(folder);
    const where = `plugins/${folder}/README.md`;
    let steps = 0;
    for (const { lang, body } of blocks) {
      const lines = body.split('\n');
      if (lang === 'sh') {
        for (const line of lines
          .map(l => l.trim())
          .filter(l => l && !l.startsWith('#'))) {
          const m = line.match(/^yarn --cwd (\S+) add (.+)$/);
          if (!m)
            fail(
              `${where}: install step "${line}" is not \`yarn --cwd <workspace> add <packages>\``,
            );
          // Not on a registry yet: the version packed here, which the root
          // resolutions point at the tarball (a published package needs no range).
          const specs = m[2].split(/\s+/).map(spec => {
            const known = packed.get(spec);
            if (spec.startsWith('@keda-self-service/') && !known)
              fail(`${where}: ${spec} is not one of the packed packages`);
            return known ? `${spec}@^${known.version}` : spec;
          });
          say(`${where}: ${line}`);
          yarnIn(app, [
            '--cwd',
            m[1],
            'add',
            ...specs,
            '--mode=update-lockfile',
          ]);
          steps++;
        }
      } else if (
        (lang === 'ts' || lang === 'diff') &&
        /^\/\/ (\S+\.tsx?)$/.test(lines[0].trim())
      ) {
        const target = lines[0].trim().slice(3);
        const file = path.join(app, target);
        if (!fs.existsSync(file))
          fail(`${where}: ${target} does not exist in a create-app app`);
        let code = fs.readFileSync(file, 'utf8');
        const removed =
          lang === 'diff'
            ? importsIn(
                lines
                  .filter(l => l.startsWith('-'))
                  .map(l => l.slice(1))
                  .join('\n'),
              )
            : [];
        const added = importsIn(
          lang === 'diff'
            ? lines
                .filter(l => l.startsWith('+'))
                .map(l => l.slice(1))
                .join('\n')
            : body,
        );
        if (!added.length && !removed.length)
          fail(`${where}: a ${target} block with no backend.add(import(…))`);
        for (const mod of removed) {
          const re = new RegExp(
            `backend\\.add\\(\\s*import\\('${mod.replace(
              /[/.]/g,
              '\\$&',
            )}'\\)\\s*,?\\s*\\);\\n`,
          );
          if (!re.test(code))
            fail(
              `${where}: says to remove ${mod}, which ${target} of create-app does not add`,
            );
          code = code.replace(re, '');
          say(`${where}: ${target}: removed ${mod}`);
        }
        for (const mod of added) {
          if (code.includes(`import('${mod}')`)) continue; // create-app has it already
          if (!code.includes('backend.start();'))
            fail(`${target} has no backend.start();`);
          code = code.replace(
            'backend.start();',
            `backend.add(import('${mod}'));\n\nbackend.start();`,
          );
          say(`${where}: ${target}: added ${mod}`);
        }
        fs.writeFileSync(file, code);
        steps++;
      }
    }
    // The frontend plugin is discovered (app.packages: all): the app must do that.
    if (/app\.packages: all/.test(section)) {
      const appConfig = parse(
        fs.readFileSync(path.join(app, 'app-config.yaml'), 'utf8'),
      );
      if (appConfig?.app?.packages !== 'all')
        fail(
          `${where} relies on app.packages: all, which the create-app app-config.yaml does not set`,
        );
      say(
        `${where}: the app discovers features (app.packages: all in create-app's app-config.yaml)`,
      );
    }
    if (!steps)
      fail(`${where}: the Install section has no step this check can follow`);
  }
}

function config(app, sandboxDir) {
  // The sections of this repository's app-config.yaml that talk to the
  // stand-ins (the sandbox reads the same file), and its example entities.
  const repo = parse(
    fs.readFileSync(path.join(repoRoot, 'app-config.yaml'), 'utf8'),
  );
  const examples = path.join(app, 'keda-examples');
  fs.mkdirSync(examples, { recursive: true });
  for (const f of ['entities.yaml', 'org.yaml'])
    fs.copyFileSync(path.join(repoRoot, 'examples', f), path.join(examples, f));
  const kubernetes = structuredClone(repo.kubernetes);
  for (const m of kubernetes.clusterLocatorMethods ?? [])
    for (const c of m.clusters ?? [])
      if (c.caFile) c.caFile = path.join(sandboxDir, path.basename(c.caFile));
  const local = {
    integrations: repo.integrations,
    aws: repo.aws,
    kubernetes,
    keda: repo.keda,
    catalog: {
      rules: [
        {
          allow: [
            'Component',
            'System',
            'API',
            'Resource',
            'Location',
            'Template',
            'User',
            'Group',
          ],
        },
      ],
      locations: [
        { type: 'file', target: path.join(examples, 'entities.yaml') },
        {
          type: 'file',
          target: path.join(examples, 'org.yaml'),
          rules: [{ allow: ['User', 'Group'] }],
        },
      ],
    },
    techdocs: { generator: { runIn: 'local' } },
  };
  fs.writeFileSync(
    path.join(app, 'app-config.local.yaml'),
    `# Written by scripts/check-install.mjs: the local stand-ins\n${stringify(
      local,
    )}`,
  );
  say(
    'app-config.local.yaml: integrations, aws, kubernetes, keda from the repository; its example entities',
  );
}

async function verify(app, base) {
  const entityRef = 'component:default/orders-worker';
  const auth = await fetch(`${base}/api/auth/guest/refresh`, {
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  if (!auth.ok) fail(`guest sign-in: ${auth.status} ${await auth.text()}`);
  const token = (await auth.json()).backstageIdentity.token;
  const headers = { authorization: `Bearer ${token}` };

  // 1. the scaffolder lists every keda action the scaffolder module defines
  const actionsRes = await fetch(`${base}/api/scaffolder/v2/actions`, {
    headers,
  });
  if (!actionsRes.ok)
    fail(`GET /api/scaffolder/v2/actions: ${actionsRes.status}`);
  const actions = await actionsRes.json();
  const ids = (Array.isArray(actions) ? actions : actions.actions ?? []).map(
    a => a.id,
  );
  const keda = ids.filter(id => id.startsWith('keda:'));
  const expected = Object.values(
    createRequire(path.join(app, 'package.json'))(
      '@keda-self-service/plugin-keda-common',
    ).KEDA_ACTION_IDS,
  );
  const missing = expected.filter(id => !keda.includes(id));
  if (!keda.length || missing.length)
    fail(
      `/api/scaffolder/v2/actions lists ${keda.length} keda actions; missing: ${
        missing.join(', ') || 'all'
      }`,
    );
  say(
    `/api/scaffolder/v2/actions lists the ${
      keda.length
    } keda actions (${keda.join(', ')})`,
  );

  // 2. the status route answers for an entity with the KEDA annotations
  let status;
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(
      `${base}/api/keda/status?entityRef=${encodeURIComponent(entityRef)}`,
      { headers },
    );
    const body = await res.text();
    if (res.status === 200) {
      status = JSON.parse(body);
      break;
    }
    // the catalog may not have processed the example entities yet
    if (res.status !== 404 || attempt > 60)
      fail(`GET /api/keda/status: ${res.status} ${body}`);
    await new Promise(r => setTimeout(r, 2000));
  }
  if (!Array.isArray(status.scaledObjects) || !Array.isArray(status.clusters))
    fail(
      `/api/keda/status answered without scaledObjects/clusters: ${JSON.stringify(
        status,
      ).slice(0, 300)}`,
    );
  if (!status.clusters.length)
    fail(
      '/api/keda/status lists no cluster: the keda/kubernetes config of app-config.local.yaml did not reach the plugin',
    );
  say(
    `/api/keda/status?entityRef=${entityRef}: 200, clusters ${status.clusters
      .map(c => `${c.cluster}${c.synced ? ' (synced)' : ''}`)
      .join(', ')}, ${status.scaledObjects.length} ScaledObject(s)`,
  );

  // 3. the card renders on the entity page, in the app the backend serves
  const { chromium } = await import('playwright-core');
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!fs.existsSync(executablePath))
    fail(
      `no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH): the card was not checked`,
    );
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage();
  try {
    await page.goto(`${base}/catalog/default/component/orders-worker`);
    await page
      .getByRole('button', { name: 'Enter' })
      .click({ timeout: 60_000 });
    const statusCall = page.waitForResponse(
      r => r.url().includes('/api/keda/status'),
      { timeout: 60_000 },
    );
    const card = page.locator('[class*="MuiCardHeader-title"]', {
      hasText: /^Autoscaling$/,
    });
    await card.first().waitFor({ state: 'visible', timeout: 60_000 });
    const res = await statusCall;
    if (res.status() !== 200)
      throw new Error(
        `the card's /api/keda/status call answered ${res.status()}`,
      );
    if (process.env.INSTALL_SCREENSHOT)
      await page.screenshot({
        path: process.env.INSTALL_SCREENSHOT,
        fullPage: true,
      });
    say(
      'the entity page shows the card "Autoscaling" (its /api/keda/status call answered 200)',
    );
  } catch (e) {
    const shot = process.env.INSTALL_SCREENSHOT;
    if (shot)
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    await browser.close();
    fail(
      `the card did not render: ${e.message.split('\n')[0]}${
        shot ? ` (screenshot ${shot})` : ''
      }`,
    );
  }
  await browser.close();
}

const [command, ...args] = process.argv.slice(2);
const commands = {
  'check-pack': () => checkPack(path.resolve(args[0])),
  prepare: () => prepare(path.resolve(args[0]), path.resolve(args[1])),
  readme: () => readme(path.resolve(args[0]), path.resolve(args[1])),
  config: () => config(path.resolve(args[0]), path.resolve(args[1])),
  verify: () => verify(path.resolve(args[0]), args[1]),
};
if (!commands[command])
  fail(`unknown command ${command}: ${Object.keys(commands).join(', ')}`);
await commands[command]();
