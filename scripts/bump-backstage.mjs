#!/usr/bin/env node
// Moves every @backstage/* dependency in every workspace package.json to
// `^<npm latest>`, so the whole repository stays on one consistent Backstage
// release (a mixed set crashed at start: see docs/toolchain.md).
// Usage: node scripts/bump-backstage.mjs   (then run the install again)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = ['package.json'];
for (const dir of ['packages', 'plugins']) {
  for (const name of readdirSync(join(root, dir))) {
    const file = join(dir, name, 'package.json');
    if (existsSync(join(root, file))) files.push(file);
  }
}

const latest = new Map();
function latestOf(name) {
  if (!latest.has(name)) {
    const v = execFileSync('npm', ['view', `${name}@latest`, 'version'], {
      encoding: 'utf8',
    }).trim();
    latest.set(name, v);
  }
  return latest.get(name);
}

for (const file of files) {
  const path = join(root, file);
  const pkg = JSON.parse(readFileSync(path, 'utf8'));
  let changed = false;
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    for (const name of Object.keys(pkg[field] ?? {})) {
      if (!name.startsWith('@backstage/')) continue;
      const want = `^${latestOf(name)}`;
      if (pkg[field][name] !== want) {
        console.log(`${file}: ${name} ${pkg[field][name]} -> ${want}`);
        pkg[field][name] = want;
        changed = true;
      }
    }
  }
  if (changed) writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`);
}
