#!/usr/bin/env node
// Runs every compiled benchmark (packages/*/dist/bench/*.bench.js) one after another, so that
// they do not compete for the machine's cores. `npm run bench -- protocol` narrows to one package.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
let failed = false;
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  if (only.length && !only.includes(pkg)) continue;
  const dir = join(root, 'packages', pkg, 'dist', 'bench');
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort()) {
    console.log(`\n=== ${pkg}/${file.replace(/\.js$/, '')} ===`);
    const r = spawnSync(process.execPath, ['--expose-gc', join(dir, file)], { stdio: 'inherit' });
    if (r.status !== 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
