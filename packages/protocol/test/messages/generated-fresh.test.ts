import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAll } from '../../src/messages/codegen/generate.js';
import { allDeclarations } from '../../src/messages/declarations/all.js';
import { protocolDir } from './paths.js';

test('committed generated code is what the generator produces from the declarations', () => {
  const dir = join(protocolDir(), 'src', 'messages', 'generated');
  const expected = generateAll(allDeclarations);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.ts')).sort(), [...expected.keys()].sort(), 'same file set');
  const stale = [...expected].filter(([name, text]) => readFileSync(join(dir, name), 'utf8') !== text).map(([name]) => name);
  assert.deepEqual(stale, [], 'stale generated files: run `npm run generate -w @sluice/protocol`');
});
