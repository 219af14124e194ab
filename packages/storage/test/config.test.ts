import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@sluice/protocol';
import { InvalidConfigError, brokerTopicDefaults, defaultTopicConfig, describeTopicConfig, parseTopicConfig, topicConfigDefinitions } from '../src/config.js';
import { kafkaTopicConfig, kafkaTopicConfigs } from '../src/kafka-topic-catalogue.js';

describe('topic configuration', () => {
  it("has Kafka's defaults", () => {
    const c = defaultTopicConfig;
    assert.deepEqual(c.cleanupPolicy, ['delete']);
    assert.equal(c.segmentBytes, 1073741824);
    assert.equal(c.segmentMs, 604800000);
    assert.equal(c.retentionMs, 604800000);
    assert.equal(c.retentionBytes, -1);
    assert.equal(c.maxMessageBytes, 1048588);
    assert.equal(c.messageTimestampType, 'CreateTime');
    assert.equal(c.indexIntervalBytes, 4096);
    assert.equal(c.segmentIndexBytes, 10485760);
    assert.equal(c.minCleanableDirtyRatio, 0.5);
    assert.equal(c.deleteRetentionMs, 86400000);
    assert.equal(c.minCompactionLagMs, 0);
    assert.equal(c.flushMessages, Number.MAX_SAFE_INTEGER);
    assert.equal(describeTopicConfig(c)['flush.messages'], '9223372036854775807');
    assert.equal(describeTopicConfig(c)['cleanup.policy'], 'delete');
    for (const d of topicConfigDefinitions) assert.ok(d.description.length > 10, d.name);
  });

  it("defines exactly Kafka's topic configs, with Kafka's types, defaults and server default properties", () => {
    assert.deepEqual(topicConfigDefinitions.map((d) => d.name).sort(), kafkaTopicConfigs.map((c) => c.name).sort());
    for (const d of topicConfigDefinitions) {
      const spec = kafkaTopicConfig(d.name)!;
      assert.equal(d.type, spec.type, d.name);
      assert.equal(d.defaultValue, spec.defaultValue, d.name);
      assert.equal(d.synonyms[0]?.key ?? null, spec.serverDefault, d.name);
      // Kafka's own default passes our validation.
      assert.doesNotThrow(() => parseTopicConfig({ [d.name]: spec.defaultValue! }), d.name);
    }
    assert.equal(defaultTopicConfig.messageTimestampAfterMaxMs, 3_600_000);
    assert.deepEqual(defaultTopicConfig.leaderReplicationThrottledReplicas, []);
  });

  it('accepts the stored-only configs within their ranges and refuses tiered storage', () => {
    const c = parseTopicConfig({ 'compression.gzip.level': '-1', 'compression.zstd.level': '-5', 'leader.replication.throttled.replicas': '0:1,1:1', 'follower.replication.throttled.replicas': '*', 'local.retention.ms': '-2' });
    assert.equal(c.compressionZstdLevel, -5);
    assert.deepEqual(c.leaderReplicationThrottledReplicas, ['0:1', '1:1']);
    for (const [key, value] of [['compression.gzip.level', '0'], ['compression.lz4.level', '18'], ['leader.replication.throttled.replicas', '0:x'], ['remote.storage.enable', 'true'], ['local.retention.bytes', '-3']]) {
      assert.throws(() => parseTopicConfig({ [key]: value }), (e: unknown) => e instanceof InvalidConfigError && e.key === key, `${key}=${value}`);
    }
  });

  it('parses overrides of every type', () => {
    const c = parseTopicConfig({
      'cleanup.policy': 'compact, delete',
      'min.cleanable.dirty.ratio': '0.25',
      preallocate: 'TRUE',
      'message.timestamp.type': 'LogAppendTime',
      'retention.ms': '-1',
      'flush.messages': '1',
    });
    assert.deepEqual(c.cleanupPolicy, ['compact', 'delete']);
    assert.equal(c.minCleanableDirtyRatio, 0.25);
    assert.equal(c.preallocate, true);
    assert.equal(c.messageTimestampType, 'LogAppendTime');
    assert.equal(c.retentionMs, -1);
    assert.equal(c.flushMessages, 1);
    assert.deepEqual(parseTopicConfig(describeTopicConfig(c)), c);
  });

  it('refuses invalid values with an error naming the key and the reason', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['segment.bytes', '10', /segment\.bytes.*at least 14/],
      ['segment.bytes', '3000000000', /segment\.bytes.*out of range/],
      ['segment.bytes', '1e6', /segment\.bytes.*not an integer/],
      ['retention.ms', '-2', /retention\.ms.*at least -1/],
      ['cleanup.policy', 'compact,erase', /cleanup\.policy.*'erase'/],
      ['cleanup.policy', '', /cleanup\.policy.*at least one/],
      ['min.cleanable.dirty.ratio', '1.5', /min\.cleanable\.dirty\.ratio.*between 0 and 1/],
      ['min.cleanable.dirty.ratio', 'half', /not a number/],
      ['message.timestamp.type', 'NowTime', /message\.timestamp\.type.*CreateTime, LogAppendTime/],
      ['flush.messages', '0', /flush\.messages.*at least 1/],
      ['preallocate', 'yes', /preallocate.*true or false/],
      ['max.compaction.lag.ms', '0', /max\.compaction\.lag\.ms/],
      ['retention.msec', '1', /Unknown topic config name: retention\.msec$/],
    ];
    for (const [key, value, pattern] of cases) {
      assert.throws(
        () => parseTopicConfig({ [key]: value }),
        (e: unknown) => e instanceof InvalidConfigError && e.key === key && e.code === ErrorCode.INVALID_CONFIG && pattern.test(e.message),
        `${key}=${value}`,
      );
    }
  });

  it('derives defaults from broker properties with unit scaling', () => {
    const d = brokerTopicDefaults({ 'log.retention.hours': '48', 'log.segment.bytes': '1048576', 'log.roll.hours': '1', 'message.max.bytes': '2000000', 'unrelated.key': 'x' });
    const c = parseTopicConfig({ 'segment.bytes': '2097152' }, d);
    assert.equal(c.retentionMs, 48 * 3_600_000);
    assert.equal(c.segmentMs, 3_600_000);
    assert.equal(c.segmentBytes, 2097152, 'topic override beats broker default');
    assert.equal(c.maxMessageBytes, 2000000);
    // log.retention.ms takes precedence over hours.
    assert.equal(parseTopicConfig({}, brokerTopicDefaults({ 'log.retention.ms': '5', 'log.retention.hours': '1' })).retentionMs, 5);
    assert.throws(() => brokerTopicDefaults({ 'log.retention.hours': 'many' }), /log\.retention\.hours/);
  });
});
