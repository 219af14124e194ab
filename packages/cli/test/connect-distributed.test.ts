/**
 * `sluice connect-distributed`: three workers as processes share a FileStreamSource and a
 * FileStreamSink created through one worker's REST API (writes forwarded to the leader). kill -9
 * of the worker running the source moves it to another worker; the sink file has no gap
 * (at-least-once: a line may repeat; with exactly-once source support and a read_committed sink,
 * none does). The internal topics hold Kafka Connect's record formats.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '@sluice/broker';
import { Consumer } from '@sluice/client';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

interface Worker { child: ChildProcess; url: string; id: string; stderr: () => string }

function startWorker(propsFile: string): Promise<Worker> {
  const child = spawn(process.execPath, [MAIN, 'connect-distributed', propsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /REST API at (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], id: new URL(m[1]).host, stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}: ${err}`));
    });
  });
}

async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  // Bounded: a request that never answers fails the predicate instead of holding the test.
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function readTopic(bootstrap: string, topic: string, partitions: number): Promise<Array<{ key: string; value: string | null }>> {
  const consumer = new Consumer({ brokers: [bootstrap] });
  await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  await consumer.seekToBeginning();
  const out: Array<{ key: string; value: string | null }> = [];
  for (;;) {
    const batch = await Promise.race([consumer.poll(), new Promise<null>((r) => setTimeout(() => r(null), 1500))]);
    if (!batch) break;
    for (const r of batch.records) out.push({ key: r.key!.toString(), value: r.value?.toString() ?? null });
  }
  await consumer.close();
  return out;
}

/** A broker and three `sluice connect-distributed` worker processes of one group; `extra` worker settings appended. */
async function startConnectCluster(t: { after(fn: () => Promise<void>): void }, extra: string[] = []): Promise<{ dir: string; bootstrap: string; workers: Worker[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-connect-dist-'));
  const broker = await startBroker({ dataDir: join(dir, 'data'), host: '127.0.0.1', port: 0, logSink: null, 'group.initial.rebalance.delay.ms': 0 });
  const bootstrap = `127.0.0.1:${broker.port}`;
  const workers: Worker[] = [];
  t.after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const props = join(dir, 'worker.properties');
  await writeFile(props, [
    `bootstrap.servers=${bootstrap}`,
    'group.id=connect-cluster',
    'key.converter=org.apache.kafka.connect.storage.StringConverter',
    'value.converter=org.apache.kafka.connect.storage.StringConverter',
    'config.storage.topic=connect-configs',
    'offset.storage.topic=connect-offsets',
    'status.storage.topic=connect-status',
    'config.storage.replication.factor=1',
    'offset.storage.replication.factor=1',
    'status.storage.replication.factor=1',
    'offset.storage.partitions=5',
    'offset.flush.interval.ms=300',
    'session.timeout.ms=6000',
    'heartbeat.interval.ms=1000',
    // A departed worker's work waits this long for it before moving (Kafka's default is 5 min).
    'scheduled.rebalance.max.delay.ms=2000',
    'consumer.session.timeout.ms=6000',
    'consumer.heartbeat.interval.ms=1000',
    'listeners=http://127.0.0.1:0',
    ...extra,
  ].join('\n'));
  for (let i = 0; i < 3; i++) workers.push(await startWorker(props));
  return { dir, bootstrap, workers };
}

async function scenario(t: { after(fn: () => Promise<void>): void }, exactlyOnce: boolean): Promise<void> {
  const { dir, bootstrap, workers } = await startConnectCluster(t, exactlyOnce ? ['exactly.once.source.support=enabled', 'consumer.isolation.level=read_committed'] : []);

  const input = join(dir, 'in.txt');
  const output = join(dir, 'out.txt');
  await writeFile(input, Array.from({ length: 300 }, (_, i) => `first ${i}`).join('\n') + '\n');
  // A worker answers 409 "no known leader" until it has joined the group, as Kafka's do; retry then.
  const post = async (w: Worker, body: unknown) => {
    for (let i = 0; ; i++) {
      const r = await json(`${w.url}/connectors`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (i > 60 || !(r.status === 409 && /no known leader/.test(r.body.message))) return r;
      await new Promise((res) => setTimeout(res, 500));
    }
  };
  // Created through the third worker: a follower or the leader, the request reaches the leader.
  const created = await post(workers[2], { name: 'file-sink', config: { 'connector.class': 'FileStreamSink', topics: 'dist-topic', file: output } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  // With exactly-once: a transaction per 200 ms rather than per poll (KIP-618's interval boundary).
  const sourceConfig = { 'connector.class': 'FileStreamSource', topic: 'dist-topic', file: input, ...(exactlyOnce ? { 'transaction.boundary': 'interval', 'transaction.boundary.interval.ms': '200' } : {}) };
  assert.equal((await post(workers[1], { name: 'file-source', config: sourceConfig })).status, 201);
  assert.equal((await post(workers[0], { name: 'file-source', config: sourceConfig })).status, 409);

  await waitFor('the first lines in the sink file', async () => (await lines(output)).length >= 300);
  for (const w of workers) assert.deepEqual((await json(`${w.url}/connectors`)).body, ['file-sink', 'file-source'], 'every worker sees every connector');
  const before = (await json(`${workers[0].url}/connectors/file-source/status`)).body;
  assert.equal(before.connector.state, 'RUNNING');
  assert.equal(before.tasks[0].state, 'RUNNING');
  const sinkBefore = (await json(`${workers[0].url}/connectors/file-sink/status`)).body;
  const victim = workers.find((w) => w.id === before.connector.worker_id);
  assert.ok(victim, `the source runs on one of the workers (${before.connector.worker_id})`);

  const writer = (async () => {
    for (let i = 0; i < 300; i++) {
      await appendFile(input, `second ${i}\n`);
      if (i % 30 === 0) await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await waitFor('some second lines', async () => (await lines(output)).some((l) => l.startsWith('second')));
  victim!.child.kill('SIGKILL');
  await writer;
  const survivor = workers.find((w) => w !== victim)!;
  await waitFor('the source to run on another worker', async () => {
    const s = (await json(`${survivor.url}/connectors/file-source/status`)).body;
    return s.connector.state === 'RUNNING' && s.connector.worker_id !== victim!.id && s.tasks[0]?.state === 'RUNNING' && s.tasks[0]?.worker_id !== victim!.id;
  }).catch(async (err: Error) => {
    const status = JSON.stringify((await json(`${survivor.url}/connectors/file-source/status`)).body);
    throw new Error(`${err.message}; status ${status}; worker logs:\n${workers.filter((w) => w !== victim).map((w) => w.stderr().slice(-3000)).join('\n---\n')}`);
  });
  await waitFor('every line in the sink file', async () => (await lines(output)).includes('second 299'));
  if (sinkBefore.connector.worker_id !== victim!.id) {
    // Incremental cooperative: the sink's worker survived, so the sink stayed where it was.
    assert.equal((await json(`${survivor.url}/connectors/file-sink/status`)).body.connector.worker_id, sinkBefore.connector.worker_id);
  }
  const got = await lines(output);
  const expected = [...Array.from({ length: 300 }, (_, i) => `first ${i}`), ...Array.from({ length: 300 }, (_, i) => `second ${i}`)];
  if (exactlyOnce) assert.deepEqual(got, expected, 'exactly once: no gap and no duplicate');
  else assert.deepEqual(got.filter((l, i) => got.indexOf(l) === i), expected, 'no gap, in order (at-least-once: a line may repeat)');

  // Kafka Connect's record formats in the internal topics.
  const configs = await readTopic(bootstrap, 'connect-configs', 1);
  const byKey = new Map(configs.map((r) => [r.key, r.value]));
  assert.deepEqual(JSON.parse(byKey.get('connector-file-source')!), { properties: { ...sourceConfig, name: 'file-source' } });
  assert.deepEqual(JSON.parse(byKey.get('target-state-file-source')!), { state: 'STARTED' });
  assert.deepEqual(JSON.parse(byKey.get('commit-file-source')!), { tasks: 1 });
  assert.equal(JSON.parse(byKey.get('task-file-source-0')!).properties.topic, 'dist-topic');
  const offsets = await readTopic(bootstrap, 'connect-offsets', 5);
  const last = offsets.filter((r) => r.key === JSON.stringify(['file-source', { filename: input }])).at(-1)!;
  assert.deepEqual(JSON.parse(last.value!), { position: (await readFile(input)).length });
  const statuses = await readTopic(bootstrap, 'connect-status', 5);
  const st = JSON.parse(statuses.filter((r) => r.key === 'status-connector-file-source').at(-1)!.value!);
  assert.deepEqual(Object.keys(st).sort(), ['generation', 'state', 'trace', 'worker_id']);

  // Requests to any worker: pause goes to the leader, restart to the worker running the connector.
  const others = workers.filter((w) => w !== victim);
  const sinkOwner = (await json(`${others[0].url}/connectors/file-sink/status`)).body.connector.worker_id;
  const notOwner = others.find((w) => w.id !== sinkOwner)!;
  const restarted = await json(`${notOwner.url}/connectors/file-sink/restart?includeTasks=true`, { method: 'POST' });
  assert.equal(restarted.status, 202);
  assert.equal(restarted.body.connector.state, 'RESTARTING');
  // KIP-745: the leader wrote the request to the config topic; the sink's worker carried it out.
  const request = (await readTopic(bootstrap, 'connect-configs', 1)).filter((r) => r.key === 'restart-connector-file-sink').at(-1);
  assert.deepEqual(JSON.parse(request?.value ?? 'null'), { 'include-tasks': true, 'only-failed': false });
  await waitFor('the sink running again after its restart', async () => {
    const st = (await json(`${notOwner.url}/connectors/file-sink/status`)).body;
    return st.connector.state === 'RUNNING' && st.tasks[0]?.state === 'RUNNING';
  });
  assert.equal((await json(`${notOwner.url}/connectors/file-sink/pause`, { method: 'PUT' })).status, 202);
  await waitFor('the sink to pause', async () => (await json(`${notOwner.url}/connectors/file-sink/status`)).body.tasks[0]?.state === 'PAUSED');
  // A stopped sink's offsets (its consumer group's) altered through a follower worker (KIP-875).
  assert.equal((await json(`${notOwner.url}/connectors/file-sink/stop`, { method: 'PUT' })).status, 202);
  await waitFor('the sink to stop', async () => (await json(`${notOwner.url}/connectors/file-sink/status`)).body.connector.state === 'STOPPED');
  const patch = { offsets: [{ partition: { kafka_topic: 'dist-topic', kafka_partition: 0 }, offset: { kafka_offset: 5 } }] };
  const altered = await json(`${notOwner.url}/connectors/file-sink/offsets`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(patch) });
  assert.equal(altered.status, 200, JSON.stringify(altered.body));
  const sinkOffsets = (await json(`${notOwner.url}/connectors/file-sink/offsets`)).body.offsets as Array<{ partition: { kafka_partition: number }; offset: { kafka_offset: number } }>;
  assert.equal(sinkOffsets.find((o) => o.partition.kafka_partition === 0)?.offset.kafka_offset, 5);
  assert.equal((await json(`${notOwner.url}/connectors/file-sink`, { method: 'DELETE' })).status, 204);
  await waitFor('the sink to be gone everywhere', async () => {
    for (const w of others) if ((await json(`${w.url}/connectors`)).body.includes('file-sink')) return false;
    return true;
  });

  for (const w of workers) if (w !== victim) w.child.kill('SIGTERM');
  for (const w of workers) if (w !== victim) assert.equal(await new Promise((r) => (w.child.exitCode !== null ? r(w.child.exitCode) : w.child.on('exit', r))), 0, w.stderr());
}

test('connect-distributed: three workers, kill -9 of the source\'s worker, no gap in the sink file', { timeout: 180_000 }, (t) => scenario(t, false));

test('connect-distributed with exactly.once.source.support=enabled: kill -9 leaves neither gap nor duplicate', { timeout: 180_000 }, (t) => scenario(t, true));

test('connect-distributed spreads one connector\'s tasks over the workers, and a killed worker\'s tasks move to the others', { timeout: 290_000 }, async (t) => {
  const { dir, bootstrap, workers } = await startConnectCluster(t);
  const { Admin, Producer } = await import('@sluice/client');
  const admin = new Admin({ brokers: [bootstrap] });
  await admin.createTopics([{ topic: 'spread-in', numPartitions: 4, replicationFactor: 1 }]);
  await admin.close();
  const output = join(dir, 'out.txt');
  for (let i = 0; ; i++) {
    const r = await json(`${workers[0].url}/connectors`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'wide-sink', config: { 'connector.class': 'FileStreamSink', topics: 'spread-in', file: output, 'tasks.max': '4' } }) });
    if (r.status === 201) break;
    assert.ok(i < 60 && r.status === 409, JSON.stringify(r.body));
    await new Promise((res) => setTimeout(res, 500));
  }
  type Status = { connector: { state: string; worker_id: string }; tasks: Array<{ id: number; state: string; worker_id: string }> };
  const status = async (w: Worker) => (await json(`${w.url}/connectors/wide-sink/status`)).body as Status;
  const running = (s: Status, among: Worker[]) => s.tasks.length === 4 && s.tasks.every((task) => task.state === 'RUNNING' && among.some((w) => w.id === task.worker_id));
  await waitFor('four running tasks', async () => running(await status(workers[0]), workers)).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(await status(workers[0]))}`);
  });
  const spread = await status(workers[1]);
  const perWorker = new Map<string, number>();
  for (const task of spread.tasks) perWorker.set(task.worker_id, (perWorker.get(task.worker_id) ?? 0) + 1);
  assert.equal(perWorker.size, 3, `tasks on every worker: ${JSON.stringify(spread.tasks)}`);
  assert.ok(Math.max(...perWorker.values()) <= 2, 'no worker runs more than its fair share');

  const producer = new Producer({ brokers: [bootstrap] });
  t.after(() => producer.close());
  await producer.sendBatch(Array.from({ length: 200 }, (_, i) => ({ topic: 'spread-in', partition: i % 4, value: `before ${i}` })));
  await waitFor('the first records in the sink file', async () => (await lines(output)).length >= 200);

  // kill -9 a worker running tasks but not the connector instance: its tasks move, the instance stays.
  const victim = workers.find((w) => w.id !== spread.connector.worker_id && spread.tasks.some((task) => task.worker_id === w.id))!;
  victim.child.kill('SIGKILL');
  const survivors = workers.filter((w) => w !== victim);
  await producer.sendBatch(Array.from({ length: 200 }, (_, i) => ({ topic: 'spread-in', partition: i % 4, value: `after ${i}` })));
  await waitFor('every task running on the survivors', async () => running(await status(survivors[0]), survivors), 90_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(await status(survivors[0]))}; logs:\n${survivors.map((w) => w.stderr().slice(-2000)).join('\n---\n')}`);
  });
  assert.equal((await status(survivors[0])).connector.worker_id, spread.connector.worker_id, 'the instance did not move');
  await waitFor('every record in the sink file', async () => {
    const got = new Set(await lines(output));
    return Array.from({ length: 200 }, (_, i) => `after ${i}`).every((l) => got.has(l)) && Array.from({ length: 200 }, (_, i) => `before ${i}`).every((l) => got.has(l));
  });
  for (const w of survivors) w.child.kill('SIGTERM');
  for (const w of survivors) {
    assert.equal(await new Promise((r) => (w.child.exitCode !== null ? r(w.child.exitCode) : w.child.on('exit', r))), 0, w.stderr());
    // The CLI's shutdown deadline let it go; say so rather than hide it.
    if (/did not stop within/.test(w.stderr())) t.diagnostic(`worker ${w.id} needed its shutdown deadline:\n${w.stderr().slice(-2000)}`);
  }
});
