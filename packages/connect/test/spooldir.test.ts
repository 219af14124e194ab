/**
 * The spooling-directory CSV/JSON source through the REST API: header row and schema inference,
 * finished/error directories, and a restart mid-file that neither skips nor re-reads a record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Consumer } from '@sluice/client';
import { rest, startEnv, waitFor } from './helpers.js';

async function drain(bootstrap: string, topic: string, expected: number): Promise<Array<{ key: string | null; value: string }>> {
  const consumer = new Consumer({ brokers: [bootstrap] });
  await consumer.assign([{ topic, partition: 0 }]);
  await consumer.seekToBeginning();
  const out: Array<{ key: string | null; value: string }> = [];
  try {
    const deadline = Date.now() + 30_000;
    while (out.length < expected && Date.now() < deadline) {
      const batch = await Promise.race([consumer.poll(), new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
      for (const r of batch?.records ?? []) out.push({ key: r.key?.toString() ?? null, value: r.value!.toString() });
    }
  } finally {
    await consumer.close();
  }
  return out;
}

test('spooldir CSV source: header row, inferred schema, finished and error directories, restart mid-file', { timeout: 120_000 }, async (t) => {
  const env = await startEnv(t);
  const dirs = { input: join(env.dir, 'in'), finished: join(env.dir, 'done'), error: join(env.dir, 'err') };
  for (const d of Object.values(dirs)) await mkdir(d);
  await env.admin.createTopics([{ topic: 'csv-topic', numPartitions: 1, replicationFactor: 1 }]);
  const rows = Array.from({ length: 3000 }, (_, i) => `${i},user ${i},${(i * 1.5).toFixed(1)},${i % 2 === 0}`);
  await writeFile(join(dirs.input, 'a-users.csv'), `id,name,score,active\n${rows.join('\n')}\n`);
  await writeFile(join(dirs.input, 'b-broken.csv'), 'id,name\n1,"unterminated\n');
  await writeFile(join(dirs.input, 'ignored.txt'), 'not matching the pattern\n');

  const created = await rest(env.url, 'POST', '/connectors', {
    name: 'csv-source',
    config: {
      'connector.class': 'com.github.jcustenborder.kafka.connect.spooldir.SpoolDirCsvSourceConnector',
      'tasks.max': '1',
      'input.path': dirs.input,
      'finished.path': dirs.finished,
      'error.path': dirs.error,
      'input.file.pattern': '.*\\.csv',
      'halt.on.error': false,
      'csv.first.row.as.header': 'true',
      'schema.generation.enabled': 'true',
      'schema.generation.key.fields': 'id',
      'batch.size': '100',
      topic: 'csv-topic',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'false',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  // Restart the task while it is part-way through the file.
  await waitFor(async () => ((await rest(env.url, 'GET', '/connectors/csv-source/offsets')).body as { offsets: unknown[] }).offsets.length > 0, 'a first offset');
  assert.equal((await rest(env.url, 'POST', '/connectors/csv-source/tasks/0/restart')).status, 204);

  await waitFor(async () => (await readdir(dirs.finished)).includes('a-users.csv'), 'the CSV file to move to finished.path');
  assert.deepEqual(await readdir(dirs.error), ['b-broken.csv'], 'the unparseable file goes to error.path (halt.on.error=false)');
  assert.deepEqual((await readdir(dirs.input)).sort(), ['ignored.txt']);

  const got = await drain(env.bootstrap, 'csv-topic', rows.length);
  assert.equal(got.length, rows.length, 'a restart mid-file neither skips nor re-reads');
  const first = JSON.parse(got[1].value) as { schema: { fields: Array<{ field: string; type: string }> }; payload: Record<string, unknown> };
  assert.deepEqual(first.schema.fields.map((f) => [f.field, f.type]), [['id', 'int64'], ['name', 'string'], ['score', 'float64'], ['active', 'boolean']]);
  assert.deepEqual(first.payload, { id: 1, name: 'user 1', score: 1.5, active: false });
  assert.equal(got[1].key, '{"id":1}');
  assert.deepEqual(got.map((r) => (JSON.parse(r.value) as { payload: { id: number } }).payload.id), rows.map((_, i) => i));
  assert.deepEqual((await rest(env.url, 'GET', '/connectors/csv-source/offsets')).body, { offsets: [{ partition: { fileName: 'a-users.csv' }, offset: { offset: 3000 } }] });

  // A new file after a full connector restart: only the new rows arrive.
  assert.equal((await rest(env.url, 'POST', '/connectors/csv-source/restart?includeTasks=true')).status, 202);
  await writeFile(join(dirs.input, 'c-more.csv'), 'id,name,score,active\n5000,late,1.0,true\n');
  await waitFor(async () => (await readdir(dirs.finished)).includes('c-more.csv'), 'the second CSV file');
  const all = await drain(env.bootstrap, 'csv-topic', rows.length + 1);
  assert.equal(all.length, rows.length + 1);
  assert.equal((JSON.parse(all.at(-1)!.value) as { payload: { name: string } }).payload.name, 'late');

  // Validation: directories must exist, the pattern must be given.
  const bad = await rest(env.url, 'PUT', '/connector-plugins/SpoolDirCsvSourceConnector/config/validate', { 'input.path': join(env.dir, 'missing'), topic: 't' });
  const errs = Object.fromEntries((bad.body as { configs: Array<{ value: { name: string; errors: string[] } }> }).configs.map((c) => [c.value.name, c.value.errors]));
  assert.match(errs['input.path'][0], /must be an existing, writable directory/);
  assert.deepEqual(errs['input.file.pattern'], ['Missing required configuration "input.file.pattern" which has no default value.']);
});

test('spooldir JSON-lines source (schemaless); halt.on.error stops the task', { timeout: 60_000 }, async (t) => {
  const env = await startEnv(t);
  const base = (sub: string) => join(env.dir, sub);
  for (const d of ['jin', 'jdone', 'jerr']) await mkdir(base(d));
  await env.admin.createTopics([{ topic: 'json-topic', numPartitions: 1, replicationFactor: 1 }]);
  await writeFile(join(base('jin'), '1.json'), '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n');
  const created = await rest(env.url, 'POST', '/connectors', {
    name: 'json-source',
    config: { 'connector.class': 'SpoolDirJsonSourceConnector', 'input.path': base('jin'), 'finished.path': base('jdone'), 'error.path': base('jerr'), 'input.file.pattern': '.*\\.json', topic: 'json-topic', 'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'false' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const got = await drain(env.bootstrap, 'json-topic', 2);
  assert.deepEqual(got.map((r) => r.value), ['{"a":1,"b":"x"}', '{"a":2,"b":"y"}']);

  await writeFile(join(base('jin'), '2.json'), 'not json\n');
  await waitFor(async () => ((await rest(env.url, 'GET', '/connectors/json-source/status')).body as { tasks: Array<{ state: string }> }).tasks[0].state === 'FAILED', 'halt.on.error=true (the default) to fail the task');
  const status = (await rest(env.url, 'GET', '/connectors/json-source/status')).body as { tasks: Array<{ trace: string }> };
  assert.match(status.tasks[0].trace, /2\.json: line 1 is not JSON/);
  assert.deepEqual(await readdir(base('jerr')), [], 'halting leaves the file where it is');
});
