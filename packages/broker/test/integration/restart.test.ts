/** Topics, ids, configs (topic and dynamic broker) and data survive a restart on the same data directory. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKey, ErrorCode, buildRecordBatch, readRecordBatch } from '@sluice/protocol';
import { RawClient, startTestBroker, tempDir } from '../helpers.js';

test('restart keeps topics, ids, configs and records, and shuts down cleanly', async (t) => {
  const dataDir = tempDir();
  const first = await startTestBroker({}, dataDir);
  const c = await RawClient.connect(first.broker.port);
  const created = await c.send(ApiKey.CreateTopics, 7, {
    topics: [{ name: 'durable', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.bytes', value: '99999999' }] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  const topicId = created.topics[0].topicId;
  for (let i = 0; i < 10; i++) {
    const records = buildRecordBatch([{ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: BigInt(Date.now()) }]);
    const r = await c.send(ApiKey.Produce, 11, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'durable', partitionData: [{ index: i % 2, records }] }] });
    assert.equal(r.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
  }
  const altered = await c.send(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 4, resourceName: '1', configs: [{ name: 'log.retention.ms', configOperation: 0, value: '7200000' }] }], validateOnly: false });
  assert.equal(altered.responses[0].errorCode, ErrorCode.NONE);
  c.close();
  await first.stop();
  assert.ok(existsSync(join(dataDir, '.kafka_cleanshutdown')), 'clean-shutdown marker written');

  const second = await startTestBroker({}, dataDir);
  // While a broker runs on the directory, a second one is refused.
  await assert.rejects(startTestBroker({}, dataDir), /data directory .* is in use/);
  t.after(async () => {
    await second.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  assert.equal(second.broker.clusterId, first.broker.clusterId);
  const d = await RawClient.connect(second.broker.port);
  t.after(() => d.close());
  const md = await d.send(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.equal(md.topics.length, 1);
  assert.equal(md.topics[0].topicId, topicId);
  assert.equal(md.topics[0].partitions.length, 2);
  const cfg = await d.send(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: 'durable', configurationKeys: ['retention.bytes', 'retention.ms'] }], includeSynonyms: false, includeDocumentation: false });
  const values = new Map(cfg.results[0].configs.map((e) => [e.name, e.value]));
  assert.equal(values.get('retention.bytes'), '99999999');
  assert.equal(values.get('retention.ms'), '7200000');
  assert.equal(second.broker.context.replicaManager.getPartition('durable', 0)!.log.config.retentionMs, 7200000);
  for (const partition of [0, 1]) {
    const f = await d.send(ApiKey.Fetch, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'durable', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const p = f.responses[0].partitions[0];
    assert.equal(p.highWatermark, 5n);
    const values: string[] = [];
    for (let pos = 0; pos < p.records!.length; ) {
      const batch = readRecordBatch(p.records!, pos);
      values.push(...batch.records.map((r) => r.value!.toString()));
      pos += batch.size;
    }
    assert.deepEqual(values, [0, 1, 2, 3, 4].map((i) => `v${i * 2 + partition}`));
  }
});
