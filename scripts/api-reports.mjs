#!/usr/bin/env node
// The API reports of the plugins/* packages: report.api.md (and
// report-<entry>.api.md for each further export, e.g. report-alpha.api.md)
// beside each package.json, made by @backstage/repo-tools (API Extractor)
// from the packages' type declarations.
//   node scripts/api-reports.mjs        regenerate them (yarn build:api-reports)
//   node scripts/api-reports.mjs --ci   check them: fails when a package's
//                                       public API differs from its report
//                                       (yarn build:api-reports:check)
// The declarations are compiled from the packages' entry points only (not
// every source and test file) into dist-types/, where repo-tools reads them.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const ci = process.argv.includes('--ci');
// further options go to `backstage-repo-tools api-reports` as they are
const passThrough = process.argv.slice(2).filter(arg => arg !== '--ci');

const packageDirs = readdirSync(join(root, 'plugins'))
  .map(name => `plugins/${name}`)
  .filter(dir => existsSync(join(root, dir, 'package.json')));

// Every TypeScript entry point: the values of `exports`, or `types`/`main`.
const entryPoints = packageDirs.flatMap(dir => {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const targets = pkg.exports
    ? Object.values(pkg.exports).filter(t => typeof t === 'string')
    : [pkg.types ?? pkg.main];
  return targets
    .filter(t => /\.tsx?$/.test(t) && !t.endsWith('.d.ts'))
    .map(t => join(root, dir, t));
});

const cacheDir = join(root, 'node_modules', '.cache', 'api-reports');
mkdirSync(cacheDir, { recursive: true });
const tsconfig = join(cacheDir, 'tsconfig.json');
writeFileSync(
  tsconfig,
  JSON.stringify(
    {
      extends: join(root, 'tsconfig.json'),
      files: [
        require.resolve('@backstage/cli/asset-types/asset-types.d.ts'),
        ...entryPoints,
      ],
      include: [],
      compilerOptions: {
        rootDir: root,
        outDir: join(root, 'dist-types'),
        incremental: false,
      },
    },
    null,
    2,
  ),
);

function run(label, args) {
  const started = Date.now();
  console.log(`# ${label}`);
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
  });
  console.log(`# ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result.status === 0;
}

if (
  !run('type declarations of the entry points (tsc)', [
    require.resolve('typescript/bin/tsc'),
    '--project',
    tsconfig,
  ])
) {
  console.error('tsc failed: the API reports need the declarations to build');
  process.exit(1);
}

const ok = run(ci ? 'checking the API reports' : 'API reports', [
  join(
    dirname(require.resolve('@backstage/repo-tools/package.json')),
    'bin',
    'backstage-repo-tools',
  ),
  'api-reports',
  ...(ci ? ['--ci'] : []),
  // as Backstage's own repository: the workspace packages' types are their
  // sources (`types: src/index.ts`), and undocumented members are not warned
  '--omit-messages',
  'ae-wrong-input-file-type,ae-undocumented',
  '--validate-release-tags',
  ...passThrough,
  ...packageDirs,
]);
if (!ok) {
  console.error(
    ci
      ? 'An API report differs from its package: run `yarn build:api-reports`, review the change to report*.api.md and commit it.'
      : 'The API reports could not be generated (see above).',
  );
  process.exit(1);
}
