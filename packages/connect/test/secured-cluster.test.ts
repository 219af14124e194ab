/**
 * Workers on a secured cluster, with Kafka Connect's client settings: the worker's own clients
 * (internal topics, group membership) take its top-level security.protocol/sasl.*; connectors'
 * producers take `producer.*`, their consumers `consumer.*` (neither inherits the top level);
 * admin clients take the top level then `admin.*`; a connector's `*.override.*` comes last, as
 * far as connector.client.config.override.policy allows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '@sluice/broker';
import { Admin, Consumer, Producer, securityFromProperties } from '@sluice/client';
import { DistributedWorker, StandaloneWorker, parseWorkerConfig } from '../src/index.js';
import { fileLines, rest, startEnv, waitFor } from './helpers.js';

const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule';
const jaas = (user: string, password: string) => `${PLAIN} required username="${user}" password="${password}";`;
/** Kafka client settings for SASL_PLAINTEXT/PLAIN as `user`, under `prefix`. */
const sasl = (prefix: string, user: string, password: string): Record<string, string> => ({
  [`${prefix}security.protocol`]: 'SASL_PLAINTEXT',
  [`${prefix}sasl.mechanism`]: 'PLAIN',
  [`${prefix}sasl.jaas.config`]: jaas(user, password),
});

