/**
 * Source task settings: topic creation (KIP-158), the rules of topic.creation.* and a
 * FileStreamSource whose topic Connect creates with its group's partitions and configs; and
 * KIP-618's transaction.boundary (the interval boundary runs in cli's connect-distributed test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TopicCreation } from '../src/runtime/topic-creation.js';
import { transactionBoundaryOf } from '../src/runtime/worker-task.js';
import { rest, startEnv, waitFor } from './helpers.js';

test('topic.creation rules: off without default settings or with topic.creation.enable=false; first matching group wins, else default', () => {
  assert.equal(TopicCreation.of({}, { 'connector.class': 'X' }), null);
  const config = {
    'topic.creation.default.replication.factor': '-1',
    'topic.creation.default.partitions': '4',
    'topic.creation.default.retention.ms': '1000',
    'topic.creation.groups': 'compacted, audit',
    'topic.creation.compacted.include': 'state-.*, .*-changelog',
    'topic.creation.compacted.exclude': 'state-tmp',
    'topic.creation.compacted.cleanup.policy': 'compact',
    'topic.creation.compacted.partitions': '2',
    'topic.creation.audit.include': 'audit',
    'topic.creation.audit.replication.factor': '3',
  };
  assert.equal(TopicCreation.of({ 'topic.creation.enable': 'false' }, config), null);
  const rules = TopicCreation.of({}, config)!;
  assert.deepEqual(rules.newTopic('state-users'), { topic: 'state-users', numPartitions: 2, configs: { 'retention.ms': '1000', 'cleanup.policy': 'compact' } });
  assert.deepEqual(rules.newTopic('orders-changelog').numPartitions, 2);
  assert.deepEqual(rules.newTopic('state-tmp'), { topic: 'state-tmp', numPartitions: 4, configs: { 'retention.ms': '1000' } }, 'excluded: the default group');
  assert.deepEqual(rules.newTopic('audit'), { topic: 'audit', numPartitions: 4, replicationFactor: 3, configs: { 'retention.ms': '1000' } });
  assert.throws(() => TopicCreation.of({}, { 'topic.creation.default.partitions': '2' }), /topic.creation.default.replication.factor/);
  assert.throws(() => TopicCreation.of({}, { 'topic.creation.default.partitions': '0', 'topic.creation.default.replication.factor': '1' }), /partitions/);
});

test('a FileStreamSource with topic.creation.* creates its topic with the matching group\'s partitions and configs before its first record', { timeout: 60_000 }, async (t) => {
  const env = await startEnv(t);
  const input = join(env.dir, 'input.txt');
  await writeFile(input, 'a\nb\nc\n');
  const created = await rest(env.url, 'POST', '/connectors', {
    name: 'tc-source',
    config: {
      'connector.class': 'FileStreamSource',
      file: input,
      topic: 'tc-logs',
      'topic.creation.default.replication.factor': '1',
      'topic.creation.default.partitions': '1',
      'topic.creation.groups': 'logs',
      'topic.creation.logs.include': 'tc-.*',
      'topic.creation.logs.partitions': '3',
      'topic.creation.logs.cleanup.policy': 'compact',
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor(async () => (await env.admin.listTopics()).includes('tc-logs'), 'the topic to be created');
  const [described] = await env.admin.describeTopics(['tc-logs']);
  assert.equal(described.partitions.length, 3);
  const [configs] = await env.admin.describeConfigs([{ type: 'topic', name: 'tc-logs', keys: ['cleanup.policy'] }]);
  assert.equal(configs.configs.find((c) => c.name === 'cleanup.policy')?.value, 'compact');
});

test('transaction.boundary (KIP-618): poll by default, interval with its own or the flush interval, connector refused, anything else invalid', () => {
  assert.deepEqual(transactionBoundaryOf({}, 60_000), { kind: 'poll' });
  assert.deepEqual(transactionBoundaryOf({ 'transaction.boundary': 'interval' }, 60_000), { kind: 'interval', intervalMs: 60_000 });
  assert.deepEqual(transactionBoundaryOf({ 'transaction.boundary': 'interval', 'transaction.boundary.interval.ms': '250' }, 60_000), { kind: 'interval', intervalMs: 250 });
  assert.throws(() => transactionBoundaryOf({ 'transaction.boundary': 'connector' }, 1), /does not support connector-defined transaction boundaries/);
  assert.throws(() => transactionBoundaryOf({ 'transaction.boundary': 'sometimes' }, 1), /one of: poll, interval, connector/);
  assert.throws(() => transactionBoundaryOf({ 'transaction.boundary': 'interval', 'transaction.boundary.interval.ms': '-5' }, 1), /transaction.boundary.interval.ms/);
});
