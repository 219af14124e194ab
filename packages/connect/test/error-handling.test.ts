/**
 * errors.tolerance / dead letter queue / errors.log.enable on a sink, and a transform chain
 * applied on the way in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Consumer, Producer } from '@sluice/client';
import { rest, startEnv, waitFor } from './helpers.js';

test('a sink with errors.tolerance=all sends bad records to the DLQ with context headers and keeps going', { timeout: 90_000 }, async (t) => {
  const env = await startEnv(t);
  await env.admin.createTopics([{ topic: 'events', numPartitions: 1, replicationFactor: 1 }]);
  const producer = new Producer({ brokers: [env.bootstrap] });
  const good = (i: number) => JSON.stringify({ schema: { type: 'struct', fields: [{ type: 'int32', optional: false, field: 'n' }, { type: 'string', optional: true, field: 'secret' }], optional: false }, payload: { n: i, secret: 'pw' } });
  await producer.sendBatch([
    { topic: 'events', value: good(1) },
    { topic: 'events', key: 'k', value: 'this is not json', headers: { origin: 'test' } },
    { topic: 'events', value: good(2) },
  ]);
  await producer.close();
  const output = join(env.dir, 'out.txt');
  const created = await rest(env.url, 'POST', '/connectors', {
    name: 'tolerant-sink',
    config: {
      'connector.class': 'FileStreamSink',
      topics: 'events',
      file: output,
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'true',
      'errors.tolerance': 'all',
      'errors.log.enable': 'true',
      'errors.deadletterqueue.topic.name': 'events-dlq',
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
      transforms: 'mask',
      'transforms.mask.type': 'org.apache.kafka.connect.transforms.MaskField$Value',
      'transforms.mask.fields': 'secret',
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor(async () => (await readFile(output, 'utf8').catch(() => '')).split('\n').length >= 3, 'two good records in the file');
  assert.equal(await readFile(output, 'utf8'), '{"n":1,"secret":""}\n{"n":2,"secret":""}\n');

  const consumer = new Consumer({ brokers: [env.bootstrap] });
  t.after(() => consumer.close());
  await waitFor(async () => (await env.admin.listTopics()).includes('events-dlq'), 'the DLQ topic');
  await consumer.assign([{ topic: 'events-dlq', partition: 0 }]);
  await consumer.seekToBeginning();
  const batch = await consumer.poll();
  const dead = batch!.records[0];
  assert.equal(dead.value!.toString(), 'this is not json');
  assert.equal(dead.key!.toString(), 'k');
  const headers = Object.fromEntries(dead.headers.map((h) => [h.key, h.value?.toString()]));
  assert.equal(headers.origin, 'test');
  assert.equal(headers['__connect.errors.topic'], 'events');
  assert.equal(headers['__connect.errors.partition'], '0');
  assert.equal(headers['__connect.errors.offset'], '1');
  assert.equal(headers['__connect.errors.connector.name'], 'tolerant-sink');
  assert.equal(headers['__connect.errors.task.id'], '0');
  assert.equal(headers['__connect.errors.stage'], 'VALUE_CONVERTER');
  assert.equal(headers['__connect.errors.class.name'], 'org.apache.kafka.connect.json.JsonConverter');
  assert.equal(headers['__connect.errors.exception.class.name'], 'DataException');
  assert.match(headers['__connect.errors.exception.message']!, /Converting byte\[\] to Kafka Connect data failed/);
  assert.ok(env.logs.some((l) => l.includes("Executing stage 'VALUE_CONVERTER'") && l.includes("topic='events', partition=0, offset=1")));
  const status = (await rest(env.url, 'GET', '/connectors/tolerant-sink/status')).body as { tasks: Array<{ state: string }> };
  assert.equal(status.tasks[0].state, 'RUNNING');
});

test('errors.tolerance=none (the default) fails the task with the converter error in its trace', { timeout: 60_000 }, async (t) => {
  const env = await startEnv(t);
  await env.admin.createTopics([{ topic: 'raw', numPartitions: 1, replicationFactor: 1 }]);
  const producer = new Producer({ brokers: [env.bootstrap] });
  await producer.send({ topic: 'raw', value: '{broken' });
  await producer.close();
  await rest(env.url, 'POST', '/connectors', { name: 'strict-sink', config: { 'connector.class': 'FileStreamSink', topics: 'raw', file: join(env.dir, 'o.txt'), 'value.converter': 'org.apache.kafka.connect.json.JsonConverter' } });
  await waitFor(async () => ((await rest(env.url, 'GET', '/connectors/strict-sink/status')).body as { tasks: Array<{ state: string }> }).tasks[0]?.state === 'FAILED', 'the task to fail');
  const task = (await rest(env.url, 'GET', '/connectors/strict-sink/tasks/0/status')).body as { state: string; trace: string };
  assert.match(task.trace, /Tolerance exceeded in error handler/);
  assert.match(task.trace, /Caused by: DataException: Converting byte\[\] to Kafka Connect data failed/);
  // restart?onlyFailed=true&includeTasks=true restarts just the failed task.
  const r = await rest(env.url, 'POST', '/connectors/strict-sink/restart?includeTasks=true&onlyFailed=true');
  assert.equal(r.status, 202);
  assert.deepEqual((r.body as { connector: { state: string }; tasks: Array<{ state: string }> }).tasks.map((x) => x.state), ['RESTARTING']);
  assert.equal((r.body as { connector: { state: string } }).connector.state, 'RUNNING');
});
