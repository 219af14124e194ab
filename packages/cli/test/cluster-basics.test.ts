/**
 * A cluster of `sluice start` processes over real etcd, without relying on replication: brokers
 * share one cluster id and see each other, a data directory of another cluster or node is refused,
 * the controller fails over when its broker dies, etcd losing a member of three keeps the cluster
 * working, and with etcd down brokers keep serving their partitions while metadata changes fail
 * with a clear, retriable error, then work again once etcd is back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Admin, Producer } from '@sluice/client';
import { requirePeers } from '@sluice/test-peers';
import { startProcessCluster, until } from './support/process-cluster.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const FAST = { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'offsets.topic.num.partitions': 3, 'offsets.topic.replication.factor': 1, 'etcd.request.timeout.ms': 2000 };

test('three brokers on one etcd: one cluster id, every broker in Metadata, a controller, topics spread over them; foreign data directories refused', { timeout: 120_000 }, async (t) => {
  if (!requirePeers(t, 'etcd-server')) return;
  const cluster = await startProcessCluster({ brokers: 3, overrides: FAST });
  t.after(() => cluster.close());
  const admin = new Admin({ brokers: [cluster.bootstrap[2]] });
  t.after(() => admin.close());
  const described = await admin.describeCluster();
  assert.deepEqual(described.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
  assert.ok([1, 2, 3].includes(described.controllerId));
  const ids = new Set(cluster.brokers.map((b) => /cluster ([\w-]+)\)/.exec(b.log)?.[1]));
  assert.equal(ids.size, 1, `one cluster id: ${[...ids]}`);
  await admin.createTopics([{ topic: 'spread', numPartitions: 6, replicationFactor: 1 }]);
  const [topic] = await admin.describeTopics(['spread']);
  assert.deepEqual([...new Set(topic.partitions.map((p) => p.leader))].sort(), [1, 2, 3], 'leaders on every broker');
  // Produce through broker 1's bootstrap to partitions led by all three.
  const producer = new Producer({ brokers: [cluster.bootstrap[0]], acks: 'all' });
  t.after(() => producer.close());
  for (let p = 0; p < 6; p++) await producer.send({ topic: 'spread', partition: p, value: `v${p}` });
  const ends = await admin.listOffsets('spread');
  assert.ok(ends.every((o) => o.offset === 1n), JSON.stringify(ends.map((o) => String(o.offset))));

  // Broker 2's data directory with another node id, or for another cluster: refused with a clear message.
  await cluster.broker(2).stop();
  const wrongNode = spawnSync(process.execPath, [MAIN, 'start', '--node-id', '7', '--etcd', cluster.etcdEndpoints, '--port', '0', '--data-dir', cluster.broker(2).dataDir], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(wrongNode.status, 0);
  assert.match(wrongNode.stderr, /belongs to node 2, but this broker is node.id 7/);
  const otherCluster = spawnSync(process.execPath, [MAIN, 'start', '--node-id', '2', '--etcd', cluster.etcdEndpoints, '--override', 'etcd.prefix=/other/', '--port', '0', '--data-dir', cluster.broker(2).dataDir], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(otherCluster.status, 0);
  assert.match(otherCluster.stderr, /belongs to cluster/);
});

test('controller failover and offline partitions: killing the controller elects another; a partition whose only replica died comes back with it', { timeout: 120_000 }, async (t) => {
  if (!requirePeers(t, 'etcd-server')) return;
  const cluster = await startProcessCluster({ brokers: 3, overrides: FAST });
  t.after(() => cluster.close());
  const admin = new Admin({ brokers: cluster.bootstrap });
  t.after(() => admin.close());
  const first = (await admin.describeCluster()).controllerId;
  const survivor = cluster.brokers.find((b) => b.nodeId !== first)!;
  await admin.createTopics([{ topic: 'solo', numPartitions: 3, replicationFactor: 1 }]);
  const killedAt = Date.now();
  await cluster.broker(first).kill9();
  const probe = new Admin({ brokers: [survivor.bootstrap] });
  t.after(() => probe.close());
  const next = await until('a new controller', async () => {
    const c = (await probe.describeCluster()).controllerId;
    return c >= 0 && c !== first ? c : false;
  });
  t.diagnostic(`controller ${first} killed; ${next} took over after ${Date.now() - killedAt} ms (session timeout ${FAST['broker.session.timeout.ms']} ms)`);
  const [solo] = await probe.describeTopics(['solo']);
  const orphan = solo.partitions.find((p) => p.replicas[0] === first)!;
  // The new controller marks it offline right after taking over (and the survivor's view follows).
  await until('its only replica gone: offline', async () => (await probe.describeTopics(['solo']))[0].partitions.find((p) => p.partition === orphan.partition)!.leader === -1, 10_000);
  await cluster.broker(first).start();
  await until('the partition back online', async () => (await probe.describeTopics(['solo']))[0].partitions.find((p) => p.partition === orphan.partition)!.leader === first);
});

test('etcd: a 3-member cluster losing one member keeps working; with etcd down brokers serve existing leaders, metadata changes fail clearly, and recover', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'etcd-server')) return;
  const cluster = await startProcessCluster({ brokers: 2, etcdMembers: 3, overrides: FAST });
  t.after(() => cluster.close());
  const admin = new Admin({ brokers: cluster.bootstrap });
  t.after(() => admin.close());
  await admin.createTopics([{ topic: 'steady', numPartitions: 2, replicationFactor: 1 }]);
  await cluster.etcd[0].kill();
  // If the killed member led etcd's Raft group, writes wait for a new etcd leader (1–3 s): the
  // broker answers REQUEST_TIMED_OUT (retriable) meanwhile, and a retry goes through.
  const lostAt = Date.now();
  await until('a metadata write with one etcd member lost', async () => (await admin.createTopics([{ topic: 'after-member-loss', numPartitions: 1, replicationFactor: 1 }], { ignoreExisting: true })).length === 1, 30_000);
  t.diagnostic(`first metadata write after losing an etcd member: ${Date.now() - lostAt} ms`);
  const producer = new Producer({ brokers: cluster.bootstrap, acks: 'all', deliveryTimeoutMs: 10_000 });
  t.after(() => producer.close());
  await producer.send({ topic: 'after-member-loss', value: 'ok' });

  // Quorum lost: the two remaining members stop too.
  await cluster.etcd[1].kill();
  await cluster.etcd[2].kill();
  for (let i = 0; i < 5; i++) await producer.send({ topic: 'steady', partition: i % 2, value: `during-outage-${i}` });
  const started = Date.now();
  await assert.rejects(admin.createTopics([{ topic: 'during-outage', numPartitions: 1, replicationFactor: 1 }]), (err: Error) => /etcd|metadata|timed out/i.test(err.message));
  t.diagnostic(`CreateTopics with etcd down failed after ${Date.now() - started} ms`);
  for (const m of cluster.etcd) m.start();
  await Promise.all(cluster.etcd.map((m) => m.ready()));
  await until('metadata writes again', async () => (await admin.createTopics([{ topic: 'after-outage', numPartitions: 1, replicationFactor: 1 }], { ignoreExisting: true })).length === 1, 60_000);
  await producer.send({ topic: 'after-outage', value: 'back' });
  assert.deepEqual((await admin.describeCluster()).brokers.map((b) => b.nodeId).sort(), [1, 2], 'both brokers registered again');
});
