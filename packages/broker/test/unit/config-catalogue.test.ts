/** The README's configuration table tells truly which configs Sluice acts on; the generated catalogues are current. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { topicConfigDefinitions } from '@sluice/storage';
import { brokerConfigDefinitions } from '../../src/config/definitions.js';

// dist/test/unit → the repository root.
const readme = new URL('../../../../../README.md', import.meta.url);

/** `a.{b,c}.*` → a regex: `*` any run of characters, `{x,y}` one of the alternatives. */
function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') out += '.*';
    else if (ch === '{') {
      const end = glob.indexOf('}', i);
      out += `(${glob.slice(i + 1, end).split(',').map((s) => s.replace(/[.]/g, '\\.')).join('|')})`;
      i = end;
    } else out += ch.replace(/[.+?^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

interface Row {
  area: string;
  acted: RegExp[];
  stored: RegExp[];
}

function rows(): Row[] {
  const text = readFileSync(readme, 'utf8');
  const section = text.slice(text.indexOf('## Configuration'), text.indexOf('\n## ', text.indexOf('## Configuration') + 1));
  const patterns = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((p) => /^[a-z*{]/.test(p) && p !== 'false').map(globToRegExp);
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| area') && !l.startsWith('| ---'))
    .map((l) => {
      const [area, acted, stored] = l.split('|').slice(1, -1).map((c) => c.trim());
      return { area, acted: patterns(acted), stored: patterns(stored) };
    });
}

test('README configuration table: every broker config is in the right column', { skip: !existsSync(readme) }, () => {
  const table = rows().filter((r) => !r.area.startsWith('topic configs'));
  const matches = (name: string, column: 'acted' | 'stored') => table.some((r) => r[column].some((re) => re.test(name)));
  for (const def of brokerConfigDefinitions) {
    const [should, shouldNot] = def.actedOn ? (['acted', 'stored'] as const) : (['stored', 'acted'] as const);
    assert.ok(matches(def.name, should), `${def.name} should be listed as ${should}`);
    assert.ok(!matches(def.name, shouldNot), `${def.name} should not be listed as ${shouldNot}`);
  }
});

test('README configuration table: the stored-only topic configs are listed, and only they', { skip: !existsSync(readme) }, () => {
  const row = rows().find((r) => r.area.startsWith('topic configs'))!;
  for (const def of topicConfigDefinitions) {
    assert.equal(row.stored.some((re) => re.test(def.name)), def.storedOnly === true, def.name);
  }
});

// The generated catalogues match Kafka's docs, when the reference docs are beside the repository.
const generator = new URL('../../../../../scripts/generate-config-catalogue.mjs', import.meta.url);
const docs = new URL('../../../../../../shared/reference/kafka-docs/generated/kafka_config.html', import.meta.url);
test('the generated config catalogues are up to date with Kafka docs', { skip: !existsSync(docs) || !existsSync(generator) }, () => {
  const run = spawnSync(process.execPath, [generator.pathname, '--check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});