/** A broker whose only listener clients are given is SASL_PLAINTEXT (PLAIN), with users worker, source, sink and sink2. */
async function startSecuredBroker(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-connect-secured-'));
  const broker = await startBroker({
    dataDir: join(dir, 'broker'),
    listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'PLAIN',
    'sasl.jaas.config': `${PLAIN} required user_worker="worker-secret" user_source="source-secret" user_sink="sink-secret" user_sink2="sink2-secret";`,
    logSink: null,
    'offsets.topic.replication.factor': 1,
    'group.initial.rebalance.delay.ms': 0,
  });
  const bootstrap = `127.0.0.1:${broker.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port}`;
  const admin = new Admin({ brokers: [bootstrap], ...securityFromProperties(sasl('', 'worker', 'worker-secret')) });
  t.after(async () => {
    await admin.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, bootstrap, admin };
}

test('a standalone worker on a SASL cluster: tasks authenticate with producer.*/consumer.*, admin work with admin.*, and a connector override with a wrong password fails only its task', { timeout: 120_000 }, async (t) => {
  const { dir, bootstrap, admin } = await startSecuredBroker(t);
  await admin.createTopics([{ topic: 'lines', numPartitions: 1, replicationFactor: 1 }]);
  const worker = await StandaloneWorker.start({
    workerProps: {
      'bootstrap.servers': bootstrap,
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'offset.storage.file.filename': join(dir, 'connect.offsets'),
      'offset.flush.interval.ms': '500',
      listeners: 'http://127.0.0.1:0',
      // The top level alone would not get in: only the prefixed settings do, which proves each client takes its own.
      ...sasl('', 'worker', 'wrong-password'),
      ...sasl('admin.', 'worker', 'worker-secret'),
      ...sasl('producer.', 'source', 'source-secret'),
      ...sasl('consumer.', 'sink', 'sink-secret'),
    },
    log: () => undefined,
  });
  t.after(() => worker.close());

  // GET / asks the cluster for its id through the admin client.
  const root = await rest(worker.url, 'GET', '/');
  assert.equal(root.status, 200, JSON.stringify(root.body));
  assert.equal(typeof (root.body as { kafka_cluster_id: unknown }).kafka_cluster_id, 'string');

  const input = join(dir, 'input.txt');
  const output = join(dir, 'output.txt');
  const lines = Array.from({ length: 200 }, (_, i) => `secured line ${i}`);
  await writeFile(input, lines.join('\n') + '\n');
  assert.equal((await rest(worker.url, 'POST', '/connectors', { name: 'source', config: { 'connector.class': 'FileStreamSource', file: input, topic: 'lines' } })).status, 201);
  // A sink whose consumer authenticates as another user through its own override.
  assert.equal((await rest(worker.url, 'POST', '/connectors', { name: 'sink', config: { 'connector.class': 'FileStreamSink', file: output, topics: 'lines', 'consumer.override.sasl.jaas.config': jaas('sink2', 'sink2-secret') } })).status, 201);
  await waitFor(async () => (await fileLines(output)).length >= lines.length, 'every line through the secured cluster');
  assert.deepEqual(await fileLines(output), lines);

  // A connector override with a bad password: its task fails with the broker's verdict; the others run on.
  const bad = await rest(worker.url, 'POST', '/connectors', { name: 'bad-source', config: { 'connector.class': 'FileStreamSource', file: input, topic: 'lines', 'producer.override.sasl.jaas.config': jaas('source', 'nope') } });
  assert.equal(bad.status, 201);
  let task: { state: string; trace?: string } = { state: '' };
  await waitFor(async () => {
    task = ((await rest(worker.url, 'GET', '/connectors/bad-source/status')).body as { tasks: Array<{ state: string; trace?: string }> }).tasks[0] ?? task;
    return task.state === 'FAILED';
  }, 'the task with the wrong password to fail');
  assert.match(task.trace ?? '', /authentication/i);
  const sourceStatus = (await rest(worker.url, 'GET', '/connectors/source/status')).body as { tasks: Array<{ state: string }> };
  assert.equal(sourceStatus.tasks[0].state, 'RUNNING');
});

test('connector.client.config.override.policy: All takes any override, Principal only who the clients are, None nothing; refused overrides are validation errors', { timeout: 60_000 }, async (t) => {
  const config = (overrides: Record<string, string>) => ({ name: 'c', 'connector.class': 'FileStreamSource', file: '/dev/null', topic: 't', ...overrides });
  const overrides = { 'producer.override.sasl.jaas.config': jaas('a', 'b'), 'producer.override.linger.ms': '20' };
  type Validation = { error_count: number; configs: Array<{ definition: unknown; value: { name: string; errors: string[] } }> };
  const errorsOf = (v: Validation) => Object.fromEntries(v.configs.filter((c) => c.value.errors.length).map((c) => [c.value.name, c.value.errors]));

  const all = await startEnv(t);
  const allowed = (await rest(all.url, 'PUT', '/connector-plugins/FileStreamSource/config/validate', config(overrides))).body as Validation;
  assert.equal(allowed.error_count, 0, JSON.stringify(errorsOf(allowed)));
  assert.ok(allowed.configs.some((c) => c.value.name === 'producer.override.linger.ms' && c.definition === null), 'overrides are listed with the other settings');

  const principal = await startEnv(t, { 'connector.client.config.override.policy': 'Principal' });
  const v = (await rest(principal.url, 'PUT', '/connector-plugins/FileStreamSource/config/validate', config(overrides))).body as Validation;
  assert.equal(v.error_count, 1);
  assert.deepEqual(errorsOf(v), { 'producer.override.linger.ms': ["The 'Principal' policy does not allow 'linger.ms' to be overridden in the connector configuration."] });
  const refused = await rest(principal.url, 'POST', '/connectors', { name: 'c', config: config(overrides) });
  assert.equal(refused.status, 400);
  assert.match((refused.body as { message: string }).message, /contains the following 1 error\(s\):\nproducer\.override\.linger\.ms: The 'Principal' policy does not allow 'linger.ms'/);
  assert.equal((await rest(principal.url, 'POST', '/connectors', { name: 'c', config: config({ 'producer.override.sasl.mechanism': 'PLAIN' }) })).status, 201);

  const none = await startEnv(t, { 'connector.client.config.override.policy': 'None' });
  const n = (await rest(none.url, 'PUT', '/connector-plugins/FileStreamSource/config/validate', config(overrides))).body as Validation;
  assert.deepEqual(Object.keys(errorsOf(n)).sort(), ['producer.override.linger.ms', 'producer.override.sasl.jaas.config']);

  const converters = { 'key.converter': 'org.apache.kafka.connect.storage.StringConverter', 'value.converter': 'org.apache.kafka.connect.storage.StringConverter' };
  assert.throws(() => parseWorkerConfig({ ...converters, 'connector.client.config.override.policy': 'Some' }), /Invalid value Some for configuration connector.client.config.override.policy/);
});

test('a distributed worker on a SASL cluster keeps its internal topics and group with its top-level settings', { timeout: 120_000 }, async (t) => {
  const { dir, bootstrap, admin } = await startSecuredBroker(t);
  const input = join(dir, 'input.txt');
  await writeFile(input, 'one\ntwo\nthree\n');
  const worker = await DistributedWorker.start({
    workerProps: {
      'bootstrap.servers': bootstrap,
      'group.id': 'secured',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'config.storage.topic': 's-configs',
      'offset.storage.topic': 's-offsets',
      'status.storage.topic': 's-status',
      'config.storage.replication.factor': '1',
      'offset.storage.replication.factor': '1',
      'status.storage.replication.factor': '1',
      'offset.flush.interval.ms': '200',
      listeners: 'http://127.0.0.1:0',
      ...sasl('', 'worker', 'worker-secret'),
      ...sasl('producer.', 'source', 'source-secret'),
    },
    log: () => undefined,
  });
  t.after(() => worker.close());
  for (let i = 0; ; i++) {
    const r = await rest(worker.url, 'PUT', '/connectors/file/config', { 'connector.class': 'FileStreamSource', file: input, topic: 'secured-lines' });
    if (r.status === 201 || r.status === 200) break;
    assert.ok(r.status === 409 && i < 200, JSON.stringify(r.body)); // not joined yet
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok((await admin.listTopics()).includes('s-configs'), 'the worker created its config topic');
  const reader = new Consumer({ brokers: [bootstrap], ...securityFromProperties(sasl('', 'sink', 'sink-secret')), autoOffsetReset: 'earliest' });
  t.after(() => reader.close());
  const seen: string[] = [];
  await waitFor(async () => {
    if (!(await admin.listTopics()).includes('secured-lines')) return false;
    if (reader.assignment().length === 0) await reader.assign([{ topic: 'secured-lines', partition: 0 }]);
    for (const r of (await reader.poll(100))?.records ?? []) seen.push(r.value!.toString());
    return seen.length >= 3;
  }, 'the source records');
  assert.deepEqual(seen, ['one', 'two', 'three']);
});

test('a connector\'s consumer.override.bootstrap.servers reads another cluster', { timeout: 60_000 }, async (t) => {
  const env = await startEnv(t);
  const otherDir = await mkdtemp(join(tmpdir(), 'sluice-connect-other-'));
  const other = await startBroker({ dataDir: otherDir, host: '127.0.0.1', port: 0, logSink: null, 'offsets.topic.replication.factor': 1, 'group.initial.rebalance.delay.ms': 0 });
  const elsewhere = `127.0.0.1:${other.port}`;
  const otherAdmin = new Admin({ brokers: [elsewhere] });
  // After hooks run in the order they were added: the worker (startEnv's) goes before this broker.
  t.after(async () => {
    await otherAdmin.close();
    await other.stop();
    await rm(otherDir, { recursive: true, force: true });
  });
  await otherAdmin.createTopics([{ topic: 'only-there', numPartitions: 1, replicationFactor: 1 }]);
  const producer = new Producer({ brokers: [elsewhere] });
  for (const v of ['x', 'y', 'z']) await producer.send({ topic: 'only-there', value: v });
  await producer.close();
  const output = join(env.dir, 'elsewhere.txt');
  const created = await rest(env.url, 'POST', '/connectors', { name: 'remote-sink', config: { 'connector.class': 'FileStreamSink', file: output, topics: 'only-there', 'consumer.override.bootstrap.servers': elsewhere } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor(async () => (await fileLines(output)).length >= 3, 'the other cluster\'s records');
  assert.deepEqual(await fileLines(output), ['x', 'y', 'z']);
  assert.ok(!(await env.admin.listTopics()).includes('only-there'), 'the worker\'s own cluster was not asked for the topic');
});
