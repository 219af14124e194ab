/** KIP-951: NOT_LEADER_OR_FOLLOWER answers name the current leader and its endpoint. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, buildRecordBatch } from '@sluice/protocol';
import { RawClient } from '../helpers.js';
import { settle, startCluster } from '../replica/cluster.js';

test('Produce v10+ to a follower carries the leader, its epoch and endpoint; older versions do not', async (t) => {
  const { brokers } = await startCluster(t, [1, 2]);
  await brokers[0].broker.context.topics.create({ name: 'hint', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2, 1] }] });
  await settle(brokers);
  const c = await RawClient.connect(brokers[0].broker.port);
  t.after(() => c.close());
  const records = buildRecordBatch([{ key: null, value: Buffer.from('x'), timestamp: BigInt(Date.now()) }]);
  const r = await c.send(ApiKey.Produce, 11, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'hint', partitionData: [{ index: 0, records }] }] });
  const p = r.responses[0].partitionResponses[0];
  assert.equal(p.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.deepEqual(p.currentLeader, { leaderId: 2, leaderEpoch: 0 });
  assert.deepEqual(r.nodeEndpoints?.map((e) => [e.nodeId, e.port]), [[2, brokers[1].broker.port]]);
  const old = await c.send(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'hint', partitionData: [{ index: 0, records }] }] });
  assert.equal(old.responses[0].partitionResponses[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
});
