/**
 * /metrics under real traffic: kcat (librdkafka) and @sluice/client produce and consume while the
 * page is scraped; counters must move by what was sent, request histograms get samples per API,
 * and Prometheus's own parser (promtool) accepts the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Consumer, Producer } from '@sluice/client';
import { kcatPath, promtoolPath, requirePeers } from '@sluice/test-peers';
import { run, startTestBroker } from '../helpers.js';
import { scrape, value } from './scrape.js';

test('metrics are off by default', async (t) => {
  const tb = await startTestBroker();
  t.after(() => tb.dispose());
  assert.equal(tb.broker.metricsEndpoint, null);
});

test('/metrics counts what kcat and @sluice/client produce and consume; promtool parses the page', { timeout: 60_000 }, async (t) => {
  if (!requirePeers(t, 'kcat', 'prometheus')) return;
  const tb = await startTestBroker({ 'num.partitions': 2, 'metrics.port': 0 });
  t.after(() => tb.dispose());
  const port = tb.broker.metricsEndpoint!.port;
  const before = await scrape(port);
  assert.equal(value(before, 'kafka_controller_kafkacontroller_activecontrollercount'), 1);
  assert.equal(value(before, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'mt' }), 0);

  // kcat: 400 records of known size, uncompressed.
  const lines = Array.from({ length: 400 }, (_, i) => `key-${i}:value-${String(i).padStart(5, '0')}`);
  let payload = lines.reduce((n, l) => n + l.length - 1, 0);
  const produced = await run(kcatPath(), ['-b', tb.bootstrap, '-P', '-t', 'mt', '-K:', '-z', 'none', '-X', 'linger.ms=20'], { input: lines.join('\n') + '\n' });
  assert.equal(produced.code, 0, produced.stderr);
  // @sluice/client: 100 more.
  const producer = new Producer({ brokers: [tb.bootstrap], lingerMs: 5, acks: 1 });
  await producer.connect();
  await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send({ topic: 'mt', key: `c-${i}`, value: `client-value-${i}` })));
  payload += Array.from({ length: 100 }, (_, i) => `c-${i}`.length + `client-value-${i}`.length).reduce((a, b) => a + b, 0);
  await producer.close();

  const afterProduce = await scrape(port);
  assert.equal(value(afterProduce, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'mt' }), 500, 'messages in = records produced');
  const bytesIn = value(afterProduce, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: 'mt' });
  // Batch framing: a 61-byte header per batch and a few varint bytes per record.
  assert.ok(bytesIn >= payload && bytesIn <= payload + 500 * 12 + 61 * 100, `bytes in ${bytesIn} for ${payload} payload bytes`);
  const produceRequests = value(afterProduce, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' });
  assert.ok(produceRequests >= 2, `Produce requests ${produceRequests}`);
  assert.equal(value(afterProduce, 'kafka_network_requestmetrics_totaltimems_count', { request: 'Produce' }), produceRequests);
  assert.equal(value(afterProduce, 'kafka_network_requestmetrics_localtimems_count', { request: 'Produce' }), produceRequests);
  assert.ok(value(afterProduce, 'kafka_network_requestmetrics_requests_total', { request: 'Metadata' }) >= 2);
  assert.ok(value(afterProduce, 'kafka_network_requestmetrics_requests_total', { request: 'ApiVersions' }) >= 2);
  assert.ok(value(afterProduce, 'kafka_server_socket_server_metrics_connection_creation_total', { listener: 'PLAINTEXT' }) >= 2);
  assert.equal(value(afterProduce, 'kafka_log_log_logendoffset', { topic: 'mt' }), 500);
  assert.equal(value(afterProduce, 'kafka_server_replicamanager_partitioncount') >= 2, true);
  assert.equal(value(afterProduce, 'kafka_server_replicamanager_underreplicatedpartitions'), 0);
  assert.equal(value(afterProduce, 'kafka_topic_partition_current_offset', { topic: 'mt' }), 500);

  // Consume everything with kcat, then with a group of our client that commits.
  const consumed = await run(kcatPath(), ['-b', tb.bootstrap, '-C', '-t', 'mt', '-o', 'beginning', '-e', '-q']);
  assert.equal(consumed.code, 0, consumed.stderr);
  const consumer = new Consumer({ brokers: [tb.bootstrap], groupId: 'metrics-group', autoOffsetReset: 'earliest', clientId: 'metrics-client' });
  await consumer.subscribe(['mt']);
  let seen = 0;
  const next = new Map<number, bigint>();
  while (seen < 500) {
    const batch = await consumer.poll();
    if (!batch) continue;
    seen += batch.records.length;
    for (const r of batch.records) next.set(batch.partition, r.offset + 1n);
  }
  await consumer.commit([...next].map(([partition, offset]) => ({ topic: 'mt', partition, offset })));
  const afterConsume = await scrape(port);
  // Burrow's JSON names the member that owns each partition.
  const burrow = (await (await fetch(`http://127.0.0.1:${port}/v3/kafka/${tb.broker.clusterId}/consumer/metrics-group/lag`)).json()) as { status: { status: string; partitions: { owner: string; client_id: string; status: string }[] } };
  assert.equal(burrow.status.status, 'OK');
  assert.equal(burrow.status.partitions.length, 2);
  for (const p of burrow.status.partitions) {
    assert.match(p.owner, /^\/127\.0\.0\.1/);
    assert.equal(p.client_id, 'metrics-client');
  }
  await consumer.close();
  const bytesOut = value(afterConsume, 'kafka_server_brokertopicmetrics_bytesout_total', { topic: 'mt' });
  assert.ok(bytesOut >= 2 * bytesIn, `bytes out ${bytesOut}: both consumers read all ${bytesIn} bytes`);
  assert.ok(value(afterConsume, 'kafka_network_requestmetrics_totaltimems_count', { request: 'Fetch' }) >= 2);
  assert.ok(value(afterConsume, 'kafka_network_requestmetrics_totaltimems_count', { request: 'JoinGroup' }) >= 1);
  assert.equal(value(afterConsume, 'kafka_consumergroup_current_offset_sum', { consumergroup: 'metrics-group', topic: 'mt' }), 500);
  assert.equal(value(afterConsume, 'kafka_consumergroup_lag_sum', { consumergroup: 'metrics-group', topic: 'mt' }), 0);
  assert.ok(value(afterConsume, 'kafka_server_group_coordinator_metrics_offset_commit_total') >= 2);
  assert.ok(value(afterConsume, 'kafka_server_group_coordinator_metrics_group_completed_rebalance_total') >= 1);
  assert.ok(value(afterConsume, 'nodejs_heap_size_used_bytes') > 0);
  const idle = value(afterConsume, 'kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent');
  assert.ok(idle >= 0 && idle <= 1, `idle ${idle}`);

  // Prometheus's parser: exit 1 is a parse error; lint findings (exit 3) are allowed only for the
  // names kept for compatibility (the JMX exporter's connection_count, kafka_exporter's *_sum
  // gauges, prom-client's nodejs_active_*_total).
  const checked = spawnSync(promtoolPath(), ['check', 'metrics'], { input: afterConsume, encoding: 'utf8' });
  assert.notEqual(checked.status, 1, checked.stderr + checked.stdout);
  const findings = (checked.stdout + checked.stderr).split('\n').filter(Boolean);
  const allowed = /^(kafka_server_socket_server_metrics_connection_count|kafka_consumergroup_(lag|current_offset)_sum|nodejs_active_(handles|requests|resources)_total) /;
  assert.deepEqual(findings.filter((f) => !allowed.test(f)), []);
});
