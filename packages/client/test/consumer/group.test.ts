import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Consumer, Producer, type Assignor, type ConsumerOptions, type TopicPartition } from '../../src/index.js';
import { uniqueTopic, withBroker, waitFor, type TestBroker } from '../helpers.js';

const BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 1000 };

async function setup(t: { after(fn: () => Promise<void>): void }, partitions: number, count: number): Promise<{ broker: TestBroker; topic: string; admin: Admin }> {
  const { broker, admin } = await withBroker(t, BROKER_CONFIG);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: partitions }]);
  if (count > 0) {
    const producer = new Producer({ brokers: [broker.bootstrap], partitioner: 'roundrobin' });
    await producer.sendBatch(Array.from({ length: count }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })));
    await producer.close();
  }
  return { broker, topic, admin };
}

type Event = { member: string; kind: 'assigned' | 'revoked' | 'lost'; partitions: number[]; at: number };

function member(broker: TestBroker, name: string, events: Event[], extra: Partial<ConsumerOptions> = {}): Consumer {
  const record = (kind: Event['kind']) => async (tps: TopicPartition[]) => {
    events.push({ member: name, kind, partitions: tps.map((tp) => tp.partition).sort(), at: performance.now() });
  };
  return new Consumer({
    brokers: [broker.bootstrap],
    groupId: 'group',
    autoOffsetReset: 'earliest',
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 200,
    maxPollIntervalMs: 30_000,
    rebalanceListener: { onPartitionsAssigned: record('assigned'), onPartitionsRevoked: record('revoked'), onPartitionsLost: record('lost') },
    ...extra,
  });
}

function consumeInBackground(c: Consumer, seen: string[], delayMs = 0): Promise<void> {
  return (async () => {
    for await (const r of c) {
      seen.push(r.value!.toString());
      if (delayMs > 0) await new Promise((res) => setTimeout(res, delayMs));
    }
  })();
}

test('cooperative-sticky: a second member takes half; partitions are revoked before they are assigned elsewhere; nothing is lost', { timeout: 120_000 }, async (t) => {
  const { broker, topic } = await setup(t, 4, 400);
  const events: Event[] = [];
  const seen: string[] = [];
  const a = member(broker, 'a', events);
  await a.subscribe([topic]);
  const runA = consumeInBackground(a, seen);
  await waitFor(() => seen.length >= 400, 60_000, 'a to read everything');
  const b = member(broker, 'b', events);
  // Closed here too so that a failing assertion cannot leave two consumers reconnecting forever.
  t.after(async () => {
    await Promise.allSettled([a.close(), b.close()]);
  });
  await b.subscribe([topic]);
  const runB = consumeInBackground(b, seen);
  // The assignment is visible before onPartitionsAssigned has run (as in Kafka's consumer), so wait for the callbacks too.
  const bGotPartitions = () => events.some((e) => e.member === 'b' && e.kind === 'assigned' && e.partitions.length > 0);
  await waitFor(() => a.assignment().length === 2 && b.assignment().length === 2 && bGotPartitions(), 60_000, 'balance');
  const story = () => JSON.stringify(events.map(({ member, kind, partitions }) => ({ member, kind, partitions })));
  // a never gave up the partitions it kept: the cooperative protocol revokes only what moves.
  const aRevoked = events.filter((e) => e.member === 'a' && e.kind === 'revoked');
  assert.equal(aRevoked.length, 1, story());
  assert.equal(aRevoked[0].partitions.length, 2, story());
  const bAssigned = events.find((e) => e.member === 'b' && e.kind === 'assigned' && e.partitions.length > 0)!;
  assert.deepEqual(bAssigned.partitions, aRevoked[0].partitions, story());
  assert.ok(aRevoked[0].at < bAssigned.at, 'revoked before assigned elsewhere');
  // New records reach whichever member owns their partition, exactly once.
  const producer = new Producer({ brokers: [broker.bootstrap], partitioner: 'roundrobin' });
  await producer.sendBatch(Array.from({ length: 100 }, (_, i) => ({ topic, value: `late${i}` })));
  await producer.close();
  await waitFor(() => seen.filter((v) => v.startsWith('late')).length >= 100, 60_000, 'late records');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(seen.filter((v) => v.startsWith('late')).length, 100, 'no duplicates after the handover');
  await b.close();
  await a.close();
  await Promise.all([runA, runB]);
});

