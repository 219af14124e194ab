/**
 * Consumer lag on a live broker: groups commit through the Kafka protocol while records are
 * produced, and the broker's evaluator gives Burrow's verdicts — a group committing the same
 * offset while data arrives goes STALL and, once it stops committing, STOP; one that consumes but
 * falls further behind goes WARN; one whose offset goes back REWIND; a caught-up group OK. Read
 * through the Burrow-shaped JSON and the metrics page; lag in seconds from record timestamps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { Producer } from '@sluice/client';
import { RawClient, startTestBroker } from '../helpers.js';
import { scrape, value } from './scrape.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('lag: STALL then STOP, WARN, REWIND and OK by Burrow\'s rules; lag in records and seconds', { timeout: 60_000 }, async (t) => {
  const tb = await startTestBroker({ 'num.partitions': 1, 'metrics.port': 0, 'metrics.lag.min.distance.ms': 0 });
  t.after(() => tb.dispose());
  const port = tb.broker.metricsEndpoint!.port;
  const cluster = tb.broker.clusterId;
  const client = await RawClient.connect(tb.broker.port);
  t.after(() => client.socket.destroy());
  const created = await client.send(ApiKey.CreateTopics, 5, { topics: [{ name: 'lagging', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
  // Records stamped a minute ago, so lag in seconds is about 60.
  const producer = new Producer({ brokers: [tb.bootstrap], lingerMs: 0, acks: 1 });
  await producer.connect();
  t.after(() => producer.close());
  const produce = async (n: number) => {
    for (let i = 0; i < n; i++) await producer.send({ topic: 'lagging', value: `v${i}`, timestamp: Date.now() - 60_000 });
  };
  const commit = async (group: string, offset: number) => {
    const r = await client.send(ApiKey.OffsetCommit, 8, {
      groupId: group,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'lagging', partitions: [{ partitionIndex: 0, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    assert.equal(r.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  };
  const lagOf = async (group: string) => {
    const r = await fetch(`http://127.0.0.1:${port}/v3/kafka/${cluster}/consumer/${group}/lag`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { error: boolean; status: { status: string; totallag: number; partitions: { status: string; current_lag: number; end: { offset: number } }[] } };
    assert.equal(body.error, false);
    return body.status;
  };

  await produce(10);
  // stalled: commits offset 2 again and again while records keep arriving.
  // slow: its offset moves, but less than what is produced between commits.
  // rewound: its offset goes back.
  // fine: commits the log end.
  for (let round = 0; round < 4; round++) {
    await produce(5);
    await commit('stalled', 2);
    await commit('slow', 2 + round);
    await commit('rewound', round === 3 ? 1 : 3 + round);
    await commit('fine', 15 + round * 5);
    await sleep(150);
  }
  assert.equal((await lagOf('stalled')).status, 'ERR');
  assert.equal((await lagOf('stalled')).partitions[0].status, 'STALL');
  const slow = await lagOf('slow');
  assert.equal(slow.status, 'WARN');
  assert.equal(slow.partitions[0].current_lag, 30 - 5);
  assert.equal(slow.partitions[0].end.offset, 5);
  assert.equal((await lagOf('rewound')).partitions[0].status, 'REWIND');
  const fine = await lagOf('fine');
  assert.equal(fine.status, 'OK');
  assert.equal(fine.totallag, 0);

  const page = await scrape(port);
  assert.equal(value(page, 'kafka_consumergroup_lag', { consumergroup: 'stalled', topic: 'lagging', partition: '0' }), 28);
  assert.equal(value(page, 'kafka_consumergroup_current_offset', { consumergroup: 'slow', topic: 'lagging', partition: '0' }), 5);
  assert.equal(value(page, 'burrow_kafka_consumer_partition_status', { consumergroup: 'stalled' }), 5);
  assert.equal(value(page, 'burrow_kafka_consumer_partition_status', { consumergroup: 'rewound' }), 6);
  assert.equal(value(page, 'burrow_kafka_consumer_status', { consumergroup: 'slow' }), 2);
  assert.equal(value(page, 'burrow_kafka_consumer_status', { consumergroup: 'fine' }), 1);
  const seconds = value(page, 'kafka_consumergroup_lag_seconds', { consumergroup: 'stalled' });
  assert.ok(seconds >= 59 && seconds < 120, `lag of ${seconds} s for records stamped 60 s ago`);
  assert.equal(value(page, 'kafka_consumergroup_lag_seconds', { consumergroup: 'fine' }), 0);

  // No more commits: once the silence outlasts the window's span (first to last commit), the
  // stalled group is STOP. Waited for rather than slept, as the span depends on the machine.
  await produce(1);
  const deadline = Date.now() + 15_000;
  while ((await lagOf('stalled')).partitions[0].status !== 'STOP') {
    assert.ok(Date.now() < deadline, 'the stalled group became STOP');
    await sleep(100);
  }

  const missing = await fetch(`http://127.0.0.1:${port}/v3/kafka/${cluster}/consumer/nobody/lag`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: boolean }).error, true);
  assert.equal((await fetch(`http://127.0.0.1:${port}/v3/kafka/other-cluster/consumer`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${port}/v3/kafka/${cluster}/consumer/%E0%A4%A/lag`)).status, 400);
  assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
  assert.equal((await scrape(port)).length > 0, true, 'the endpoint still serves after bad requests');
  const groups = (await (await fetch(`http://127.0.0.1:${port}/v3/kafka/${cluster}/consumer`)).json()) as { consumers: string[] };
  assert.deepEqual(groups.consumers.sort(), ['fine', 'rewound', 'slow', 'stalled']);
});
