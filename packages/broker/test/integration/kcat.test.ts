/** librdkafka through kcat: metadata, keyed produce with every codec, consume from beginning/offset/timestamp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kcatPath, requirePeers } from '@sluice/test-peers';
import { run, startTestBroker } from '../helpers.js';

const KCAT = kcatPath();

test('kcat: metadata, produce with every codec, consume from beginning, offset and timestamp', { timeout: 120_000 }, async (t) => {
  if (!requirePeers(t, 'kcat')) return;
  const tb = await startTestBroker({ 'num.partitions': 1 });
  t.after(() => tb.dispose());
  const b = ['-b', tb.bootstrap];

  const list = await run(KCAT, [...b, '-L', '-J']);
  assert.equal(list.code, 0, list.stderr);
  const md = JSON.parse(list.stdout) as { brokers: { id: number; name: string }[]; controllerid: number };
  assert.equal(md.brokers[0].id, 1);
  assert.equal(md.brokers[0].name, tb.bootstrap);

  const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
  let expected: string[] = [];
  for (const codec of codecs) {
    const lines = Array.from({ length: 200 }, (_, i) => `${codec}-key-${i % 7}:${codec}-value-${i}`);
    const produced = await run(KCAT, [...b, '-P', '-t', 'kc', '-K:', '-z', codec, '-X', 'linger.ms=5'], { input: lines.join('\n') + '\n' });
    assert.equal(produced.code, 0, `${codec}: ${produced.stderr}`);
    expected = expected.concat(lines.map((l) => l.replace(':', '=')));
  }
  const all = await run(KCAT, [...b, '-C', '-t', 'kc', '-o', 'beginning', '-e', '-q', '-f', '%k=%s\n']);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(all.stdout.trim().split('\n'), expected);

  const fromOffset = await run(KCAT, [...b, '-C', '-t', 'kc', '-p', '0', '-o', '995', '-e', '-q', '-f', '%o %s\n']);
  assert.deepEqual(fromOffset.stdout.trim().split('\n'), ['995 zstd-value-195', '996 zstd-value-196', '997 zstd-value-197', '998 zstd-value-198', '999 zstd-value-199']);

  // Consume from a timestamp: only what was produced after it.
  await new Promise((r) => setTimeout(r, 50));
  const boundary = Date.now();
  await new Promise((r) => setTimeout(r, 50));
  const late = await run(KCAT, [...b, '-P', '-t', 'kc', '-K:'], { input: 'late:after-the-boundary\n' });
  assert.equal(late.code, 0, late.stderr);
  const fromTime = await run(KCAT, [...b, '-C', '-t', 'kc', '-o', `s@${boundary}`, '-e', '-q', '-f', '%o %k=%s\n']);
  assert.equal(fromTime.code, 0, fromTime.stderr);
  assert.equal(fromTime.stdout.trim(), '1000 late=after-the-boundary');
});

test('kcat: acks=0 and acks=all produce, multi-partition topic', { timeout: 120_000 }, async (t) => {
  if (!requirePeers(t, 'kcat')) return;
  const tb = await startTestBroker({ 'num.partitions': 4 });
  t.after(() => tb.dispose());
  const b = ['-b', tb.bootstrap];
  for (const acks of ['0', 'all']) {
    const lines = Array.from({ length: 1000 }, (_, i) => `k${i}:acks-${acks}-${i}`);
    const produced = await run(KCAT, [...b, '-P', '-t', 'multi', '-K:', '-X', `acks=${acks}`], { input: lines.join('\n') + '\n' });
    assert.equal(produced.code, 0, produced.stderr);
  }
  const consumed = await run(KCAT, [...b, '-C', '-t', 'multi', '-o', 'beginning', '-e', '-q', '-f', '%p %k=%s\n']);
  const rows = consumed.stdout.trim().split('\n');
  assert.equal(rows.length, 2000);
  const partitions = new Set(rows.map((r) => r.split(' ')[0]));
  assert.equal(partitions.size, 4);
  // Keyed: the same key always lands on the same partition.
  const partitionOfKey = new Map<string, string>();
  for (const r of rows) {
    const [p, kv] = r.split(' ');
    const k = kv.split('=')[0];
    assert.equal(partitionOfKey.get(k) ?? p, p);
    partitionOfKey.set(k, p);
  }
});
