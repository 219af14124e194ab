/**
 * Configs as Kafka answers them. DescribeConfigs synonyms by Kafka's rules (ConfigHelper), walked
 * over every topic config; AlterConfigs/IncrementalAlterConfigs against Kafka's full catalogue
 * (dynamically updatable, read-only, unknown) on broker and topic resources, including what
 * librdkafka's 0081_admin sends; and kafkajs's own describeConfigs.spec.js expectations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { kafkaTopicConfigs } from '@sluice/storage';
import type * as KafkaJS from 'kafkajs';
import { kafkaBrokerConfigs } from '../../src/config/kafka-catalogue.js';
import { RawClient, startTestBroker, type TestBroker } from '../helpers.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel, ConfigResourceTypes } = require('kafkajs') as typeof KafkaJS;

const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const APPEND = 2;
const Source = { TOPIC: 1, DYNAMIC_BROKER: 2, DYNAMIC_DEFAULT: 3, STATIC: 4, DEFAULT: 5 } as const;

/** Kafka's broker synonym groups (DynamicBrokerConfig.brokerConfigSynonyms), written out independently of the broker's code. */
const KAFKA_SYNONYM_GROUPS: Record<string, string[]> = {
  'log.retention.ms': ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  'log.roll.ms': ['log.roll.ms', 'log.roll.hours'],
  'log.roll.jitter.ms': ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
  'log.flush.interval.ms': ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
};

const kafkaBroker = (name: string) => kafkaBrokerConfigs.find((c) => c.name === name)!;

type Synonym = [name: string, value: string | null, source: number];
interface Layers {
  broker: Record<string, string>;
  cluster: Record<string, string>;
  static: Record<string, string>;
}

/**
 * Kafka's rule for a topic config's synonyms: the topic override if set; then, for the topic
 * config's first broker synonym P, layer by layer (this broker's dynamic settings, the cluster's
 * dynamic defaults, server.properties, Kafka's non-null defaults) each of P's synonyms the layer
 * sets, keeping only what comes from the first entry for P itself on.
 */
function expectedTopicSynonyms(topicConfig: string, override: string | undefined, layers: Layers): Synonym[] {
  const out: Synonym[] = override === undefined ? [] : [[topicConfig, override, Source.TOPIC]];
  const primary = kafkaTopicConfigs.find((c) => c.name === topicConfig)!.serverDefault;
  if (primary === null) return out;
  const group = KAFKA_SYNONYM_GROUPS[primary] ?? [primary];
  const defaults: Record<string, string> = {};
  for (const n of group) if (kafkaBroker(n).defaultValue !== null) defaults[n] = kafkaBroker(n).defaultValue!;
  const brokerSide: Synonym[] = [];
  const tiers: Array<[Record<string, string>, number]> = [[layers.broker, Source.DYNAMIC_BROKER], [layers.cluster, Source.DYNAMIC_DEFAULT], [layers.static, Source.STATIC], [defaults, Source.DEFAULT]];
  for (const [values, source] of tiers) for (const n of group) if (values[n] !== undefined) brokerSide.push([n, values[n], source]);
  const first = brokerSide.findIndex(([n]) => n === primary);
  return [...out, ...(first < 0 ? [] : brokerSide.slice(first))];
}

async function setup(t: { after: (fn: () => Promise<void> | void) => void }, options: Record<string, string | number> = {}): Promise<{ tb: TestBroker; c: RawClient }> {
  const tb = await startTestBroker(options);
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  return { tb, c };
}

function describe(c: RawClient, resourceType: number, resourceName: string, keys: string[] | null = null) {
  return c.send(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType, resourceName, configurationKeys: keys }], includeSynonyms: true, includeDocumentation: false }).then((r) => r.results[0]);
}

async function incremental(c: RawClient, resourceType: number, resourceName: string, configs: Array<{ name: string; configOperation: number; value: string | null }>) {
  return (await c.send(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType, resourceName, configs }], validateOnly: false })).responses[0];
}

