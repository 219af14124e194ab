/**
 * Cluster metrics from the cluster's real state: three brokers sharing one metadata store, each
 * serving /metrics. One active controller in total; when a broker goes away its partition without
 * another replica is offline on the controller and the replicated one is under-replicated on its
 * leader once the ISR shrinks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, startCluster } from '../replica/cluster.js';
import { scrape, value } from './scrape.js';

test('cluster: active controller count, under-replicated and offline partitions follow a broker loss', { timeout: 60_000 }, async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2, 3], { 'metrics.port': 0, 'replica.fetch.wait.max.ms': 100, 'replica.fetch.backoff.ms': 50, 'replica.lag.time.max.ms': 600 });
  const ctx = brokers.map((b) => b.broker.context);
  await ctx[0].topics.create({ name: 'rf3', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }], configs: {} });
  await ctx[0].topics.create({ name: 'solo', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [3] }], configs: {} });
  await settle(brokers);
  const pages = async (which = brokers) => Promise.all(which.map((b) => scrape(b.broker.metricsEndpoint!.port)));
  const total = (ps: string[], name: string) => ps.reduce((n, p) => n + value(p, name), 0);

  let ps = await pages();
  assert.equal(total(ps, 'kafka_controller_kafkacontroller_activecontrollercount'), 1);
  // rf3 has a replica on every broker; solo only on broker 3.
  assert.deepEqual(ps.map((p) => value(p, 'kafka_topic_partition_replicas', { topic: 'rf3' }) + value(p, 'kafka_log_log_logendoffset', { topic: 'rf3' })), [3, 0, 0]);
  assert.equal(value(ps[2], 'kafka_log_log_numlogsegments', { topic: 'solo' }), 1);
  assert.equal(total(ps, 'kafka_server_replicamanager_underreplicatedpartitions'), 0);
  assert.equal(total(ps, 'kafka_controller_kafkacontroller_offlinepartitionscount'), 0);
  assert.equal(value(ps[0], 'kafka_brokers'), 3);

  // Broker 3 goes away (its session expires): 'solo' has no live replica left, and 'rf3' loses one.
  await brokers[2].stop();
  await cluster.expireBroker(3).catch(() => undefined);
  const live = brokers.slice(0, 2);
  let last: string[] = [];
  const deadline = Date.now() + 20_000;
  for (;;) {
    last = await pages(live);
    const offline = total(last, 'kafka_controller_kafkacontroller_offlinepartitionscount');
    const under = total(last, 'kafka_server_replicamanager_underreplicatedpartitions');
    if (offline >= 1 && under >= 1 && total(last, 'kafka_controller_kafkacontroller_activecontrollercount') === 1) break;
    if (Date.now() > deadline) assert.fail(`offline ${offline}, under-replicated ${under}, controllers ${total(last, 'kafka_controller_kafkacontroller_activecontrollercount')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(value(last[0], 'kafka_brokers'), 2);
});
