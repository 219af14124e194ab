#!/usr/bin/env node
// The installed `sluice` command. It lives outside dist/ so that npm can link it at install time,
// before the TypeScript build has produced dist/src/main.js.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('sluice: not built yet; run `npm run build` (or `npm install`, which builds) in the repository first');
  process.exit(1);
}
await import(main.href);
