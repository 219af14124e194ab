/**
 * Client metrics against a real broker: the producer's and consumer's snapshots move with what was
 * sent and consumed, and `registerMetrics` puts them on a prom-client Registry passed in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Consumer, Producer } from '../src/index.js';
import { uniqueTopic, withBroker } from './helpers.js';

test('producer.metrics() and consumer.metrics() count sends, requests, batches, consumption, lag, commits and rebalances', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic('metrics');
  await admin.createTopics([{ topic, numPartitions: 2 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], lingerMs: 5, acks: 1, compression: 'gzip', bufferMemory: 1 << 20, clientId: 'metrics-producer' });
  const registry = new Registry();
  producer.registerMetrics(registry);
  await Promise.all(Array.from({ length: 200 }, (_, i) => producer.send({ topic, partition: i % 2, value: 'x'.repeat(100) })));
  const p = producer.metrics();
  assert.equal(p['record-send-total'], 200);
  assert.equal(p['record-error-total'], 0);
  assert.ok(p['record-send-rate'] > 0);
  assert.ok(p['request-latency-avg'] >= 0 && p['request-latency-max'] >= p['request-latency-avg']);
  assert.ok(p['records-per-request-avg'] >= 1 && p['records-per-request-avg'] <= 200);
  assert.ok(p['batch-size-avg'] > 0);
  assert.ok(p['compression-rate-avg'] > 0 && p['compression-rate-avg'] < 0.5, `gzip of repeated bytes: ${p['compression-rate-avg']}`);
  assert.equal(p['buffer-total-bytes'], 1 << 20);
  assert.equal(p['buffer-available-bytes'], 1 << 20);
  const page = await registry.metrics();
  assert.match(page, /^kafka_producer_producer_metrics_record_send_total\{client_id="metrics-producer"\} 200$/m);
  await producer.close();

  const consumer = new Consumer({ brokers: [broker.bootstrap], groupId: uniqueTopic('g'), autoOffsetReset: 'earliest', enableAutoCommit: false, clientId: 'metrics-consumer', heartbeatIntervalMs: 100 });
  consumer.registerMetrics(registry);
  await consumer.subscribe([topic]);
  let seen = 0;
  let lagSeen = false;
  while (seen < 150) {
    const b = await consumer.poll(50);
    if (!b) continue;
    seen += b.records.length;
    lagSeen ||= consumer.metrics()['records-lag-max'] > 0;
  }
  await consumer.commit();
  const c = consumer.metrics();
  assert.equal(c['records-consumed-total'], seen);
  assert.ok(c['records-consumed-rate'] > 0);
  assert.ok(c['fetch-latency-avg'] >= 0);
  assert.ok(lagSeen, 'records-lag-max was positive while records were left to read');
  assert.deepEqual(Object.keys(c['records-lag']).sort(), [`${topic}-0`, `${topic}-1`]);
  assert.equal(c['commit-total'], 1);
  assert.ok(c['commit-latency-max'] >= 0);
  assert.ok(c['rebalance-total'] >= 1);
  assert.ok(c['rebalance-latency-avg'] >= 0);
  await new Promise((r) => setTimeout(r, 300));
  const age = consumer.metrics()['last-heartbeat-seconds-ago'];
  assert.ok(age >= 0 && age < 5, `last heartbeat ${age} s ago`);
  const consumerPage = await registry.metrics();
  assert.match(consumerPage, new RegExp(`^kafka_consumer_consumer_metrics_records_lag\\{client_id="metrics-consumer",topic="${topic}",partition="0"\\} \\d+$`, 'm'));
  assert.match(consumerPage, /^kafka_consumer_consumer_metrics_rebalance_total\{client_id="metrics-consumer"\} [1-9]/m);
  await consumer.close();
});
