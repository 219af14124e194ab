/**
 * ConsumerCoordinator against our broker: a commit carries the generation and member id the
 * membership holds and the consumed record's leader epoch (KIP-320); OffsetFetch brings the epoch
 * back; an error about an older generation does not disturb the current one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, KafkaError, type OffsetCommitRequest } from '@sluice/protocol';
import { Cluster, Connection, Consumer, Producer } from '../../src/index.js';
import { ConsumerCoordinator } from '../../src/consumer/consumer-coordinator.js';
import type { GroupMembership } from '../../src/consumer/group.js';
import { uniqueTopic, withBroker } from '../helpers.js';

/** Captures every OffsetCommit request body sent through any Connection while the test runs. */
function spyOnCommits(t: { after(fn: () => void): void }): OffsetCommitRequest[] {
  const seen: OffsetCommitRequest[] = [];
  const proto = Connection.prototype as unknown as { request: (apiKey: number, body: unknown, options?: unknown) => Promise<unknown> };
  const original = proto.request;
  proto.request = function (this: Connection, apiKey: number, body: unknown, options?: unknown) {
    if (apiKey === ApiKey.OffsetCommit) seen.push(body as OffsetCommitRequest);
    return original.call(this, apiKey, body, options);
  };
  t.after(() => {
    proto.request = original;
  });
  return seen;
}

test('a commit carries the group generation, the member id and the consumed record\'s leader epoch; OffsetFetch returns the epoch', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t, { 'group.initial.rebalance.delay.ms': 0 });
  const topic = uniqueTopic('coord');
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const producer = new Producer({ brokers: [broker.bootstrap] });
  await producer.sendBatch(Array.from({ length: 5 }, (_, i) => ({ topic, value: `v${i}` })));
  await producer.close();
  const commits = spyOnCommits(t);
  const groupId = `g-${topic}`;
  const consumer = new Consumer({ brokers: [broker.bootstrap], groupId, autoOffsetReset: 'earliest', enableAutoCommit: false });
  t.after(() => consumer.close());
  await consumer.subscribe([topic]);
  let n = 0;
  for await (const _ of consumer) if (++n === 3) break;
  const tp = { topic, partition: 0 };
  const position = consumer.positionWithEpoch(tp);
  assert.equal(position?.offset, 3n);
  assert.ok(position !== null && position.leaderEpoch !== null && position.leaderEpoch >= 0, 'the record batch carried the leader epoch');
  await consumer.commit();
  assert.equal(commits.length, 1);
  const sent = commits[0];
  assert.ok((sent.generationIdOrMemberEpoch ?? -1) >= 1, 'the generation of the joined group');
  assert.notEqual(sent.memberId, '');
  assert.deepEqual(
    sent.topics.map((t) => t.partitions.map((p) => [p.committedOffset, p.committedLeaderEpoch])),
    [[[3n, position.leaderEpoch]]],
  );
  // A coordinator without membership reads the committed position back with its epoch.
  const cluster = new Cluster({ brokers: [broker.bootstrap] });
  t.after(() => cluster.close());
  await cluster.connect();
  const reader = new ConsumerCoordinator(cluster, groupId, null);
  assert.deepEqual(reader.generation(), { generationId: -1, memberId: '' });
  const committed = await reader.fetchCommitted([tp]);
  assert.deepEqual(committed.get(`${topic}\0${0}`), { offset: 3n, leaderEpoch: position.leaderEpoch });
});

test('a commit refused for a generation the member has left behind does not ask the newer one to rejoin', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t, { 'group.initial.rebalance.delay.ms': 0 });
  const topic = uniqueTopic('coord-gen');
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const cluster = new Cluster({ brokers: [broker.bootstrap] });
  t.after(() => cluster.close());
  await cluster.connect();
  // A membership that moves to generation 8 while the commit (sent as 7) is in flight.
  let generation = { generationId: 7, memberId: 'm-1' };
  let rejoins = 0;
  const membership = {
    generation: () => {
      const g = generation;
      generation = { generationId: 8, memberId: 'm-1' };
      return g;
    },
    requestRejoin: () => rejoins++,
  } as unknown as GroupMembership;
  const commits = spyOnCommits(t);
  const coordinator = new ConsumerCoordinator(cluster, `g-${topic}`, null);
  coordinator.attach(membership);
  await assert.rejects(coordinator.commit([{ topic, partition: 0, offset: 1n, leaderEpoch: 0 }]), (e: unknown) => e instanceof KafkaError && ([ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID] as number[]).includes(e.code));
  assert.equal(commits[0].generationIdOrMemberEpoch, 7);
  assert.equal(commits[0].memberId, 'm-1');
  assert.equal(rejoins, 0, 'the error was about generation 7; the member is in 8');
});