test('eager range: every member revokes everything before the rebalance, then gets its range', { timeout: 120_000 }, async (t) => {
  const { broker, topic } = await setup(t, 4, 0);
  const events: Event[] = [];
  const a = member(broker, 'a', events, { assignors: ['range'] });
  await a.subscribe([topic]);
  const runA = consumeInBackground(a, []);
  await waitFor(() => a.assignment().length === 4, 60_000, 'a gets all');
  const b = member(broker, 'b', events, { assignors: ['range'] });
  await b.subscribe([topic]);
  const runB = consumeInBackground(b, []);
  // The assignment is visible before onPartitionsAssigned has run (as in Kafka's consumer), so wait for the callbacks too.
  const assignedCount = (name: string) => events.filter((e) => e.member === name && e.kind === 'assigned').length;
  await waitFor(() => a.assignment().length === 2 && b.assignment().length === 2 && assignedCount('a') === 2 && assignedCount('b') === 1, 60_000, 'balance');
  const aEvents = events.filter((e) => e.member === 'a').map((e) => `${e.kind}:${e.partitions.join(',')}`);
  assert.deepEqual(aEvents, ['assigned:0,1,2,3', 'revoked:0,1,2,3', `assigned:${a.assignment().map((tp) => tp.partition).sort().join(',')}`]);
  const ranges = [a.assignment(), b.assignment()].map((l) => l.map((tp) => tp.partition).sort().join(','));
  assert.deepEqual(ranges.sort(), ['0,1', '2,3']);
  await a.close();
  await b.close();
  await Promise.all([runA, runB]);
});

test('processing one record longer than session.timeout.ms but within max.poll.interval.ms keeps the partitions', { timeout: 120_000 }, async (t) => {
  const { broker, topic, admin } = await setup(t, 2, 10);
  const events: Event[] = [];
  const c = member(broker, 'slow', events, { sessionTimeoutMs: 4_000, heartbeatIntervalMs: 300, maxPollIntervalMs: 30_000 });
  await c.subscribe([topic]);
  const seen: string[] = [];
  let slowDone = false;
  const running = (async () => {
    for await (const r of c) {
      seen.push(r.value!.toString());
      if (seen.length === 1) {
        await new Promise((res) => setTimeout(res, 10_000)); // 2.5 × session.timeout.ms
        slowDone = true;
      }
    }
  })();
  await waitFor(() => seen.length === 10, 60_000, 'all records');
  assert.ok(slowDone);
  assert.deepEqual(events.map((e) => e.kind), ['assigned'], 'no revocation, no loss');
  const [described] = await admin.describeGroups(['group']);
  assert.equal(described.state, 'Stable');
  assert.equal(described.members.length, 1);
  assert.equal(c.assignment().length, 2);
  await c.close();
  await running;
});

test('holding a record past max.poll.interval.ms: the member leaves, reports the partitions lost, and rejoins', { timeout: 120_000 }, async (t) => {
  const { broker, topic } = await setup(t, 1, 3);
  const events: Event[] = [];
  const c = member(broker, 'stuck', events, { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 200, maxPollIntervalMs: 1_500 });
  await c.subscribe([topic]);
  const seen: string[] = [];
  const running = (async () => {
    for await (const r of c) {
      seen.push(r.value!.toString());
      if (seen.length === 1) await new Promise((res) => setTimeout(res, 4_000));
    }
  })();
  await waitFor(() => events.some((e) => e.kind === 'lost') && c.assignment().length === 1 && events.filter((e) => e.kind === 'assigned').length >= 2, 60_000, 'lost and reassigned');
  const kinds = events.map((e) => e.kind);
  assert.deepEqual(kinds.slice(0, 3), ['assigned', 'lost', 'assigned']);
  await waitFor(() => seen.length >= 3, 30_000, 'rest of the records');
  // v0 was never committed (the member lost it mid-processing), so it is read again.
  assert.equal(seen[0], 'v0');
  await c.close();
  await running;
});

test('static membership: a member that restarts with its group.instance.id gets its partitions back without a rebalance of the others', { timeout: 120_000 }, async (t) => {
  const { broker, topic } = await setup(t, 4, 0);
  const events: Event[] = [];
  const a = member(broker, 'a', events, { groupInstanceId: 'instance-a', assignors: ['range'] });
  const b = member(broker, 'b', events, { groupInstanceId: 'instance-b', assignors: ['range'] });
  await a.subscribe([topic]);
  const runA = consumeInBackground(a, []);
  await waitFor(() => a.assignment().length === 4, 60_000, 'a alone');
  await b.subscribe([topic]);
  const runB = consumeInBackground(b, []);
  const assignedCount = (name: string) => events.filter((e) => e.member === name && e.kind === 'assigned').length;
  await waitFor(() => a.assignment().length === 2 && b.assignment().length === 2 && assignedCount('a') === 2 && assignedCount('b') === 1, 60_000, 'balanced');
  const bPartitions = b.assignment().map((tp) => tp.partition).sort();
  const aEventsBefore = events.filter((e) => e.member === 'a').length;
  await b.close();
  await runB;
  const b2 = member(broker, 'b2', events, { groupInstanceId: 'instance-b', assignors: ['range'] });
  await b2.subscribe([topic]);
  const runB2 = consumeInBackground(b2, []);
  await waitFor(() => b2.assignment().length === 2 && assignedCount('b2') === 1, 60_000, 'b back');
  assert.deepEqual(b2.assignment().map((tp) => tp.partition).sort(), bPartitions);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(events.filter((e) => e.member === 'a').length, aEventsBefore, 'a saw no rebalance');
  await b2.close();
  await a.close();
  await Promise.all([runA, runB2]);
});

