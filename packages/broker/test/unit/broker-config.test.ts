import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerConfig, ConfigError, parseListener } from '../../src/config/broker-config.js';
import { kafkaBrokerConfigs } from '../../src/config/kafka-catalogue.js';

function withFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  try {
    const path = join(dir, 'server.properties');
    writeFileSync(path, text);
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('defaults apply when nothing is set', () => {
  const config = BrokerConfig.load();
  assert.equal(config.int('num.partitions'), 1);
  assert.equal(config.bool('auto.create.topics.enable'), true);
  assert.equal(config.int('socket.request.max.bytes'), 104857600);
  assert.equal(config.source('num.partitions'), 'default');
  assert.equal(config.nodeId, 1);
});

test('file values are typed, overrides win over the file, broker.id feeds node.id', () => {
  withFile('broker.id=7\nnum.partitions=3\nauto.create.topics.enable=FALSE\nlog.dirs=/tmp/x\n', (path) => {
    const config = BrokerConfig.load({ configFile: path, overrides: { 'num.partitions': '5' } });
    assert.equal(config.nodeId, 7);
    assert.equal(config.int('num.partitions'), 5);
    assert.equal(config.bool('auto.create.topics.enable'), false);
    assert.equal(config.dataDir, '/tmp/x');
    assert.equal(config.source('num.partitions'), 'static');
  });
});

test('a stock Kafka KRaft server.properties is accepted', () => {
  const stock = [
    'process.roles=broker,controller',
    'node.id=1',
    'controller.quorum.bootstrap.servers=localhost:9093',
    'listeners=PLAINTEXT://:9092,CONTROLLER://:9093',
    'inter.broker.listener.name=PLAINTEXT',
    'advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL',
    'num.network.threads=3',
    'num.io.threads=8',
    'socket.send.buffer.bytes=102400',
    'socket.receive.buffer.bytes=102400',
    'socket.request.max.bytes=104857600',
    'log.dirs=/tmp/kraft-combined-logs',
    'num.partitions=1',
    'num.recovery.threads.per.data.dir=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
  ].join('\n');
  withFile(stock, (path) => {
    const config = BrokerConfig.load({ configFile: path });
    assert.deepEqual(config.list('listeners'), ['PLAINTEXT://:9092', 'CONTROLLER://:9093']);
  });
});

test('unknown and invalid keys are all reported, with file and line', () => {
  withFile('num.partitons=3\nnum.partitions=zero\nmessage.max.bytes=-5\nauto.create.topics.enable=yes\n', (path) => {
    assert.throws(
      () => BrokerConfig.load({ configFile: path }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 4);
        assert.match(err.problems[0], /server\.properties:1: unknown configuration key "num\.partitons" \(did you mean "num\.partitions"\?\)/);
        assert.match(err.problems[1], /:2: invalid value for num\.partitions: "zero" is not an integer/);
        assert.match(err.problems[2], /:3: invalid value for message\.max\.bytes: -5: must be at least 0/);
        assert.match(err.problems[3], /:4: invalid value for auto\.create\.topics\.enable/);
        return true;
      },
    );
  });
});

test('an unreadable config file is a ConfigError', () => {
  assert.throws(() => BrokerConfig.load({ configFile: '/nonexistent/server.properties' }), ConfigError);
});

test('node.id and broker.id must agree', () => {
  assert.throws(() => BrokerConfig.load({ overrides: { 'node.id': 1, 'broker.id': 2 } }), /disagree/);
});

