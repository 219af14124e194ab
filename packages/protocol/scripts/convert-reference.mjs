#!/usr/bin/env node
// One-off converter: reads Apache Kafka's message schemas (JSON with // comments) at run time and
// writes our declarations (src/messages/declarations/*.ts). It keeps only the structure we need
// (names, types, versions, nullability, tags, defaults); no prose is carried over.
// Usage: node packages/protocol/scripts/convert-reference.mjs <schema dir>
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const schemaDir = process.argv[2] ?? new URL('../../../../shared/reference/kafka-message-schemas', import.meta.url).pathname;
const outDir = new URL('../src/messages/declarations/', import.meta.url).pathname;
const EXTRA = new Set(['RequestHeader', 'ResponseHeader', 'ConsumerProtocolSubscription', 'ConsumerProtocolAssignment']);

const stripComments = (s) => s.replace(/^\s*\/\/.*$/gm, '');
const camel = (s) => s[0].toLowerCase() + s.slice(1);
const kebab = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
const q = (s) => `'${s}'`;

function field(f, indent) {
  const parts = [`name: ${q(camel(f.name))}`, `type: ${q(f.type)}`, `versions: ${q(f.versions)}`];
  if (f.nullableVersions !== undefined) parts.push(`nullable: ${q(f.nullableVersions)}`);
  if (f.tag !== undefined) parts.push(`tag: ${f.tag}`, `taggedVersions: ${q(f.taggedVersions)}`);
  if (f.default !== undefined) parts.push(`default: ${q(String(f.default))}`);
  if (f.flexibleVersions !== undefined) parts.push(`flexible: ${q(f.flexibleVersions)}`);
  if (f.fields) parts.push(`fields: ${fields(f.fields, indent + '  ')}`);
  return `{ ${parts.join(', ')} }`;
}

function fields(list, indent) {
  if (list.length === 0) return '[]';
  return `[\n${list.map((f) => `${indent}  ${field(f, indent + '  ')},`).join('\n')}\n${indent}]`;
}

const schemas = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => JSON.parse(stripComments(readFileSync(join(schemaDir, file), 'utf8'))));
// Only requests name their listeners; a response belongs to the API of the same key.
const brokerApis = new Set(schemas.filter((s) => s.type === 'request' && (s.listeners ?? []).includes('broker')).map((s) => s.apiKey));
const byApi = new Map();
for (const s of schemas) {
  if (!(s.apiKey !== undefined && brokerApis.has(s.apiKey)) && !EXTRA.has(s.name)) continue;
  const base = s.name.replace(/(Request|Response)$/, '');
  const lines = [
    `export const ${s.name}: MessageDecl = {`,
    `  name: ${q(s.name)},`,
    `  kind: ${q(s.type)},`,
  ];
  if (s.apiKey !== undefined) lines.push(`  apiKey: ${s.apiKey},`);
  lines.push(`  validVersions: ${q(s.validVersions)},`);
  if (s.latestVersionUnstable) lines.push('  latestVersionUnstable: true,');
  lines.push(`  flexibleVersions: ${q(s.flexibleVersions ?? 'none')},`);
  lines.push(`  fields: ${fields(s.fields, '  ')},`);
  if (s.commonStructs) {
    const cs = s.commonStructs.map((c) => `    { name: ${q(c.name)}, versions: ${q(c.versions)}, fields: ${fields(c.fields, '    ')} },`);
    lines.push(`  commonStructs: [\n${cs.join('\n')}\n  ],`);
  }
  lines.push('};');
  const key = s.type === 'header' || s.type === 'data' ? s.name : base;
  if (!byApi.has(key)) byApi.set(key, []);
  byApi.get(key).push({ name: s.name, text: lines.join('\n') });
}

const index = [];
for (const [key, decls] of [...byApi].sort()) {
  const file = kebab(key);
  const body = decls.map((d) => d.text).join('\n\n');
  writeFileSync(join(outDir, `${file}.ts`), `import type { MessageDecl } from './types.js';\n\n${body}\n`);
  index.push(`export { ${decls.map((d) => d.name).join(', ')} } from './${file}.js';`);
}
writeFileSync(join(outDir, 'index.ts'), `export * from './types.js';\n${index.join('\n')}\n`);
console.log(`wrote ${byApi.size} declaration files to ${outDir}`);
