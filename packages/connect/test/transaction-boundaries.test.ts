/**
 * KIP-618's connector-defined transaction boundaries: a source connector whose tasks commit and
 * abort through their TransactionContext, on one distributed worker with exactly-once source
 * support; a read_committed consumer sees exactly the committed records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '@sluice/broker';
import { Consumer } from '@sluice/client';
import { DistributedWorker } from '../src/index.js';
import { rest, waitFor } from './helpers.js';

const CONNECT_PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Emits "r0".."r{count-1}", one poll per step of the script: each line of `script` is a batch of
// record names with an optional ending (`commit@rN` / `abort@rN` after a record, `commit` /
// `abort` after the batch). canDefineTransactionBoundaries is SUPPORTED unless `boundaries=off`.
const PLUGIN = `
import { ConfigDef, SourceConnector, SourceTask, sourceRecord, Schemas } from '@sluice/connect';
const def = new ConfigDef()
  .define({ name: 'topic', type: 'STRING', importance: 'HIGH', documentation: 'Where to write' })
  .define({ name: 'script', type: 'STRING', importance: 'HIGH', documentation: 'Batches and their endings, ; separated' })
  .define({ name: 'boundaries', type: 'STRING', defaultValue: 'on', importance: 'LOW', documentation: 'off: cannot define boundaries' });
export class ScriptedTask extends SourceTask {
  version() { return '1.0.0'; }
  start(props) {
    this.props = def.parse(props);
    this.steps = this.props.script.split(';').map((s) => s.trim().split(/\\s+/));
    const o = this.context.offsetStorageReader.offset({ script: 'main' });
    this.step = o ? o.step : 0;
  }
  async poll() {
    if (this.step >= this.steps.length) { await new Promise((r) => setTimeout(r, 100)); return null; }
    const step = this.step++;
    const txn = this.context.transactionContext();
    const records = [];
    for (const word of this.steps[step]) {
      const [end, at] = word.split('@');
      if (end === 'commit' || end === 'abort') {
        const target = at ? records.find((r) => r.value === at) : undefined;
        if (end === 'commit') txn.commitTransaction(target);
        else txn.abortTransaction(target);
        continue;
      }
      records.push(sourceRecord({ topic: this.props.topic, valueSchema: Schemas.STRING, value: word, sourcePartition: { script: 'main' }, sourceOffset: { step: step + 1 } }));
    }
    return records;
  }
  stop() {}
}
export class ScriptedSourceConnector extends SourceConnector {
  version() { return '1.0.0'; }
  config() { return def; }
  start(props) { this.props = props; }
  taskClass() { return ScriptedTask; }
  taskConfigs() { return [{ ...this.props }]; }
  stop() {}
  canDefineTransactionBoundaries(props) { return props.boundaries === 'off' ? 'UNSUPPORTED' : 'SUPPORTED'; }
}
`;

test("transaction.boundary=connector: the task's commits and aborts (after a record, after a batch) decide what a read_committed consumer sees", { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-connect-boundaries-'));
  const broker = await startBroker({ dataDir: join(dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null, 'offsets.topic.replication.factor': 1, 'transaction.state.log.replication.factor': 1, 'transaction.state.log.min.isr': 1, 'group.initial.rebalance.delay.ms': 0 });
  const bootstrap = `127.0.0.1:${broker.port}`;
  const pluginRoot = join(dir, 'plugins');
  const pkg = join(pluginRoot, 'scripted-connector');
  await mkdir(join(pkg, 'node_modules', '@sluice'), { recursive: true });
  await symlink(CONNECT_PACKAGE, join(pkg, 'node_modules', '@sluice', 'connect'));
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'scripted-connector', type: 'module', main: 'index.js' }));
  await writeFile(join(pkg, 'index.js'), PLUGIN);
  const worker = await DistributedWorker.start({
    workerProps: {
      'bootstrap.servers': bootstrap,
      'group.id': 'boundaries',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'config.storage.topic': 'b-configs',
      'offset.storage.topic': 'b-offsets',
      'status.storage.topic': 'b-status',
      'config.storage.replication.factor': '1',
      'offset.storage.replication.factor': '1',
      'status.storage.replication.factor': '1',
      'exactly.once.source.support': 'enabled',
      'offset.flush.interval.ms': '200',
      'plugin.path': pluginRoot,
      listeners: 'http://127.0.0.1:0',
    },
    log: () => undefined,
  });
  t.after(async () => {
    await worker.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const validate = async (boundaries: string) =>
    (await rest(worker.url, 'PUT', '/connector-plugins/ScriptedSourceConnector/config/validate', { 'connector.class': 'ScriptedSourceConnector', name: 'v', topic: 't', script: 'a', boundaries, 'transaction.boundary': 'connector' })).body as { error_count: number; configs: Array<{ value: { name: string; errors: string[] } }> };
  assert.equal((await validate('on')).error_count, 0);
  const refused = await validate('off');
  assert.equal(refused.error_count, 1);
  assert.match(refused.configs.find((c) => c.value.name === 'transaction.boundary')!.value.errors[0], /does not support connector-defined transaction boundaries/);

  const script = [
    'r0 r1 r2 commit@r1', // r0 r1 committed; r2 opens the next transaction
    'r3 r4 abort@r4', // r2..r4 aborted
    'r5 r6', // no ending: the transaction stays open across polls
    'r7 commit', // r5..r7 committed after this batch
    'r8 abort', // r8 aborted after its batch
    'r9 r10 commit@r9 abort', // r9 committed; r10 aborted with the batch
    'r11 commit', // the last one, so the consumer knows the end
  ].join(';');
  for (let i = 0; ; i++) {
    const created = await rest(worker.url, 'POST', '/connectors', { name: 'scripted', config: { 'connector.class': 'ScriptedSourceConnector', topic: 'scripted-out', script, 'transaction.boundary': 'connector' } });
    if (created.status === 201) break;
    // 409 until the worker has joined its group and leads it.
    assert.ok(created.status === 409 && i < 100, JSON.stringify(created.body));
    await new Promise((r) => setTimeout(r, 100));
  }

  const consumer = new Consumer({ brokers: [bootstrap], isolationLevel: 'read_committed' });
  t.after(() => consumer.close());
  const seen: string[] = [];
  await waitFor(async () => {
    try {
      await consumer.assign([{ topic: 'scripted-out', partition: 0 }]);
      await consumer.seekToBeginning();
      return true;
    } catch {
      return false;
    }
  }, 'the output topic');
  const deadline = Date.now() + 60_000;
  while (!seen.includes('r11') && Date.now() < deadline) {
    const batch = await Promise.race([consumer.poll(), new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
    for (const r of batch?.records ?? []) seen.push(r.value!.toString());
  }
  assert.deepEqual(seen, ['r0', 'r1', 'r5', 'r6', 'r7', 'r9', 'r11']);
});
