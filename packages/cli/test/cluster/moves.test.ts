/**
 * `sluice cluster rebalance` and `remove-broker` against in-process brokers sharing one cluster
 * metadata. The brokers here do not replicate, so the test plays the leaders' part of a
 * reassignment: a new replica joins the ISR (the controller then finishes the move).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryClusterMetadata } from '@sluice/broker';
import { run, startTestBroker, type TestBroker } from '../helpers.js';

test('rebalance gives a new broker its share; remove-broker empties one; --dry-run changes nothing', async (t) => {
  const cluster = new InMemoryClusterMetadata();
  const brokers: TestBroker[] = [];
  let stopped = false;
  t.after(async () => {
    stopped = true;
    for (const b of brokers) await b.stop();
  });
  for (const nodeId of [1, 2, 3]) brokers.push(await startTestBroker({ nodeId, metadataStore: cluster.storeFor(nodeId), 'auto.leader.rebalance.enable': false }));
  const layouts = [[1, 2], [2, 3], [3, 1], [1, 2], [2, 3], [3, 1]];
  await brokers[0].broker.context.topics.create({ name: 'rb', numPartitions: -1, replicationFactor: -1, assignments: layouts.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })) });
  brokers.push(await startTestBroker({ nodeId: 4, metadataStore: cluster.storeFor(4), 'auto.leader.rebalance.enable': false }));
  // The leaders' part: adding replicas catch up and join the ISR.
  const catchUp = (async () => {
    while (!stopped) {
      for (const [name, topic] of cluster.topicsByName) {
        for (const p of topic.partitions) {
          if (p.addingReplicas?.length && !p.addingReplicas.every((id) => p.isr!.includes(id))) {
            await cluster.storeFor(1).alterPartition(name, p.partition, p.partitionEpoch!, { isr: [...new Set([...p.isr!, ...p.addingReplicas])] }).catch(() => undefined);
          }
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  t.after(() => catchUp);
  const bootstrap = brokers.map((b) => b.bootstrap).join(',');
  const replicasOn = (id: number) => [...cluster.topicsByName.get('rb')!.partitions].filter((p) => p.replicas.includes(id)).length;

  let r = await run('cluster', ['rebalance', '--bootstrap-server', bootstrap, '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /BROKER\s+REPLICAS\s+PREFERRED LEADERS\s+BYTES/);
  assert.match(r.stdout, /4\s+0 -> 3/);
  assert.match(r.stdout, /"version":1,"partitions":\[/);
  assert.equal(replicasOn(4), 0, 'dry run changed nothing');

  // With a throttle (high enough not to slow the test): set for the copy, gone afterwards.
  r = await run('cluster', ['rebalance', '--bootstrap-server', bootstrap, '--throttle', '50000000']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /replication throttled to 50000000 B\/s on brokers [\d,]*4/);
  assert.match(r.stdout, /done in/);
  for (const id of [1, 2, 3, 4]) assert.equal(replicasOn(id), 3, `broker ${id}`);
  for (const b of brokers) assert.equal(b.broker.context.config.rawValue('follower.replication.throttled.rate'), null, 'throttle cleared');
  assert.deepEqual(cluster.topicsByName.get('rb')!.configs, {}, 'throttled replica lists cleared');

  r = await run('cluster', ['remove-broker', '2', '--bootstrap-server', bootstrap]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /broker 2 holds 0 replica\(s\); it can be stopped/);
  assert.equal(replicasOn(2), 0);
  assert.ok(cluster.topicsByName.get('rb')!.partitions.every((p) => p.replicas.length === 2 && new Set(p.replicas).size === 2));

  r = await run('cluster', ['remove-broker', '9', '--bootstrap-server', bootstrap]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /broker 9 is not in the cluster/);
  r = await run('cluster', ['remove-broker', 'x', '--bootstrap-server', bootstrap]);
  assert.equal(r.code, 2);
  r = await run('cluster', ['rebalance', '--bootstrap-server', bootstrap, '--throttle', '10MB']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--throttle/);
});
