/** Partition state in the file-backed store: alterPartition's compare-and-swap, and broker epochs, across reopening. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@sluice/protocol';
import { FileMetadataStore } from '../../src/metadata/file-metadata-store.js';
import { partitionState, randomTopicId, type MetadataChange } from '../../src/metadata/metadata-store.js';

test('alterPartition swaps on the partition epoch, bumps the leader epoch on a new leader, and survives reopening', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FileMetadataStore(dir);
  await store.open();
  const changes: MetadataChange[] = [];
  store.onChange((c) => changes.push(c));
  // A record without partition state (as files written before it) reads as ISR = replicas, epoch 0.
  await store.createTopic({ name: 'p', topicId: randomTopicId(), internal: false, partitions: [{ partition: 0, replicas: [1, 2], leader: 1, leaderEpoch: 0 }], configs: {}, createdAtMs: 0 });
  assert.deepEqual(partitionState(store.topic('p')!.partitions[0]), { partition: 0, replicas: [1, 2], leader: 1, leaderEpoch: 0, isr: [1, 2], partitionEpoch: 0, addingReplicas: [], removingReplicas: [] });

  const shrunk = await store.alterPartition('p', 0, 0, { isr: [1] });
  assert.deepEqual([shrunk.isr, shrunk.partitionEpoch, shrunk.leaderEpoch], [[1], 1, 0]);
  await assert.rejects(store.alterPartition('p', 0, 0, { isr: [1, 2] }), (err: { code?: number }) => err.code === ErrorCode.INVALID_UPDATE_VERSION);
  await assert.rejects(store.alterPartition('p', 0, 1, { isr: [1, 3] }), (err: { code?: number }) => err.code === ErrorCode.INELIGIBLE_REPLICA);
  const moved = await store.alterPartition('p', 0, 1, { leader: 2, isr: [2] });
  assert.deepEqual([moved.leader, moved.leaderEpoch, moved.partitionEpoch], [2, 1, 2]);
  const last = changes.at(-1)!;
  assert.equal(last.kind, 'partition-changed');
  if (last.kind === 'partition-changed') assert.deepEqual([last.previous.leader, last.current.leader], [1, 2]);

  const first = await store.registerBroker({ nodeId: 1, host: 'h', port: 1, rack: null });
  assert.equal(store.controllerId(), 1);
  await store.close();

  const reopened = new FileMetadataStore(dir);
  await reopened.open();
  assert.deepEqual(partitionState(reopened.topic('p')!.partitions[0]), { partition: 0, replicas: [1, 2], leader: 2, leaderEpoch: 1, isr: [2], partitionEpoch: 2, addingReplicas: [], removingReplicas: [] });
  const again = await reopened.registerBroker({ nodeId: 1, host: 'h', port: 2, rack: null });
  assert.ok(again.brokerEpoch > first.brokerEpoch, 'a re-registration gets a newer broker epoch');
  assert.deepEqual(reopened.brokers().map((b) => [b.nodeId, b.port]), [[1, 2]]);
  await reopened.close();
});
