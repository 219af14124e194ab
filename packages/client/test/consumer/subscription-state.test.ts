/**
 * SubscriptionState: positions carry the leader epoch of the record before them (KIP-320); stale
 * positions (after a seek, pause or revoke) never come back. And against the scripted broker:
 * fetches send the leader epoch metadata gave, and FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH
 * refresh metadata and retry instead of failing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@sluice/protocol';
import { Consumer, MisuseError, Producer } from '../../src/index.js';
import { SubscriptionState, leaderEpochOf, type FetchedBatch } from '../../src/consumer/subscription-state.js';
import { startScriptedCluster } from '../scripted-broker.js';

test('SubscriptionState: positions with leader epochs; seek, pause and remove make older positions stale', () => {
  const subs = new SubscriptionState('earliest');
  let nudges = 0;
  subs.onPositionsChanged = () => nudges++;
  const tp = { topic: 't', partition: 0 };
  const [s] = subs.add([tp]);
  assert.deepEqual(subs.assignment(), [tp]);
  assert.equal(subs.position(tp), null, 'no position before one is known');
  subs.seek(s, { offset: 10n, leaderEpoch: 3 });
  assert.deepEqual(subs.position(tp), { offset: 10n, leaderEpoch: 3 });
  assert.equal(nudges, 1);
  subs.fetched(s, 20n, 4);
  assert.equal(s.fetchPosition, 20n);
  assert.equal(s.fetchLeaderEpoch, 4);
  const version = s.version;
  subs.consumed(s, version, 15n, 4);
  assert.deepEqual(subs.position(tp), { offset: 15n, leaderEpoch: 4 });
  // -1 (a batch without an epoch) is no epoch.
  subs.consumed(s, version, 16n, -1);
  assert.deepEqual(subs.position(tp), { offset: 16n, leaderEpoch: null });
  subs.consumed(s, version, 17n, 4);
  // A pause drops what was fetched ahead: fetching resumes from the consumed position and its epoch.
  subs.pause(tp);
  assert.deepEqual(subs.paused(), [tp]);
  assert.equal(s.fetchPosition, 17n);
  assert.equal(s.fetchLeaderEpoch, 4);
  subs.consumed(s, version, 18n, 4);
  assert.deepEqual(subs.position(tp), { offset: 17n, leaderEpoch: 4 }, 'a record handed out before the pause does not move the position');
  subs.resume(tp);
  assert.deepEqual(subs.paused(), []);
  // A seek without an epoch (the application's offset) has none.
  subs.seek(s, { offset: 5n, leaderEpoch: null });
  assert.deepEqual(subs.position(tp), { offset: 5n, leaderEpoch: null });
  assert.ok(subs.remove(tp));
  assert.equal(subs.size, 0);
  assert.throws(() => subs.position(tp), MisuseError);
  assert.equal(subs.resetStrategy, 'earliest');
});

test('leaderEpochOf follows the record batches of one fetch', () => {
  const b = { epochs: [{ lastOffset: 4n, leaderEpoch: 1 }, { lastOffset: 9n, leaderEpoch: 2 }], epochAt: 0 } as unknown as FetchedBatch;
  assert.deepEqual([0n, 4n, 5n, 9n].map((o) => leaderEpochOf(b, o)), [1, 1, 2, 2]);
});

test('scripted broker: fetches carry currentLeaderEpoch; FENCED_LEADER_EPOCH and UNKNOWN_LEADER_EPOCH refresh metadata and retry; positions carry the records\' epoch', { timeout: 30_000 }, async (t) => {
  const cluster = await startScriptedCluster({});
  t.after(() => cluster.close());
  cluster.leaderEpoch = 7;
  const producer = new Producer({ brokers: [cluster.bootstrap], lingerMs: 0 });
  await producer.sendBatch(['a', 'b', 'c'].map((value) => ({ topic: 't', value })));
  await producer.close();
  cluster.fetchErrors.push(ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH);
  const consumer = new Consumer({ brokers: [cluster.bootstrap], autoOffsetReset: 'earliest', retry: { initialRetryTimeMs: 10 } });
  t.after(() => consumer.close());
  const tp = { topic: 't', partition: 0 };
  await consumer.assign([tp]);
  const got: string[] = [];
  for await (const r of consumer) {
    got.push(r.value!.toString());
    if (got.length === 3) break;
  }
  assert.deepEqual(got, ['a', 'b', 'c']);
  assert.ok(cluster.fetchRequests.length >= 3, 'fenced, unknown, then served');
  assert.ok(cluster.fetchRequests.every((f) => f.currentLeaderEpoch === 7), 'every fetch names the leader epoch from metadata');
  assert.deepEqual(cluster.fetchRequests.slice(0, 3).map((f) => f.fetchOffset), [0n, 0n, 0n], 'the same position retried');
  assert.deepEqual(consumer.positionWithEpoch(tp), { offset: 3n, leaderEpoch: 7 });
});
