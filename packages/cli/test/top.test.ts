/** `sluice top --once`: brokers, topics by bytes in/out and request rates from /metrics while a producer runs, laggiest groups with Burrow's status. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Producer } from '@sluice/client';
import { run, startTestBroker } from './helpers.js';
import type { TopSnapshot } from '../src/commands/top.js';

test('sluice top --once: a snapshot from the metrics endpoint and the Kafka protocol; without it, log growth', { timeout: 60_000 }, async (t) => {
  const tb = await startTestBroker({ 'metrics.port': 0 });
  t.after(() => tb.stop());
  const bs = ['--bootstrap-server', tb.bootstrap];
  assert.equal((await run('topics', [...bs, '--create', '--topic', 'busy', '--partitions', '2'])).code, 0);
  const admin = new Admin({ brokers: [tb.bootstrap] });
  t.after(() => admin.close());
  const producer = new Producer({ brokers: [tb.bootstrap], lingerMs: 1, acks: 1 });
  t.after(() => producer.close());
  for (let i = 0; i < 20; i++) await producer.send({ topic: 'busy', partition: i % 2, value: `v${i}` });
  // A group 15 records behind on partition 0 and 5 on partition 1.
  await admin.alterConsumerGroupOffsets('behind', [{ topic: 'busy', partition: 0, offset: 0n }, { topic: 'busy', partition: 1, offset: 5n }]);
  let producing = true;
  const load = (async () => {
    while (producing) await producer.send({ topic: 'busy', value: 'x'.repeat(1000) });
  })();
  const url = `http://127.0.0.1:${tb.broker.metricsEndpoint!.port}`;
  const once = await run('top', [...bs, '--metrics-url', url, '--once', '--json', '--interval', '500']);
  const text = await run('top', [...bs, '--once', '--interval', '300']);
  producing = false;
  await load;
  assert.equal(once.code, 0, once.stderr);
  const s = JSON.parse(once.stdout) as TopSnapshot;
  assert.deepEqual(s.brokers.map((b) => [b.id, b.controller]), [[tb.broker.nodeId, true]]);
  const busy = s.topics.find((x) => x.topic === 'busy');
  assert.ok(busy && busy.bytesInPerSec > 1000 && busy.source === 'metrics', JSON.stringify(s.topics));
  assert.ok(s.requests?.some((r) => r.request === 'Produce' && r.perSec > 1 && r.meanMs >= 0), JSON.stringify(s.requests));
  const behind = s.groups.find((g) => g.group === 'behind');
  assert.ok(behind && behind.lag >= 20, JSON.stringify(s.groups));
  assert.ok(behind.status !== null && ['OK', 'WARN', 'ERR'].includes(behind.status));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^BROKERS\n/m);
  assert.match(text.stdout, /TOPICS \(log growth on disk/);
  assert.match(text.stdout, /REQUESTS\n\(needs --metrics-url\)/);
  assert.match(text.stdout, /LAGGIEST GROUPS\nGROUP +LAG +STATUS\nbehind +\d+ +-/);
});
