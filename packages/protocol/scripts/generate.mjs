#!/usr/bin/env node
// Regenerates src/messages/generated/ from the declarations. Needs a build first (it runs the
// compiled generator): `npm run generate -w @sluice/protocol`.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const pkg = new URL('..', import.meta.url).pathname;
const { generateAll } = await import(join(pkg, 'dist/src/messages/codegen/generate.js'));
const { allDeclarations } = await import(join(pkg, 'dist/src/messages/declarations/all.js'));
const outDir = join(pkg, 'src/messages/generated');
mkdirSync(outDir, { recursive: true });
const files = generateAll(allDeclarations);
for (const f of readdirSync(outDir)) if (!files.has(f)) rmSync(join(outDir, f));
for (const [name, text] of files) writeFileSync(join(outDir, name), text);
console.log(`generated ${files.size} files in ${outDir}`);
