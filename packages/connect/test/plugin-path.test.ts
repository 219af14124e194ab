/**
 * A TypeScript/JavaScript connector package under `plugin.path`, and the notes' own spooldir
 * request (SpoolDirLineDelimitedSourceConnector with tasks.max=10 and a boolean in the JSON).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer } from '@sluice/client';
import { rest, startEnv, waitFor } from './helpers.js';

const CONNECT_PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const PLUGIN = `
import { ConfigDef, SourceConnector, SourceTask, sourceRecord, Schemas } from '@sluice/connect';
const def = new ConfigDef()
  .define({ name: 'topic', type: 'STRING', importance: 'HIGH', documentation: 'Where to write' })
  .define({ name: 'count', type: 'INT', defaultValue: 10, importance: 'LOW', documentation: 'How many records' });
export class CounterTask extends SourceTask {
  version() { return '1.0.0'; }
  start(props) { this.props = def.parse(props); const o = this.context.offsetStorageReader.offset({ counter: 'main' }); this.next = o ? o.n : 0; }
  async poll() {
    if (this.next >= this.props.count) { await new Promise((r) => setTimeout(r, 100)); return null; }
    const n = this.next++;
    return [sourceRecord({ topic: this.props.topic, valueSchema: Schemas.STRING, value: 'count ' + n, sourcePartition: { counter: 'main' }, sourceOffset: { n: n + 1 } })];
  }
  stop() {}
}
export class CounterSourceConnector extends SourceConnector {
  version() { return '1.0.0'; }
  config() { return def; }
  start(props) { def.parse(props); this.props = props; }
  taskClass() { return CounterTask; }
  taskConfigs() { return [{ ...this.props }]; }
  stop() {}
}
`;

async function readTopic(bootstrap: string, topic: string, count: number): Promise<string[]> {
  const consumer = new Consumer({ brokers: [bootstrap] });
  await consumer.assign([{ topic, partition: 0 }]);
  await consumer.seekToBeginning();
  const out: string[] = [];
  try {
    const deadline = Date.now() + 30_000;
    while (out.length < count && Date.now() < deadline) {
      const batch = await Promise.race([consumer.poll(), new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
      for (const r of batch?.records ?? []) out.push(r.value!.toString());
    }
  } finally {
    await consumer.close();
  }
  return out;
}

test('a connector package on plugin.path is listed, validated and run', { timeout: 60_000 }, async (t) => {
  const pluginRoot = join(CONNECT_PACKAGE, 'dist', 'test-plugins-' + process.pid);
  const pkg = join(pluginRoot, 'counter-connector');
  await mkdir(join(pkg, 'node_modules', '@sluice'), { recursive: true });
  await symlink(CONNECT_PACKAGE, join(pkg, 'node_modules', '@sluice', 'connect'));
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'counter-connector', type: 'module', main: 'index.js' }));
  await writeFile(join(pkg, 'index.js'), PLUGIN);
  const env = await startEnv(t, { 'plugin.path': pluginRoot });
  t.after(async () => {
    const { rm } = await import('node:fs/promises');
    await rm(pluginRoot, { recursive: true, force: true });
  });
  await env.admin.createTopics([{ topic: 'counts', numPartitions: 1, replicationFactor: 1 }]);
  const plugins = (await rest(env.url, 'GET', '/connector-plugins')).body as Array<{ class: string; type: string; version: string }>;
  assert.deepEqual(plugins.find((p) => p.class === 'CounterSourceConnector'), { class: 'CounterSourceConnector', type: 'source', version: '1.0.0' });
  const keys = (await rest(env.url, 'GET', '/connector-plugins/CounterSource/config')).body as Array<{ name: string; required: boolean; default_value: string | null }>;
  assert.deepEqual(keys.map((k) => [k.name, k.required, k.default_value]), [['topic', true, null], ['count', false, '10']]);
  const invalid = await rest(env.url, 'POST', '/connectors', { name: 'c', config: { 'connector.class': 'CounterSource', count: 'many', topic: 'counts' } });
  assert.equal(invalid.status, 400);
  assert.match((invalid.body as { message: string }).message, /count: Invalid value many for configuration count: Not a number of type INT/);
  assert.equal((await rest(env.url, 'POST', '/connectors', { name: 'c', config: { 'connector.class': 'CounterSource', count: 25, topic: 'counts' } })).status, 201);
  assert.deepEqual(await readTopic(env.bootstrap, 'counts', 25), Array.from({ length: 25 }, (_, i) => `count ${i}`));
});

test("the notes' spooldir request: SpoolDirLineDelimitedSourceConnector, tasks.max=10, \"halt.on.error\": false", { timeout: 60_000 }, async (t) => {
  const env = await startEnv(t);
  const dirs = { input: join(env.dir, 'input'), finished: join(env.dir, 'finished'), error: join(env.dir, 'error') };
  for (const d of Object.values(dirs)) await mkdir(d);
  await env.admin.createTopics([{ topic: 'file-topic', numPartitions: 1, replicationFactor: 1 }]);
  await writeFile(join(dirs.input, 'orders.txt'), 'order 1\norder 2\norder 3\n');
  const body = `{
    "name": "file-source-connector-1",
    "config": {
      "connector.class":"com.github.jcustenborder.kafka.connect.spooldir.SpoolDirLineDelimitedSourceConnector",
      "tasks.max": "10",
      "input.path": ${JSON.stringify(dirs.input)},
      "finished.path": ${JSON.stringify(dirs.finished)},
      "error.path": ${JSON.stringify(dirs.error)},
      "input.file.pattern":".*\\\\.txt",
      "halt.on.error": false,
      "cleanup.policy": "MOVE",
      "topic": "file-topic",
      "key.converter": "org.apache.kafka.connect.storage.StringConverter",
      "value.converter": "org.apache.kafka.connect.storage.StringConverter",
      "key.converter.schemas.enable": "false",
      "value.converter.schemas.enable": "false"
    }
  }`;
  const created = await rest(env.url, 'POST', '/connectors', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual((created.body as { tasks: unknown[] }).tasks, [{ connector: 'file-source-connector-1', task: 0 }], 'one directory, one task');
  assert.deepEqual(await readTopic(env.bootstrap, 'file-topic', 3), ['order 1', 'order 2', 'order 3']);
  await waitFor(async () => (await readdir(dirs.finished)).includes('orders.txt'), 'orders.txt to move to finished.path');
});
