/**
 * EtcdMetadataStore against real etcd servers (Debian's etcd-server): views kept by the watch,
 * compare-and-swap conflicts, sessions that end when their holder stops, the controller election
 * and its fencing, and etcd members going away. Holders of sessions that must stop or die run as
 * child processes (test/support/etcd-store-child.ts), so their leases lapse for real.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { requirePeers } from '@sluice/test-peers';
import { ErrorCode, KafkaError } from '@sluice/protocol';
import { EtcdMetadataStore, type EtcdMetadataStoreOptions } from '../../src/metadata/etcd-metadata-store.js';
import { randomTopicId, TopicExistsError, UnknownTopicError, type MetadataChange, type TopicMetadata } from '../../src/metadata/metadata-store.js';
import { startEtcd, startEtcdCluster, type EtcdTestCluster } from '../support/etcd.js';

const CHILD = new URL('../support/etcd-store-child.js', import.meta.url);

function topic(name: string, partitions = 2, replicas = [1, 2]): TopicMetadata {
  return {
    name,
    topicId: randomTopicId(),
    internal: false,
    partitions: Array.from({ length: partitions }, (_, p) => ({ partition: p, replicas, leader: replicas[0], leaderEpoch: 0 })),
    configs: { 'cleanup.policy': 'compact' },
    createdAtMs: Date.now(),
  };
}

async function etcdFor(t: TestContext, size = 1): Promise<EtcdTestCluster | null> {
  if (!requirePeers(t, 'etcd-server')) return null;
  const etcd = size === 1 ? await startEtcd() : await startEtcdCluster(size);
  t.after(() => etcd.stop());
  return etcd;
}

async function openStore(t: TestContext, endpoints: string[], nodeId: number, options: Partial<EtcdMetadataStoreOptions> = {}): Promise<EtcdMetadataStore> {
  const logger = process.env.SLUICE_TEST_LOG ? (level: string, message: string) => process.stderr.write(`[node ${nodeId}] ${level} ${message}\n`) : undefined;
  const store = new EtcdMetadataStore({ endpoints, nodeId, sessionTimeoutMs: 2000, heartbeatIntervalMs: 500, requestTimeoutMs: 3000, logger, ...options });
  await store.open();
  t.after(() => store.close());
  return store;
}

function record(store: EtcdMetadataStore): (MetadataChange & { atMs: number })[] {
  const changes: (MetadataChange & { atMs: number })[] = [];
  store.onChange((c) => changes.push({ ...c, atMs: performance.now() }));
  return changes;
}

async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A store in a child process, registered as `nodeId`; resolves once it printed its registration. */
async function childStore(t: TestContext, endpoints: string[], prefix: string, nodeId: number, sessionMs = 2000, heartbeatMs = 500): Promise<{ child: ChildProcess; registered: { registered: string; controller: number; epoch: number } }> {
  const child = spawn(process.execPath, [CHILD.pathname, endpoints.join(','), prefix, String(nodeId), String(sessionMs), String(heartbeatMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout! });
  const registered = await new Promise<{ registered: string; controller: number; epoch: number }>((resolve, reject) => {
    lines.on('line', (line) => {
      const o = JSON.parse(line) as { registered?: string; controller: number; epoch: number };
      if (o.registered) resolve(o as { registered: string; controller: number; epoch: number });
    });
    child.once('exit', (code) => reject(new Error(`child store exited with ${code}`)));
  });
  return { child, registered };
}

function assertKafkaError(err: unknown, code: number, message?: RegExp): true {
  assert.ok(err instanceof KafkaError, `expected a KafkaError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
}

test('what one store writes reaches another store\'s view through the watch, in order; a store opened later loads it all', async (t) => {
  const etcd = await etcdFor(t);
  if (!etcd) return;
  const a = await openStore(t, etcd.endpoints, 1);
  const b = await openStore(t, etcd.endpoints, 2);
  assert.equal(a.clusterId, b.clusterId, 'one cluster id, created once');
  assert.match(a.clusterId, /^[A-Za-z0-9_-]{22}$/);
  const seen = record(b);
  const partitionsAtCreate: number[] = [];
  b.onChange((c) => {
    if (c.kind === 'topic-created') partitionsAtCreate.push(c.topic.partitions.length);
  });

  const orders = topic('orders', 3, [1, 2]);
  await a.createTopic(orders);
  // Read-your-writes: the writer's view has it as soon as the write resolves.
  assert.equal(a.topic('orders')?.topicId, orders.topicId);
  assert.equal(a.topicById(orders.topicId)?.name, 'orders');
  await a.setTopicConfigs('orders', { 'retention.ms': '1000' });
  assert.deepEqual(a.topic('orders')?.configs, { 'retention.ms': '1000' });
  const grown = await a.addPartitions('orders', [{ partition: 3, replicas: [2, 1], leader: 2, leaderEpoch: 0 }]);
  assert.equal(grown.partitions.length, 4);
  const shrunk = await a.alterPartition('orders', 0, 0, { isr: [1] });
  assert.deepEqual({ isr: shrunk.isr, partitionEpoch: shrunk.partitionEpoch, leaderEpoch: shrunk.leaderEpoch }, { isr: [1], partitionEpoch: 1, leaderEpoch: 0 });
  const moved = await a.alterPartition('orders', 0, 1, { leader: -1, isr: [2] });
  assert.deepEqual({ leader: moved.leader, partitionEpoch: moved.partitionEpoch, leaderEpoch: moved.leaderEpoch }, { leader: -1, partitionEpoch: 2, leaderEpoch: 1 });
  await a.setBrokerConfigs('', { 'message.max.bytes': '5000' });
  await a.setBrokerConfigs('1', { 'log.cleaner.threads': '2' });
  const deleted = await a.deleteTopic('orders');
  assert.equal(deleted.topicId, orders.topicId);
  assert.equal(a.topic('orders'), undefined);

  await waitFor('the deletion in the second view', () => seen.some((c) => c.kind === 'topic-deleted'));
  assert.deepEqual(
    seen.map((c) => c.kind),
    ['topic-created', 'topic-configs', 'partitions-added', 'partition-changed', 'partition-changed', 'broker-configs', 'broker-configs', 'topic-deleted'],
  );
  assert.deepEqual(partitionsAtCreate, [3], 'topic-created carries every partition of the topic');
  const change = seen[3] as Extract<MetadataChange, { kind: 'partition-changed' }>;
  assert.deepEqual([change.previous.isr, change.current.isr, change.previous.partitionEpoch, change.current.partitionEpoch], [[1, 2], [1], 0, 1]);
  assert.deepEqual(b.brokerConfigs(''), { 'message.max.bytes': '5000' });
  assert.deepEqual(b.brokerConfigs('1'), { 'log.cleaner.threads': '2' });
  assert.equal(b.topic('orders'), undefined);

  // A store opened later loads the state with its one range read.
  const kept = topic('kept', 2);
  await a.createTopic(kept);
  await a.setTopicConfigs('kept', { 'segment.bytes': '1048576' });
  const c = await openStore(t, etcd.endpoints, 3);
  assert.equal(c.clusterId, a.clusterId);
  assert.deepEqual(c.topics().map((x) => [x.name, x.topicId, x.partitions.length, x.configs]), [['kept', kept.topicId, 2, { 'segment.bytes': '1048576' }]]);
  assert.deepEqual(c.brokerConfigs(''), { 'message.max.bytes': '5000' });

  // How long until another store's view has a write: p50 over 40 writes.
  const lags: number[] = [];
  for (let i = 0; i < 40; i++) {
    const before = seen.length;
    const start = performance.now();
    await a.setTopicConfigs('kept', { 'retention.ms': String(i) });
    const arrived = await waitFor('the config change in the other view', () => seen[before]);
    lags.push(arrived.atMs - start);
  }
  t.diagnostic(`a write is in another store's view after ${median(lags).toFixed(1)} ms (p50 of ${lags.length}; max ${Math.max(...lags).toFixed(1)} ms)`);
});

test('compare-and-swap: one of two racing creates wins, stale partition epochs are refused, racing producer-id reservations never overlap', async (t) => {
  const etcd = await etcdFor(t);
  if (!etcd) return;
  const a = await openStore(t, etcd.endpoints, 1);
  const b = await openStore(t, etcd.endpoints, 2);

  for (let round = 0; round < 5; round++) {
    const name = `race-${round}`;
    const mine = topic(name);
    const theirs = topic(name);
    const results = await Promise.allSettled([a.createTopic(mine), b.createTopic(theirs)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}: exactly one create wins`);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(lost.reason instanceof TopicExistsError);
    assert.equal((lost.reason as KafkaError).code, ErrorCode.TOPIC_ALREADY_EXISTS);
    const winner = results[0].status === 'fulfilled' ? mine : theirs;
    await waitFor('both views agree', () => a.topic(name)?.topicId === winner.topicId && b.topic(name)?.topicId === winner.topicId);
  }
  await assert.rejects(a.createTopic(topic('race-0')), TopicExistsError);
  await assert.rejects(a.deleteTopic('absent'), UnknownTopicError);
  await assert.rejects(a.setTopicConfigs('absent', {}), UnknownTopicError);
  await assert.rejects(a.alterPartition('absent', 0, 0, { isr: [1] }), UnknownTopicError);
  await assert.rejects(a.addPartitions('race-0', [{ partition: 0, replicas: [1], leader: 1, leaderEpoch: 0 }]), (err) => assertKafkaError(err, ErrorCode.INVALID_PARTITIONS));

  // Two writers of one partition at one epoch: one applies, the other's epoch is stale.
  const both = await Promise.allSettled([a.alterPartition('race-1', 0, 0, { isr: [1] }), b.alterPartition('race-1', 0, 0, { leader: 2, isr: [2] })]);
  assert.equal(both.filter((r) => r.status === 'fulfilled').length, 1);
  const refused = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assertKafkaError(refused.reason, ErrorCode.INVALID_UPDATE_VERSION, /stale/);
  await assert.rejects(a.alterPartition('race-1', 0, 0, { isr: [1, 2] }), (err) => assertKafkaError(err, ErrorCode.INVALID_UPDATE_VERSION));
  await assert.rejects(a.alterPartition('race-1', 0, 1, { isr: [1, 3] }), (err) => assertKafkaError(err, ErrorCode.INELIGIBLE_REPLICA));
  const now = await a.alterPartition('race-1', 0, 1, { isr: [1, 2] });
  assert.equal(now.partitionEpoch, 2);
  await waitFor('the second view at epoch 2', () => b.topic('race-1')?.partitions[0].partitionEpoch === 2);

  const reservations = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).reserveProducerIds(1 + (i % 5))));
  const ranges = reservations.map((first, i) => [first, first + BigInt(1 + (i % 5))] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i][0], ranges[i - 1][1], 'blocks are disjoint and contiguous');
  assert.equal(ranges[0][0], 0n);
  await assert.rejects(a.reserveProducerIds(0), RangeError);

  // A store that believes etcd allows more operations per txn than it does is refused at once, not retried until the deadline.
  const unaware = await openStore(t, etcd.endpoints, 3, { maxTxnOps: 1000 });
  const refusedAt = performance.now();
  await assert.rejects(unaware.createTopic(topic('too-wide', 200)), (err) => assertKafkaError(err, ErrorCode.UNKNOWN_SERVER_ERROR, /too many operations in txn request/));
  assert.ok(performance.now() - refusedAt < 1000, 'not retried');
  assert.equal(a.topic('too-wide'), undefined);
});

test('a topic wider than one etcd txn (--max-txn-ops 128) is created whole, grows in chunks, and an interrupted or competing creation leaves no half topic', async (t) => {
  const etcd = await etcdFor(t);
  if (!etcd) return;
  const a = await openStore(t, etcd.endpoints, 1);
  const b = await openStore(t, etcd.endpoints, 2);
  const seenByB = record(b);

  // 300 partitions: partition keys in three txns, then the topic key; b sees one topic-created with all of them.
  const wide = topic('wide', 300);
  await a.createTopic(wide);
  assert.equal(a.topic('wide')?.partitions.length, 300);
  await waitFor('wide in b', () => b.topic('wide'));
  assert.deepEqual(b.topic('wide')!.partitions.map((p) => p.partition), Array.from({ length: 300 }, (_, p) => p));
  const created = seenByB.filter((c) => c.kind === 'topic-created' && c.topic.name === 'wide');
  assert.equal(created.length, 1);
  assert.equal(created[0].kind === 'topic-created' && created[0].topic.partitions.length, 300, 'emitted whole');
  await assert.rejects(b.createTopic(topic('wide', 300)), (err) => assertKafkaError(err, ErrorCode.TOPIC_ALREADY_EXISTS, /already exists/));

  // Growing by 250 partitions: two txns, contiguous.
  const grown = await a.addPartitions('wide', Array.from({ length: 250 }, (_, i) => ({ partition: 300 + i, replicas: [2, 1], leader: 2, leaderEpoch: 0 })));
  assert.equal(grown.partitions.length, 550);
  await waitFor('b sees 550 partitions', () => b.topic('wide')?.partitions.length === 550);

  // Two stores racing to create one wide name: exactly one topic, whole, with the winner's id.
  const racers = [topic('raced', 200), topic('raced', 260)];
  const outcomes = await Promise.allSettled([a.createTopic(racers[0]), b.createTopic(racers[1])]);
  assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, `one creator wins: ${outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok')).join('; ')}`);
  for (const o of outcomes) if (o.status === 'rejected') assertKafkaError(o.reason, ErrorCode.TOPIC_ALREADY_EXISTS, /already exists|being created/);
  const winner = racers[outcomes.findIndex((o) => o.status === 'fulfilled')];
  await waitFor('raced in both views', () => a.topic('raced') && b.topic('raced'));
  for (const s of [a, b]) {
    assert.equal(s.topic('raced')!.topicId, winner.topicId);
    assert.equal(s.topic('raced')!.partitions.length, winner.partitions.length);
  }

  // An interrupted creation: a creator that wrote 400 partition keys and died (its claim went
  // with its lease). Nothing is visible, and creating the name again yields exactly the new topic.
  const { Etcd3 } = await import('etcd3');
  const raw = new Etcd3({ hosts: etcd.endpoints });
  t.after(() => raw.close());
  await Promise.all(Array.from({ length: 400 }, (_, p) => raw.put(`/sluice/partitions/orphan/${p}`).value(JSON.stringify({ partition: p, replicas: [9], leader: 9, leaderEpoch: 0, isr: [9], partitionEpoch: 0 }))));
  const lease = raw.lease(5, { autoKeepAlive: false });
  await lease.put('/sluice/topic-creations/orphan').value('a-dead-creation');
  assert.equal(a.topic('orphan'), undefined, 'partition keys without a topic key stay invisible');
  await assert.rejects(a.createTopic(topic('orphan', 130)), (err) => assertKafkaError(err, ErrorCode.TOPIC_ALREADY_EXISTS, /being created/));
  await lease.revoke();
  await a.createTopic(topic('orphan', 130));
  await waitFor('orphan in b', () => b.topic('orphan'));
  for (const s of [a, b]) {
    assert.equal(s.topic('orphan')!.partitions.length, 130, 'the dead creation\'s extra partition keys were cleared');
    assert.ok(s.topic('orphan')!.partitions.every((p) => p.leader === 1));
  }
  assert.equal((await raw.getAll().prefix('/sluice/partitions/orphan/').keys()).length, 130);
});

test('a registration is seen by the others, refused for a node id a live broker holds, and ends when its holder stops renewing', async (t) => {
  const etcd = await etcdFor(t);
  if (!etcd) return;
  const prefix = '/sluice-sessions/';
  const b = await openStore(t, etcd.endpoints, 2, { prefix });
  const seen = record(b);
  const { child, registered } = await childStore(t, etcd.endpoints, prefix, 1);
  await waitFor('broker 1 in the view', () => b.brokers().some((r) => r.nodeId === 1));
  assert.equal(String(b.brokers().find((r) => r.nodeId === 1)!.brokerEpoch), registered.registered);

  // A second process with node id 1 is refused while the first one's session lives (after a
  // session timeout's worth of retries, in case it was its own previous incarnation).
  const twin = await openStore(t, etcd.endpoints, 1, { prefix });
  const twinAt = performance.now();
  await assert.rejects(twin.registerBroker({ nodeId: 1, host: '127.0.0.1', port: 1, rack: null }), (err) => assertKafkaError(err, ErrorCode.DUPLICATE_BROKER_REGISTRATION, /node id 1 is already registered/));
  assert.ok(performance.now() - twinAt >= 2000, 'refused only once the holder outlived a session timeout');
  assert.equal(String(b.brokers().find((r) => r.nodeId === 1)?.brokerEpoch), registered.registered, 'the holder keeps its registration');

  // Frozen: no more renewals, so the lease (TTL 2 s) expires and the others see it leave.
  const stoppedAt = performance.now();
  child.kill('SIGSTOP');
  const left = await waitFor('broker 1 to leave', () => seen.find((c) => c.kind === 'broker-unregistered' && c.broker.nodeId === 1), 10_000);
  const after = left.atMs - stoppedAt;
  t.diagnostic(`a broker that stopped renewing left the view after ${after.toFixed(0)} ms (session timeout 2000 ms, heartbeat 500 ms)`);
  assert.ok(after > 1000 && after < 4500, `left after ${after} ms`);
  assert.equal(b.brokers().some((r) => r.nodeId === 1), false);

  // Thawed: its lease is gone, so it registers again with a new lease and a larger epoch.
  child.kill('SIGCONT');
  const back = await waitFor('broker 1 to register again', () => seen.find((c) => c.kind === 'broker-registered' && c.broker.nodeId === 1 && c.atMs > left.atMs), 10_000);
  assert.ok((back as Extract<MetadataChange, { kind: 'broker-registered' }>).broker.brokerEpoch > BigInt(registered.registered));

  // A broker restarted right after a crash registers once its previous session has expired.
  child.kill('SIGKILL');
  const restartedAt = performance.now();
  const restarted = await twin.registerBroker({ nodeId: 1, host: '127.0.0.1', port: 9101, rack: null });
  t.diagnostic(`a broker restarted right after a crash registered after ${(performance.now() - restartedAt).toFixed(0)} ms`);
  assert.equal(restarted.port, 9101);
  await waitFor('the new incarnation in the other view', () => b.brokers().find((r) => r.nodeId === 1)?.port === 9101);

  // Unregistering leaves at once; a clean close does too.
  const c = await openStore(t, etcd.endpoints, 3, { prefix });
  await c.registerBroker({ nodeId: 3, host: '127.0.0.1', port: 9003, rack: 'r1' });
  await waitFor('broker 3 in the view', () => b.brokers().find((r) => r.nodeId === 3)?.rack === 'r1');
  const start = performance.now();
  await c.unregisterBroker(3);
  assert.equal(c.brokers().some((r) => r.nodeId === 3), false);
  await waitFor('broker 3 to leave', () => seen.find((x) => x.kind === 'broker-unregistered' && x.broker.nodeId === 3));
  assert.ok(performance.now() - start < 1000);
  await b.registerBroker({ nodeId: 2, host: '127.0.0.1', port: 9002, rack: null });
  const d = await openStore(t, etcd.endpoints, 4, { prefix });
  await waitFor('broker 2 in a new view', () => d.brokers().some((r) => r.nodeId === 2));
  await b.close();
  await waitFor('broker 2 gone after its close', () => !d.brokers().some((r) => r.nodeId === 2), 1000);
});

test('one controller, the first candidate; when it dies another takes over with a larger epoch, and the old epoch\'s writes are refused', async (t) => {
  const etcd = await etcdFor(t);
  if (!etcd) return;
  const prefix = '/sluice-election/';
  const { child, registered } = await childStore(t, etcd.endpoints, prefix, 1);
  assert.equal(registered.controller, 1, 'the only broker is the controller');
  const oldEpoch = registered.epoch;
  assert.ok(oldEpoch > 0);
  const b = await openStore(t, etcd.endpoints, 2, { prefix });
  const c = await openStore(t, etcd.endpoints, 3, { prefix });
  await b.registerBroker({ nodeId: 2, host: '127.0.0.1', port: 9002, rack: null });
  await c.registerBroker({ nodeId: 3, host: '127.0.0.1', port: 9003, rack: null });
  for (const s of [b, c]) assert.deepEqual([s.controllerId(), s.controllerEpoch()], [1, oldEpoch]);
  await b.createTopic(topic('t', 1, [1, 2, 3]));
  await b.alterPartition('t', 0, 0, { isr: [1, 2] }, { controllerEpoch: oldEpoch });

  const seen = record(b);
  const killedAt = performance.now();
  child.kill('SIGKILL');
  const change = await waitFor('a new controller', () => seen.find((x) => x.kind === 'controller-changed' && x.controllerId !== 1 && x.controllerId !== -1), 10_000);
  const failover = change.atMs - killedAt;
  t.diagnostic(`controller failover after SIGKILL: ${failover.toFixed(0)} ms (session timeout 2000 ms)`);
  assert.ok(failover < 4500, `failover took ${failover} ms`);
  const next = change as Extract<MetadataChange, { kind: 'controller-changed' }>;
  assert.equal(next.controllerId, 2, 'the next candidate by creation order');
  assert.ok(next.controllerEpoch > oldEpoch, 'the epoch grows');
  await waitFor('the third view to agree', () => c.controllerId() === 2 && c.controllerEpoch() === next.controllerEpoch);

  await assert.rejects(b.alterPartition('t', 0, 1, { leader: 2, isr: [2] }, { controllerEpoch: oldEpoch }), (err) => assertKafkaError(err, ErrorCode.NOT_CONTROLLER));
  const moved = await b.alterPartition('t', 0, 1, { leader: 2, isr: [2] }, { controllerEpoch: next.controllerEpoch });
  assert.deepEqual([moved.leader, moved.leaderEpoch], [2, 1]);

  // The controller leaves cleanly: the next one takes over at once.
  const handedAt = performance.now();
  await b.unregisterBroker(2);
  await waitFor('broker 3 as controller', () => c.controllerId() === 3, 2000);
  t.diagnostic(`controller hand-over after unregisterBroker: ${(performance.now() - handedAt).toFixed(0)} ms`);
  assert.ok(c.controllerEpoch() > next.controllerEpoch);
  await assert.rejects(c.alterPartition('t', 0, 2, { isr: [2, 3] }, { controllerEpoch: next.controllerEpoch }), (err) => assertKafkaError(err, ErrorCode.NOT_CONTROLLER));
});

test('a controller cut off from etcd stops reporting itself controller before its lease could expire, and stands again when etcd is back', async (t) => {
  const etcd = await etcdFor(t);
  if (!etcd) return;
  const a = await openStore(t, etcd.endpoints, 1, { sessionTimeoutMs: 3000, heartbeatIntervalMs: 500, requestTimeoutMs: 1000 });
  const seen = record(a);
  await a.registerBroker({ nodeId: 1, host: '127.0.0.1', port: 9001, rack: null });
  assert.equal(a.controllerId(), 1);
  const epoch = a.controllerEpoch();
  const stoppedAt = performance.now();
  etcd.members[0].pause();
  const down = await waitFor('the controller to step down', () => seen.find((c) => c.kind === 'controller-changed' && c.controllerId === -1), 5000);
  const after = down.atMs - stoppedAt;
  t.diagnostic(`a controller cut off from etcd stepped down after ${after.toFixed(0)} ms (lease TTL 3000 ms)`);
  assert.ok(after < 3000, `stepped down after ${after} ms, not before the TTL`);
  assert.equal(a.controllerId(), -1);
  assert.equal(a.controllerEpoch(), -1);
  await assert.rejects(a.alterPartition('x', 0, 0, {}, { controllerEpoch: epoch }), (err) => assertKafkaError(err, ErrorCode.NOT_CONTROLLER));
  etcd.members[0].resume();
  await waitFor('the controller back', () => a.controllerId() === 1, 15_000);
  assert.ok(a.controllerEpoch() >= epoch);
});

test('with the leader of three etcd members killed, reads and writes go on', async (t) => {
  const etcd = await etcdFor(t, 3);
  if (!etcd) return;
  // The default deadline: it covers the election of a new etcd leader.
  const a = await openStore(t, etcd.endpoints, 1, { requestTimeoutMs: 5000 });
  const b = await openStore(t, etcd.endpoints, 2, { requestTimeoutMs: 5000 });
  await a.registerBroker({ nodeId: 1, host: '127.0.0.1', port: 9001, rack: null });
  await a.createTopic(topic('before'));
  await (await etcd.leader()).kill();
  const killedAt = performance.now();
  await a.createTopic(topic('first-after'));
  t.diagnostic(`the first write after the etcd leader was killed took ${(performance.now() - killedAt).toFixed(0)} ms`);
  for (let i = 0; i < 10; i++) {
    await a.createTopic(topic(`after-${i}`));
    await b.setTopicConfigs(`after-${i}`, { 'retention.ms': String(i) });
  }
  await waitFor('both views with every topic', () => a.topics().length === 12 && b.topics().length === 12 && a.topic('after-9')?.configs['retention.ms'] === '9');
  assert.equal(b.topic('before')?.partitions.length, 2);
  // The session survives: broker 1 is still registered and the controller.
  await new Promise((r) => setTimeout(r, 2500));
  assert.deepEqual([b.brokers().map((r) => r.nodeId), b.controllerId()], [[1], 1]);
});

test('a watch on an etcd member cut off from the majority is cancelled (require-leader) instead of going silent, and resumes when the member is back', async (t) => {
  const etcd = await etcdFor(t, 3);
  if (!etcd) return;
  const [lone, ...others] = etcd.members;
  const messages: string[] = [];
  const a = await openStore(t, [lone.endpoint], 1, { logger: (level, message) => messages.push(`${level} ${message}`) });
  const b = await openStore(t, etcd.endpoints, 2, { requestTimeoutMs: 10_000 });
  await b.createTopic(topic('before'));
  await waitFor('a has before', () => a.topic('before'));
  // The other two stop answering: the lone member has no leader (as on the wrong side of a partition).
  for (const m of others) m.pause();
  const cutAt = performance.now();
  await waitFor('the watch cancelled for lack of a leader', () => messages.some((m) => /etcd watch interrupted .*no leader/.test(m)), 15_000);
  t.diagnostic(`watch cancelled ${(performance.now() - cutAt).toFixed(0)} ms after the member lost its majority`);
  for (const m of others) m.resume();
  await b.createTopic(topic('after'));
  await waitFor('a sees what was written after', () => a.topic('after'), 20_000);
});

test('with etcd down a write fails within its deadline with a retriable error; reads go on; after a restart the view catches up', async (t) => {
  const etcd = await etcdFor(t);
  if (!etcd) return;
  const a = await openStore(t, etcd.endpoints, 1, { requestTimeoutMs: 1500 });
  const b = await openStore(t, etcd.endpoints, 2, { requestTimeoutMs: 10_000 });
  await a.createTopic(topic('kept'));
  await waitFor('b has kept', () => b.topic('kept'));
  const seen = record(a);
  await etcd.members[0].kill();

  const start = performance.now();
  const err = await a.createTopic(topic('during-outage')).then(
    () => null,
    (e: unknown) => e,
  );
  const waited = performance.now() - start;
  t.diagnostic(`with etcd down a write failed after ${waited.toFixed(0)} ms (deadline 1500 ms): ${(err as Error)?.message}`);
  assertKafkaError(err, ErrorCode.REQUEST_TIMED_OUT, /cluster metadata store \(etcd at http:\/\/127\.0\.0\.1:\d+\) unreachable/);
  assert.ok(waited >= 1400 && waited < 2500, `waited ${waited} ms`);
  assert.equal(a.topic('kept')?.partitions.length, 2, 'reads serve the last view');

  // etcd comes back on its data; the other store writes before this one's watch is back.
  etcd.members[0].start();
  await b.createTopic(topic('while-away'));
  await b.setTopicConfigs('kept', { 'retention.ms': '7' });
  await b.deleteTopic('while-away');
  await waitFor('the first view to catch up', () => seen.some((c) => c.kind === 'topic-deleted'), 15_000);
  assert.deepEqual(seen.map((c) => c.kind), ['topic-created', 'topic-configs', 'topic-deleted']);
  assert.equal(a.topic('kept')?.configs['retention.ms'], '7');
  await a.createTopic(topic('after'));
  assert.ok(b.topic('after') || (await waitFor('b has after', () => b.topic('after'))));
});

/** etcd's JSON gateway on one member: the current revision, and compacting the history up to it. */
async function compactAll(endpoint: string): Promise<number> {
  const post = async (path: string, body: object) => (await (await fetch(`${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body) })).json()) as { header: { revision: string } };
  const revision = Number((await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header.revision);
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

test('a store whose only etcd member was away catches up by revision; when those revisions were compacted, it reloads and reports the difference', async (t) => {
  const etcd = await etcdFor(t, 3);
  if (!etcd) return;
  const [m0, m1, m2] = etcd.members;
  const a = await openStore(t, [m0.endpoint], 1, { requestTimeoutMs: 5000 });
  const b = await openStore(t, [m1.endpoint, m2.endpoint], 2, { requestTimeoutMs: 5000 });
  await b.createTopic(topic('x'));
  await waitFor('a has x', () => a.topic('x'));
  const seen = record(a);

  // Away while the others write: the watch resumes from its revision, nothing is missed.
  await m0.kill();
  await b.createTopic(topic('y'));
  await b.setTopicConfigs('x', { 'retention.ms': '1' });
  await b.alterPartition('x', 1, 0, { isr: [2] , leader: 2 });
  assert.equal(a.topic('y'), undefined, 'a cannot see it yet');
  m0.start();
  await m0.ready();
  await waitFor('a to catch up', () => seen.some((c) => c.kind === 'partition-changed'), 15_000);
  assert.deepEqual(seen.map((c) => c.kind), ['topic-created', 'topic-configs', 'partition-changed']);
  assert.deepEqual(a.topic('x')?.configs, { 'retention.ms': '1' });

  // Away while the others write and compact the history it would resume from: a reload.
  seen.length = 0;
  await m0.kill();
  await b.deleteTopic('y');
  await b.createTopic(topic('z', 3));
  await b.setBrokerConfigs('', { 'message.max.bytes': '1234' });
  await compactAll(m1.endpoint);
  m0.start();
  await m0.ready();
  await waitFor('a to reload', () => a.topic('z') && !a.topic('y'), 15_000);
  assert.deepEqual(seen.map((c) => c.kind).sort(), ['broker-configs', 'topic-created', 'topic-deleted']);
  assert.equal(a.topic('z')?.partitions.length, 3);
  assert.deepEqual(a.brokerConfigs(''), { 'message.max.bytes': '1234' });
  await a.createTopic(topic('after'));
  await waitFor('b has after', () => b.topic('after'));
});

test('ACLs and client quotas: one store\'s changes reach another through the watch, and a store opened later loads them', async (t) => {
  const etcd = await etcdFor(t);
  if (!etcd) return;
  const a = await openStore(t, etcd.endpoints, 1);
  const b = await openStore(t, etcd.endpoints, 2);
  const seen = record(b);
  const acl = (resourceName: string, operation: number) => ({ resourceType: 2, resourceName, patternType: 3, principal: 'User:alice', host: '*', operation, permissionType: 3 });
  await a.updateAcls([acl('orders', 3), acl('orders', 4), acl('pay/eu', 3)], []);
  // Adding a binding twice keeps one.
  await a.updateAcls([acl('orders', 3)], []);
  await waitFor('the ACLs on b', () => b.acls().length === 3);
  await a.updateAcls([], [acl('orders', 4)]);
  await a.setClientQuotas({ user: 'alice', clientId: null }, { producer_byte_rate: 1024 });
  await a.setClientQuotas({ clientId: 'app' }, { consumer_byte_rate: 10 });
  await a.setClientQuotas({ clientId: 'app' }, {});
  await waitFor('the quotas on b', () => b.clientQuotas().length === 1 && b.acls().length === 2);
  assert.deepEqual(b.acls().map((x) => `${x.resourceName}:${x.operation}`).sort(), ['orders:3', 'pay/eu:3']);
  assert.deepEqual(b.clientQuotas(), [{ entity: { user: 'alice', clientId: null }, values: { producer_byte_rate: 1024 } }]);
  assert.ok(seen.filter((c) => c.kind === 'acls').length >= 2);
  assert.deepEqual(seen.filter((c) => c.kind === 'client-quotas').map((c) => (c.kind === 'client-quotas' ? Object.keys(c.values).length : -1)), [1, 1, 0]);
  const later = await openStore(t, etcd.endpoints, 3);
  assert.deepEqual(later.acls().map((x) => `${x.resourceName}:${x.operation}`).sort(), ['orders:3', 'pay/eu:3']);
  assert.deepEqual(later.clientQuotas(), b.clientQuotas());
});