test("dynamic configs: Kafka's checks and messages, in Kafka's order", () => {
  const config = BrokerConfig.load();
  const check = (level: 'broker' | 'cluster', next: Record<string, string>) => config.validateDynamic(level, next);
  // Dynamically updatable (per-broker or cluster-wide): accepted, also names Kafka does not know.
  assert.equal(check('broker', { 'sasl.kerberos.min.time.before.relogin': '58000', 'log.retention.ms': '1000', 'my.custom.key': 'x' }), null);
  assert.equal(check('cluster', { 'log.retention.ms': '1000', 'listener.name.plaintext.max.connections': '10' }), null);
  assert.equal(check('broker', { 'socket.request.max.bytes': '10', 'num.partitions': '4' }), 'Cannot update these configs dynamically: Set(socket.request.max.bytes, num.partitions)');
  assert.equal(
    check('broker', { 'node.id': '2', 'log.retention.hours': '1', 'fetch.max.bytes': '2000', 'log.dir': '/x', 'process.roles': 'broker' }),
    'Cannot update these configs dynamically: HashSet(node.id, log.retention.hours, fetch.max.bytes, log.dir, process.roles)',
  );
  assert.equal(check('broker', { 'ssl.keystore.location': '/k' }), 'These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.location)');
  assert.equal(check('broker', { 'listener.name.external.ssl.keystore.location': '/k' }), null);
  assert.equal(check('broker', { 'message.max.bytes': 'big' }), 'Invalid value big for configuration message.max.bytes: Not a number of type INT');
  assert.equal(check('broker', { 'sasl.kerberos.min.time.before.relogin': 'soon' }), 'Invalid value soon for configuration sasl.kerberos.min.time.before.relogin: Not a number of type LONG');
  assert.equal(check('broker', { 'log.segment.bytes': '1000' }), 'Invalid value 1000 for configuration log.segment.bytes: Value must be at least 1048576');
  assert.equal(check('broker', { 'log.cleanup.policy': 'compact,erase' }), 'Invalid value compact,erase for configuration log.cleanup.policy: String must be one of: compact, delete');
  assert.equal(check('broker', { 'compression.gzip.level': '0' }), 'Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9, or -1');
  assert.equal(check('broker', { 'leader.replication.throttled.rate': '-1' }), 'Invalid value -1 for configuration leader.replication.throttled.rate: Value must be at least 0');
  assert.equal(check('broker', { 'listener.name.external.max.connections': 'many' }), 'Invalid value many for configuration max.connections: Not a number of type INT');
  assert.equal(
    check('cluster', { 'sasl.kerberos.min.time.before.relogin': '58000' }),
    'Cannot update these configs at default cluster level, broker id must be specified: Set(sasl.kerberos.min.time.before.relogin)',
  );
  assert.equal(check('cluster', { 'listener.name.external.ssl.keystore.location': '/k' }), 'Cannot update these configs at default cluster level, broker id must be specified: Set(listener.name.external.ssl.keystore.location)');
});

test('dynamic configs: two levels over static over default, and change notification', () => {
  const config = BrokerConfig.load({ overrides: { 'message.max.bytes': 2000 } });
  const seen: string[][] = [];
  config.onChange((changed) => seen.push(changed));
  assert.equal(config.source('message.max.bytes'), 'static');
  config.setDynamic('cluster', new Map([['message.max.bytes', '3000']]));
  assert.equal(config.int('message.max.bytes'), 3000);
  assert.equal(config.source('message.max.bytes'), 'dynamic-default');
  config.setDynamic('broker', new Map([['message.max.bytes', '4000'], ['my.custom.key', 'x']]));
  assert.equal(config.int('message.max.bytes'), 4000);
  assert.equal(config.source('message.max.bytes'), 'dynamic-broker');
  assert.deepEqual(config.customNames(), ['my.custom.key']);
  assert.equal(config.layerValue('dynamic-default', 'message.max.bytes'), '3000');
  assert.equal(config.layerValue('static', 'message.max.bytes'), '2000');
  assert.equal(config.layerValue('default', 'message.max.bytes'), '1048588');
  assert.equal(config.explicitRaw('message.max.bytes', { level: 'broker', values: {} }), '3000');
  config.setDynamic('broker', new Map());
  assert.equal(config.int('message.max.bytes'), 3000);
  config.setDynamic('cluster', new Map());
  assert.equal(config.int('message.max.bytes'), 2000);
  assert.equal(config.staticRawValue('message.max.bytes'), '2000');
  assert.deepEqual(seen, [['message.max.bytes'], ['message.max.bytes', 'my.custom.key'], ['message.max.bytes', 'my.custom.key'], ['message.max.bytes']]);
});

test("every Kafka broker config is known, with Kafka's type and update mode", () => {
  const config = BrokerConfig.load();
  for (const spec of kafkaBrokerConfigs) {
    const def = config.definitions.get(spec.name);
    assert.ok(def, spec.name);
    assert.equal(def.type, spec.type, spec.name);
    assert.equal(def.updateMode, spec.updateMode, spec.name);
    // Every default Sluice reports parses under its own rules.
    if (def.defaultValue !== null) assert.doesNotThrow(() => config.get(spec.name), spec.name);
  }
  // A stock server.properties setting Sluice only stores is accepted and kept.
  const stored = BrokerConfig.load({ overrides: { 'sasl.kerberos.min.time.before.relogin': 70000, 'log.cleaner.threads': 2 } });
  assert.equal(stored.int('sasl.kerberos.min.time.before.relogin'), 70000);
  assert.equal(stored.definitions.get('log.cleaner.threads')!.actedOn, false);
  assert.equal(stored.definitions.get('log.retention.hours')!.actedOn, true);
});

test('listeners parse with IPv4, IPv6 and empty hosts', () => {
  assert.deepEqual(parseListener('PLAINTEXT://127.0.0.1:9092'), { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 });
  assert.deepEqual(parseListener('plaintext://[::1]:9093'), { name: 'PLAINTEXT', host: '::1', port: 9093 });
  assert.deepEqual(parseListener('PLAINTEXT://:0'), { name: 'PLAINTEXT', host: '', port: 0 });
  assert.throws(() => parseListener('127.0.0.1:9092'), /NAME:\/\/host:port/);
  assert.throws(() => BrokerConfig.load({ overrides: { listeners: 'PLAINTEXT://x:99999' } }), /out of range/);
});
