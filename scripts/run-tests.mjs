#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/test/**/*.test.js) with node's test runner.
// Node 20's --test takes no globs, so the files are listed here. Extra args are passed through,
// e.g. `node scripts/run-tests.mjs --test-name-pattern=crc` or a package name to narrow the run.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('-'));
const passthrough = args.filter((a) => a.startsWith('-'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  if (only.length && !only.includes(pkg)) continue;
  const dir = join(root, 'packages', pkg, 'dist', 'test');
  if (existsSync(dir)) walk(dir, files);
}
if (files.length === 0) {
  console.error('no compiled test files found: run `npm run build` first');
  process.exit(1);
}
const concurrency = process.env.SLUICE_TEST_CONCURRENCY ?? '2';
// --test-force-exit: a test that fails before closing its clients must not keep its file's process
// (and so the whole run) alive; --test-timeout bounds any single test that forgot its own timeout.
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-force-exit', '--test-timeout=300000', ...passthrough, ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