async function legacy(c: RawClient, resources: Array<{ resourceType: number; resourceName: string; configs: Array<{ name: string; value: string }> }>) {
  return (await c.send(ApiKey.AlterConfigs, 0, { resources, validateOnly: false })).responses;
}

test("every topic config's synonym list follows Kafka's rules, as the layers under it change", async (t) => {
  const staticSettings = { 'log.retention.hours': '48', 'log.roll.hours': '24', 'log.segment.bytes': '2097152', 'compression.type': 'producer' };
  const { c } = await setup(t, staticSettings);
  // One topic without overrides, one overriding every topic config (with Kafka's default value).
  const overrides = Object.fromEntries(kafkaTopicConfigs.map((s) => [s.name, s.defaultValue ?? '']));
  const created = await c.send(ApiKey.CreateTopics, 7, {
    topics: [
      { name: 'plain', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      { name: 'over', numPartitions: 1, replicationFactor: 1, assignments: [], configs: Object.entries(overrides).map(([name, value]) => ({ name, value })) },
    ],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.deepEqual(created.topics.map((x) => x.errorCode), [ErrorCode.NONE, ErrorCode.NONE]);

  const check = async (layers: Layers, phase: string) => {
    for (const topic of ['plain', 'over']) {
      const result = await describe(c, TOPIC, topic);
      assert.equal(result.errorCode, ErrorCode.NONE);
      const byName = new Map(result.configs.map((e) => [e.name, e]));
      assert.deepEqual([...byName.keys()].sort(), kafkaTopicConfigs.map((s) => s.name).sort(), 'every Kafka topic config is described');
      for (const spec of kafkaTopicConfigs) {
        const entry = byName.get(spec.name)!;
        const what = `${phase}: ${topic} ${spec.name}`;
        const expected = expectedTopicSynonyms(spec.name, topic === 'over' ? overrides[spec.name] : undefined, layers);
        assert.deepEqual(entry.synonyms!.map((s) => [s.name, s.value, s.source]), expected, what);
        // The entry's source is its first synonym's (DEFAULT_CONFIG when there is none) ...
        assert.equal(entry.configSource, expected[0]?.[2] ?? Source.DEFAULT, what);
        // ... and so is its value, when that synonym is in the topic config's own unit.
        if (expected[0] && (expected[0][0] === spec.name || expected[0][0] === spec.serverDefault)) assert.equal(entry.value, expected[0][1], what);
        assert.equal(entry.readOnly, false, what);
        assert.equal(entry.isSensitive, false, what);
      }
    }
  };
  await check({ broker: {}, cluster: {}, static: staticSettings }, 'static only');
  const plain = new Map((await describe(c, TOPIC, 'plain', ['retention.ms', 'segment.ms', 'segment.bytes'])).configs.map((e) => [e.name, e]));
  // log.retention.hours=48 is in force although Kafka lists no synonym for it (log.retention.ms comes first).
  assert.equal(plain.get('retention.ms')!.value, String(48 * 3_600_000));
  assert.equal(plain.get('segment.ms')!.value, String(24 * 3_600_000));
  assert.deepEqual(plain.get('segment.bytes')!.synonyms!.map((s) => [s.name, s.value, s.source]), [['log.segment.bytes', '2097152', 4], ['log.segment.bytes', '1073741824', 5]]);

  // Set every topic config's first broker synonym at both dynamic levels. Kafka makes all of them
  // dynamically updatable.
  const primaries = [...new Set(kafkaTopicConfigs.map((s) => s.serverDefault).filter((p): p is string => p !== null))];
  const fallback: Record<string, string> = { 'log.retention.ms': '7200000', 'log.roll.ms': '7200000', 'log.roll.jitter.ms': '0', 'log.flush.interval.ms': '9223372036854775807' };
  const values = Object.fromEntries(primaries.map((p) => [p, kafkaBroker(p).defaultValue ?? fallback[p]]));
  for (const p of primaries) assert.notEqual(kafkaBroker(p).updateMode, 'read-only', p);
  const ops = primaries.map((name) => ({ name, configOperation: SET, value: values[name] }));
  assert.equal((await incremental(c, BROKER, '', ops)).errorCode, ErrorCode.NONE);
  assert.equal((await incremental(c, BROKER, '1', ops)).errorCode, ErrorCode.NONE);
  await check({ broker: values, cluster: values, static: staticSettings }, 'dynamic');

  // The same rules on the broker resource, and the cluster-default resource shows its own level only.
  const brokerEntries = new Map((await describe(c, BROKER, '1', ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'])).configs.map((e) => [e.name, e]));
  const triples = (name: string) => brokerEntries.get(name)!.synonyms!.map((s) => [s.name, s.value, s.source]);
  assert.deepEqual(triples('log.retention.ms'), [['log.retention.ms', '7200000', 2], ['log.retention.ms', '7200000', 3], ['log.retention.hours', '48', 4], ['log.retention.hours', '168', 5]]);
  assert.deepEqual(triples('log.retention.minutes'), []);
  assert.equal(brokerEntries.get('log.retention.minutes')!.configSource, Source.DEFAULT);
  assert.equal(brokerEntries.get('log.retention.minutes')!.value, null);
  assert.deepEqual(triples('log.retention.hours'), [['log.retention.hours', '48', 4], ['log.retention.hours', '168', 5]]);
  assert.equal(brokerEntries.get('log.retention.hours')!.readOnly, true);
  const clusterLevel = await describe(c, BROKER, '');
  assert.deepEqual(clusterLevel.configs.map((e) => e.name).sort(), [...primaries].sort());
  for (const e of clusterLevel.configs) {
    assert.equal(e.configSource, Source.DYNAMIC_DEFAULT, e.name);
    assert.deepEqual(e.synonyms!.map((s) => [s.name, s.value, s.source]), [[e.name, values[e.name], Source.DYNAMIC_DEFAULT]], e.name);
  }
});

test('alter on a broker resource: updatable settings stored, read-only ones and per-broker ones at cluster level refused, unknown names kept', async (t) => {
  // Restarted below on the same directory: the second broker removes it.
  const tb = await startTestBroker();
  t.after(() => tb.stop());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  const relogin = 'sasl.kerberos.min.time.before.relogin';
  // As librdkafka's 0081_admin: one AlterConfigs with a topic, this broker, and a missing topic.
  await c.send(ApiKey.CreateTopics, 7, { topics: [{ name: 'rdk', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const rdkafka = await legacy(c, [
    { resourceType: TOPIC, resourceName: 'rdk', configs: [{ name: 'compression.type', value: 'gzip' }, { name: 'flush.ms', value: '12345678' }] },
    { resourceType: BROKER, resourceName: '1', configs: [{ name: relogin, value: '58000' }] },
    { resourceType: TOPIC, resourceName: 'rdk-missing', configs: [{ name: 'compression.type', value: 'lz4' }, { name: 'max.compaction.lag.ms', value: '3600000' }] },
  ]);
  assert.deepEqual(rdkafka.map((r) => [r.errorCode, r.errorMessage]), [
    [ErrorCode.NONE, null],
    [ErrorCode.NONE, null],
    [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic 'rdk-missing' does not exist."],
  ]);

  const entry = async (name: string) => (await describe(c, BROKER, '1', [name])).configs[0];
  const saved = await entry(relogin);
  assert.equal(saved.value, '58000');
  assert.equal(saved.configSource, Source.DYNAMIC_BROKER);
  assert.equal(saved.readOnly, false);
  assert.equal(saved.configType, 5);
  assert.deepEqual(saved.synonyms!.map((s) => [s.name, s.value, s.source]), [[relogin, '58000', 2], [relogin, '60000', 5]]);
  assert.equal((await incremental(c, BROKER, '1', [{ name: relogin, configOperation: SET, value: '59000' }])).errorCode, ErrorCode.NONE);
  assert.equal((await entry(relogin)).value, '59000');

  const refused = async (resourceName: string, name: string, value: string) => {
    const r = await incremental(c, BROKER, resourceName, [{ name, configOperation: SET, value }]);
    return [r.errorCode, r.errorMessage];
  };
  // Per-broker settings need a broker id.
  assert.deepEqual(await refused('', relogin, '58000'), [ErrorCode.INVALID_REQUEST, `Cannot update these configs at default cluster level, broker id must be specified: Set(${relogin})`]);
  // Read-only settings, in both APIs.
  assert.deepEqual(await refused('1', 'log.dirs', '/elsewhere'), [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(log.dirs)']);
  assert.deepEqual(await refused('', 'num.partitions', '3'), [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(num.partitions)']);
  const legacyReadOnly = await legacy(c, [{ resourceType: BROKER, resourceName: '1', configs: [{ name: 'node.id', value: '2' }] }]);
  assert.deepEqual([legacyReadOnly[0].errorCode, legacyReadOnly[0].errorMessage], [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(node.id)']);
  // Values are checked with Kafka's words; SSL stores only per listener.
  assert.deepEqual(await refused('1', relogin, 'soon'), [ErrorCode.INVALID_REQUEST, `Invalid value soon for configuration ${relogin}: Not a number of type LONG`]);
  assert.deepEqual(await refused('1', 'ssl.keystore.location', '/k'), [ErrorCode.INVALID_REQUEST, 'These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.location)']);
  assert.deepEqual(await refused('2', relogin, '58000'), [ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1, but received 2']);
  const append = await incremental(c, BROKER, '1', [{ name: 'log.retention.ms', configOperation: APPEND, value: '5' }]);
  assert.deepEqual([append.errorCode, append.errorMessage], [ErrorCode.INVALID_CONFIG, 'Config value append is not allowed for config key: log.retention.ms']);

  // A name Kafka does not know is kept as a custom setting: stored, described with its value hidden.
  assert.deepEqual(await refused('1', 'sluice.test.custom', 'x'), [ErrorCode.NONE, null]);
  const custom = await entry('sluice.test.custom');
  assert.deepEqual(
    [custom.value, custom.isSensitive, custom.readOnly, custom.configType, custom.configSource],
    [null, true, true, 0, Source.DYNAMIC_BROKER],
  );
  assert.equal((await describe(c, BROKER, '1')).configs.filter((e) => e.name === relogin || e.name === 'sluice.test.custom').length, 2);

  // Both survive a restart, each at its level.
  c.close();
  await tb.stop();
  const again = await startTestBroker({}, tb.dataDir);
  t.after(() => again.dispose());
  const d = await RawClient.connect(again.broker.port);
  t.after(() => d.close());
  const after = new Map((await describe(d, BROKER, '1', [relogin, 'sluice.test.custom'])).configs.map((e) => [e.name, e]));
  assert.equal(after.get(relogin)!.value, '59000');
  assert.equal(after.get('sluice.test.custom')!.configSource, Source.DYNAMIC_BROKER);
  assert.deepEqual((await describe(d, BROKER, '')).configs, []);
});

test('alter on a topic resource: every Kafka topic config accepted, stored-only ones described, unknown names refused', async (t) => {
  const { c } = await setup(t);
  await c.send(ApiKey.CreateTopics, 7, { topics: [{ name: 'tc', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const set = (name: string, value: string) => incremental(c, TOPIC, 'tc', [{ name, configOperation: SET, value }]);
  assert.equal((await set('compression.gzip.level', '5')).errorCode, ErrorCode.NONE);
  assert.equal((await set('leader.replication.throttled.replicas', '0:1')).errorCode, ErrorCode.NONE);
  const unknown = await set('no.such.config', '1');
  assert.deepEqual([unknown.errorCode, unknown.errorMessage], [ErrorCode.INVALID_CONFIG, 'Unknown topic config name: no.such.config']);
  assert.equal((await set('remote.storage.enable', 'true')).errorCode, ErrorCode.INVALID_CONFIG);
  const append = await incremental(c, TOPIC, 'tc', [{ name: 'retention.ms', configOperation: APPEND, value: '5' }]);
  assert.deepEqual([append.errorCode, append.errorMessage], [ErrorCode.INVALID_CONFIG, "Can't APPEND to key retention.ms because its type is not LIST."]);
  const byName = new Map((await describe(c, TOPIC, 'tc')).configs.map((e) => [e.name, e]));
  assert.deepEqual([byName.get('compression.gzip.level')!.value, byName.get('compression.gzip.level')!.configSource], ['5', Source.TOPIC]);
  assert.equal(byName.get('leader.replication.throttled.replicas')!.value, '0:1');
  assert.deepEqual([byName.get('local.retention.ms')!.value, byName.get('local.retention.ms')!.configSource], ['-2', Source.DEFAULT]);
  assert.deepEqual(byName.get('local.retention.ms')!.synonyms!.map((s) => [s.name, s.value, s.source]), [['log.local.retention.ms', '-2', 5]]);
  assert.deepEqual([byName.get('remote.storage.enable')!.value, byName.get('remote.storage.enable')!.synonyms], ['false', []]);
  assert.equal(byName.get('message.timestamp.after.max.ms')!.value, '3600000');
});

test('kafkajs: describeConfigs with includeSynonyms as its own spec expects; alterConfigs on the broker resource', { timeout: 60_000 }, async (t) => {
  const tb = await startTestBroker();
  t.after(() => tb.dispose());
  const kafka = new Kafka({ clientId: 'sluice-configs', brokers: [tb.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 1 } });
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'spec-1' }, { topic: 'spec-2' }] });

  const response = await admin.describeConfigs({
    includeSynonyms: true,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: 'spec-1', configNames: ['compression.type', 'retention.ms'] }],
  });
  assert.deepEqual(response.resources, [
    {
      configEntries: [
        {
          configName: 'compression.type',
          configValue: 'producer',
          isDefault: true,
          configSource: 5,
          isSensitive: false,
          readOnly: false,
          configSynonyms: [{ configName: 'compression.type', configValue: 'producer', configSource: 5 }],
        },
        { configName: 'retention.ms', configValue: '604800000', isDefault: true, configSource: 5, isSensitive: false, readOnly: false, configSynonyms: [] },
      ],
      errorCode: 0,
      errorMessage: null,
      resourceName: 'spec-1',
      resourceType: ConfigResourceTypes.TOPIC,
    },
  ]);
  // Without config names: every entry, none of them with synonyms.
  const all = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'spec-1', configNames: [] }] });
  const entries = all.resources[0].configEntries;
  assert.equal(entries.length, kafkaTopicConfigs.length);
  for (const e of entries) assert.deepEqual([e.configSource, e.isDefault, e.configSynonyms], [5, true, []], e.configName);

  const broker = { type: ConfigResourceTypes.BROKER, name: '1' };
  await admin.alterConfigs({ validateOnly: false, resources: [{ ...broker, configEntries: [{ name: 'sasl.kerberos.min.time.before.relogin', value: '58000' }] }] });
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ ...broker, configNames: ['sasl.kerberos.min.time.before.relogin'] }] });
  assert.equal(described.resources[0].configEntries[0].configValue, '58000');
  await assert.rejects(
    admin.alterConfigs({ validateOnly: false, resources: [{ ...broker, configEntries: [{ name: 'node.id', value: '2' }] }] }),
    (err: { type?: string }) => err.type === 'INVALID_REQUEST',
  );
  await admin.alterConfigs({ validateOnly: false, resources: [{ ...broker, configEntries: [{ name: 'sluice.test.custom', value: 'x' }] }] });
});