test('subscribe to a pattern: matching topics are consumed, others not', { timeout: 120_000 }, async (t) => {
  const { broker, admin } = await withBroker(t, BROKER_CONFIG);
  const prefix = uniqueTopic('pat');
  await admin.createTopics([{ topic: `${prefix}.orders`, numPartitions: 1 }, { topic: `${prefix}.users`, numPartitions: 1 }, { topic: `other-${prefix}`, numPartitions: 1 }]);
  const producer = new Producer({ brokers: [broker.bootstrap] });
  for (const topic of [`${prefix}.orders`, `${prefix}.users`, `other-${prefix}`]) await producer.send({ topic, value: topic });
  await producer.close();
  const c = new Consumer({ brokers: [broker.bootstrap], groupId: 'pattern', autoOffsetReset: 'earliest', heartbeatIntervalMs: 200 });
  await c.subscribe(new RegExp(`^${prefix.replace(/[-.]/g, '\\$&')}\\.`));
  const seen: string[] = [];
  const running = consumeInBackground(c, seen);
  await waitFor(() => seen.length === 2, 60_000, 'pattern topics');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(seen.sort(), [`${prefix}.orders`, `${prefix}.users`]);
  await c.close();
  await running;
});

test('a topic created after subscribe that matches the pattern, and partitions added to a subscribed topic, are picked up', { timeout: 120_000 }, async (t) => {
  const { broker, admin } = await withBroker(t, BROKER_CONFIG);
  const prefix = uniqueTopic('watch');
  await admin.createTopics([{ topic: `${prefix}.a`, numPartitions: 1 }]);
  const c = new Consumer({ brokers: [broker.bootstrap], groupId: 'watch', autoOffsetReset: 'earliest', heartbeatIntervalMs: 200, metadataMaxAgeMs: 300 });
  await c.subscribe(new RegExp(`^${prefix.replace(/[-.]/g, '\\$&')}\\.`));
  const seen: string[] = [];
  const running = consumeInBackground(c, seen);
  await waitFor(() => c.assignment().length === 1, 60_000, 'first topic');
  await admin.createTopics([{ topic: `${prefix}.b`, numPartitions: 1 }]);
  await waitFor(() => c.assignment().length === 2, 60_000, 'new matching topic assigned');
  await admin.createPartitions([{ topic: `${prefix}.a`, count: 3 }]);
  await waitFor(() => c.assignment().length === 4, 60_000, 'added partitions assigned');
  const producer = new Producer({ brokers: [broker.bootstrap] });
  await producer.send({ topic: `${prefix}.b`, value: 'on-b' });
  await producer.send({ topic: `${prefix}.a`, partition: 2, value: 'on-a2' });
  await producer.close();
  await waitFor(() => seen.length === 2, 60_000, 'records on the new topic and partition');
  assert.deepEqual(seen.sort(), ['on-a2', 'on-b']);
  await c.close();
  await running;
});

test("an assignor's subscription user data reaches the leader's assign() from every member, under the eager protocol too", { timeout: 120_000 }, async (t) => {
  const { broker, topic } = await setup(t, 2, 0);
  const seenByLeader: string[][] = [];
  const assignor = (name: string): Assignor => ({
    name: 'with-user-data',
    protocol: 'eager',
    subscriptionUserData: () => Buffer.from(`held-by-${name}`),
    assign(members, partitionsPerTopic) {
      seenByLeader.push(members.map((m) => m.userData?.toString() ?? 'none').sort());
      const ranged = new Map(members.map((m) => [m.memberId, [] as TopicPartition[]]));
      const ids = [...ranged.keys()].sort();
      for (let p = 0; p < (partitionsPerTopic.get(topic) ?? 0); p++) ranged.get(ids[p % ids.length])!.push({ topic, partition: p });
      return ranged;
    },
  });
  const events: Event[] = [];
  const a = member(broker, 'a', events, { assignors: [assignor('a')] });
  const b = member(broker, 'b', events, { assignors: [assignor('b')] });
  t.after(async () => {
    await Promise.allSettled([a.close(), b.close()]);
  });
  await a.subscribe([topic]);
  const runA = consumeInBackground(a, []);
  await waitFor(() => a.assignment().length === 2, 60_000, 'a alone');
  await b.subscribe([topic]);
  const runB = consumeInBackground(b, []);
  await waitFor(() => a.assignment().length === 1 && b.assignment().length === 1, 60_000, 'both members');
  assert.deepEqual(seenByLeader[0], ['held-by-a']);
  assert.deepEqual(seenByLeader.at(-1), ['held-by-a', 'held-by-b']);
  await b.close();
  await a.close();
  await Promise.all([runA, runB]);
});
