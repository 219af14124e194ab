import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerConfig, ConfigError, parseListener } from '../../src/config/broker-config.js';

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

test('dynamic configs: validation, layering and change notification', () => {
  const config = BrokerConfig.load({ overrides: { 'message.max.bytes': 2000 } });
  const problems = config.validateDynamic(
    new Map<string, string | null>([
      ['message.max.bytes', 'big'],
      ['socket.request.max.bytes', '10'],
      ['no.such.key', '1'],
      ['num.partitions', '4'],
    ]),
  );
  assert.equal(problems.get('message.max.bytes')?.code, 'invalid');
  assert.equal(problems.get('socket.request.max.bytes')?.code, 'readonly');
  assert.equal(problems.get('no.such.key')?.code, 'unknown');
  assert.equal(problems.has('num.partitions'), false);
  const seen: string[][] = [];
  config.onChange((changed) => seen.push(changed));
  config.setDynamic(new Map([['message.max.bytes', '3000']]));
  assert.equal(config.int('message.max.bytes'), 3000);
  assert.equal(config.source('message.max.bytes'), 'dynamic');
  assert.equal(config.staticRawValue('message.max.bytes'), '2000');
  config.setDynamic(new Map());
  assert.equal(config.int('message.max.bytes'), 2000);
  assert.deepEqual(seen, [['message.max.bytes'], ['message.max.bytes']]);
});

test('listeners parse with IPv4, IPv6 and empty hosts', () => {
  assert.deepEqual(parseListener('PLAINTEXT://127.0.0.1:9092'), { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 });
  assert.deepEqual(parseListener('plaintext://[::1]:9093'), { name: 'PLAINTEXT', host: '::1', port: 9093 });
  assert.deepEqual(parseListener('PLAINTEXT://:0'), { name: 'PLAINTEXT', host: '', port: 0 });
  assert.throws(() => parseListener('127.0.0.1:9092'), /NAME:\/\/host:port/);
  assert.throws(() => BrokerConfig.load({ overrides: { listeners: 'PLAINTEXT://x:99999' } }), /out of range/);
});
