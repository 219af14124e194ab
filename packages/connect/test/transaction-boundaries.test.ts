/**
 * KIP-618 on a distributed worker with exactly-once source support: connector-defined transaction
 * boundaries (a source connector whose tasks commit and abort through their TransactionContext; a
 * read_committed consumer sees exactly the committed records), the `exactly.once.support=required`
 * preflight check, and the leader fencing the producers of tasks a connector no longer has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '@sluice/broker';
import { Consumer, Producer } from '@sluice/client';
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
  taskConfigs(max) { return Array.from({ length: max }, () => ({ ...this.props })); }
  stop() {}
  canDefineTransactionBoundaries(props) { return props.boundaries === 'off' ? 'UNSUPPORTED' : 'SUPPORTED'; }
  exactlyOnceSupport(props) { return props.boundaries === 'off' ? null : 'SUPPORTED'; }
}
`;

async function startWorker(t: { after(fn: () => Promise<void>): void }, eos = true) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-connect-eos-'));
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
      'exactly.once.source.support': eos ? 'enabled' : 'disabled',
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
  /** PUT a connector's config, retrying while the worker has not yet joined its group (409). */
  const put = async (name: string, config: Record<string, string>) => {
    for (let i = 0; ; i++) {
      const r = await rest(worker.url, 'PUT', `/connectors/${name}/config`, config);
      if (r.status === 200 || r.status === 201) return r;
      assert.ok(r.status === 409 && i < 100, JSON.stringify(r.body));
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  return { bootstrap, worker, put };
}

test("transaction.boundary=connector: the task's commits and aborts (after a record, after a batch) decide what a read_committed consumer sees", { timeout: 120_000 }, async (t) => {
  const { bootstrap, worker, put } = await startWorker(t);

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
  await put('scripted', { 'connector.class': 'ScriptedSourceConnector', topic: 'scripted-out', script, 'transaction.boundary': 'connector' });

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

test('exactly.once.support=required is checked against the connector and the worker', { timeout: 120_000 }, async (t) => {
  const { worker } = await startWorker(t);
  const validate = async (config: Record<string, string>) =>
    (await rest(worker.url, 'PUT', '/connector-plugins/ScriptedSourceConnector/config/validate', { 'connector.class': 'ScriptedSourceConnector', name: 'v', topic: 't', script: 'a', ...config })).body as { error_count: number; configs: Array<{ value: { name: string; errors: string[] } }> };
  const errorsOf = (body: Awaited<ReturnType<typeof validate>>) => body.configs.find((c) => c.value.name === 'exactly.once.support')!.value.errors;
  assert.equal((await validate({ 'exactly.once.support': 'required' })).error_count, 0, 'the connector says SUPPORTED');
  assert.match(errorsOf(await validate({ 'exactly.once.support': 'required', boundaries: 'off' }))[0], /does not implement the API required for preflight validation of exactly-once source support/);
  assert.match(errorsOf(await validate({ 'exactly.once.support': 'always' }))[0], /must be one of \(case insensitive\): REQUESTED, REQUIRED/);
  const fileSource = (await rest(worker.url, 'PUT', '/connector-plugins/FileStreamSource/config/validate', { 'connector.class': 'FileStreamSource', name: 'f', topic: 't', 'exactly.once.support': 'required' })).body as { error_count: number };
  assert.equal(fileSource.error_count, 1, 'FileStreamSource reading standard input cannot be exactly once');
});

test('exactly.once.support=required on a worker without exactly-once source support is refused', { timeout: 120_000 }, async (t) => {
  const { worker } = await startWorker(t, false);
  const r = (await rest(worker.url, 'PUT', '/connector-plugins/ScriptedSourceConnector/config/validate', { 'connector.class': 'ScriptedSourceConnector', name: 'v', topic: 't', script: 'a', 'exactly.once.support': 'required', 'transaction.boundary': 'connector', boundaries: 'off' })).body as { error_count: number; configs: Array<{ value: { name: string; errors: string[] } }> };
  assert.deepEqual(r.configs.find((c) => c.value.name === 'exactly.once.support')!.value.errors, ['This worker does not have exactly-once source support enabled.']);
  assert.equal(r.error_count, 1, 'the transaction boundary is not checked where there are no transactions');
});

test('when a connector loses tasks, the leader fences the producers of the removed tasks (a zombie commits nothing more)', { timeout: 120_000 }, async (t) => {
  const { bootstrap, worker, put } = await startWorker(t);
  const config = { 'connector.class': 'ScriptedSourceConnector', topic: 'fenced-out', script: 'a;b;c', 'tasks.max': '3' };
  await put('shrinking', config);
  await waitFor(async () => {
    const status = (await rest(worker.url, 'GET', '/connectors/shrinking/status')).body as { tasks: Array<{ state: string }> };
    return status.tasks.length === 3 && status.tasks.every((task) => task.state === 'RUNNING');
  }, 'three running tasks');
  // A task 2 of this connector still running somewhere cut off from the group: its transactional id.
  const zombie = new Producer({ brokers: [bootstrap], transactionalId: 'boundaries-shrinking-2' });
  t.after(() => zombie.close());
  await zombie.connect();
  await zombie.initTransactions();
  zombie.beginTransaction();
  await zombie.send({ topic: 'fenced-out', value: 'zombie write' });
  await put('shrinking', { ...config, 'tasks.max': '1' });
  await waitFor(async () => {
    const configs = await readAll(bootstrap, 'b-configs');
    return configs.get('task-count-record-shrinking') === '{"task-count":1}';
  }, 'the new task count recorded after fencing');
  await assert.rejects(zombie.commitTransaction(), /fenced|epoch/i, 'the zombie\'s transaction cannot commit');
  const consumer = new Consumer({ brokers: [bootstrap], isolationLevel: 'read_committed' });
  t.after(() => consumer.close());
  await consumer.assign([{ topic: 'fenced-out', partition: 0 }]);
  await consumer.seekToBeginning();
  const seen: string[] = [];
  const deadline = Date.now() + 5000;
  // One poll at a time: a poll outlived by the timeout is awaited again, not abandoned.
  let pending = consumer.poll();
  while (Date.now() < deadline) {
    const batch = await Promise.race([pending, new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]);
    if (batch === undefined) continue;
    for (const r of batch?.records ?? []) seen.push(r.value!.toString());
    pending = consumer.poll();
  }
  assert.ok(!seen.includes('zombie write'), `the zombie's record is never read_committed: ${seen.join(',')}`);
});

/** The latest value of every key of a compacted topic's partition 0. */
async function readAll(bootstrap: string, topic: string): Promise<Map<string, string | null>> {
  const consumer = new Consumer({ brokers: [bootstrap] });
  try {
    await consumer.assign([{ topic, partition: 0 }]);
    await consumer.seekToBeginning();
    const out = new Map<string, string | null>();
    for (;;) {
      const batch = await Promise.race([consumer.poll(), new Promise<null>((r) => setTimeout(() => r(null), 700))]);
      if (!batch) return out;
      for (const r of batch.records) out.set(r.key!.toString(), r.value?.toString() ?? null);
    }
  } finally {
    await consumer.close();
  }
}
