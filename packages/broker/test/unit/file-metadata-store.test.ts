import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileMetadataStore } from '../../src/metadata/file-metadata-store.js';
import { randomTopicId, TopicExistsError, UnknownTopicError, type TopicMetadata } from '../../src/metadata/metadata-store.js';

function topic(name: string, partitions = 2): TopicMetadata {
  return {
    name,
    topicId: randomTopicId(),
    internal: false,
    partitions: Array.from({ length: partitions }, (_, p) => ({ partition: p, replicas: [1], leader: 1, leaderEpoch: 0 })),
    configs: {},
    createdAtMs: Date.now(),
  };
}

test('topics, configs and broker configs survive reopening', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FileMetadataStore(dir);
  await store.open();
  const clusterId = store.clusterId;
  const a = topic('a');
  await store.createTopic(a);
  await store.createTopic(topic('b', 1));
  await store.setTopicConfigs('a', { 'retention.ms': '1000' });
  await store.addPartitions('a', [{ partition: 2, replicas: [1], leader: 1, leaderEpoch: 0 }]);
  await store.setBrokerConfigs('', { 'message.max.bytes': '5000' });
  await store.setBrokerConfigs('1', { 'sasl.kerberos.min.time.before.relogin': '58000' });
  const deleted = await store.deleteTopic('b');
  assert.equal(deleted.name, 'b');
  await store.close();

  const reopened = new FileMetadataStore(dir);
  await reopened.open();
  assert.equal(reopened.clusterId, clusterId);
  assert.deepEqual(reopened.topics().map((x) => x.name), ['a']);
  const loaded = reopened.topicById(a.topicId)!;
  assert.equal(loaded.name, 'a');
  assert.equal(loaded.partitions.length, 3);
  assert.deepEqual(loaded.configs, { 'retention.ms': '1000' });
  assert.deepEqual(reopened.brokerConfigs(''), { 'message.max.bytes': '5000' });
  assert.deepEqual(reopened.brokerConfigs('1'), { 'sasl.kerberos.min.time.before.relogin': '58000' });
  assert.deepEqual(reopened.brokerConfigs('2'), {});
  assert.equal(reopened.topic('b'), undefined);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('conflicts and unknown topics are typed errors; listeners see each change in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FileMetadataStore(dir);
  await store.open();
  const kinds: string[] = [];
  store.onChange((c) => kinds.push(c.kind));
  const results = await Promise.allSettled([store.createTopic(topic('x')), store.createTopic(topic('x')), store.deleteTopic('nope')]);
  assert.equal(results[0].status, 'fulfilled');
  assert.ok(results[1].status === 'rejected' && results[1].reason instanceof TopicExistsError);
  assert.ok(results[2].status === 'rejected' && results[2].reason instanceof UnknownTopicError);
  await store.setTopicConfigs('x', {});
  assert.deepEqual(kinds, ['topic-created', 'topic-configs']);
});

test('topic ids look like Kafka ids', () => {
  for (let i = 0; i < 200; i++) {
    const id = randomTopicId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
});

test('a data directory of another cluster is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FileMetadataStore(dir, 'cluster-one');
  await store.open();
  await assert.rejects(new FileMetadataStore(dir, 'cluster-two').open(), /belongs to cluster cluster-one/);
});
