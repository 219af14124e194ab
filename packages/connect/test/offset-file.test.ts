/**
 * The standalone worker's offsets file in Kafka Connect's format, checked against Java itself:
 * Java's ObjectInputStream reads what we write, and we read what ObjectOutputStream writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { javaPath, requirePeers } from '@sluice/test-peers';
import { readJavaByteArrayMap, writeJavaByteArrayMap } from '../src/runtime/java-serialized-map.js';
import { OffsetStore } from '../src/runtime/offset-store.js';

const PROGRAM = fileURLToPath(new URL('../../test/java/OffsetFile.java', import.meta.url));

function java(...args: string[]): string {
  const r = spawnSync(javaPath(), [PROGRAM, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `java ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-offset-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('Java reads the HashMap<byte[], byte[]> we write, and one entry is byte for byte what Java writes', (t) => {
  if (!requirePeers(t, 'openjdk-17-jdk-headless')) return;
  const dir = scratch(t);
  const ours = join(dir, 'ours.offsets');
  const entries = Array.from({ length: 20 }, (_, i) => [Buffer.from(`["c",{"file":"f${i}"}]`), i === 7 ? null : Buffer.from(`{"position":${i * 1000}}`)] as const);
  writeFileSync(ours, writeJavaByteArrayMap(entries));
  const lines = java('read', ours).trim().split('\n');
  assert.deepEqual(lines, entries.map(([k, v]) => `${k.toString()}\t${v === null ? 'null' : v.toString()}`).sort(), 'twenty entries (the table grows to 32 buckets), one null value');
  writeFileSync(ours, writeJavaByteArrayMap([]));
  assert.equal(java('read', ours), '', 'an empty map');

  // With one entry there is no iteration order to differ: the bytes must be Java's.
  const theirs = join(dir, 'theirs.offsets');
  java('write', theirs, '["conn",{"filename":"in.txt"}]', '{"position":42}');
  assert.deepEqual(writeJavaByteArrayMap([[Buffer.from('["conn",{"filename":"in.txt"}]'), Buffer.from('{"position":42}')]]), readFileSync(theirs));
});

test('we read what ObjectOutputStream writes, back-references and nulls included', (t) => {
  if (!requirePeers(t, 'openjdk-17-jdk-headless')) return;
  const dir = scratch(t);
  const file = join(dir, 'java.offsets');
  const pairs = Array.from({ length: 30 }, (_, i) => [`["c",{"n":${i}}]`, i % 10 === 3 ? 'null' : `{"o":${i}}`]);
  java('write', file, ...pairs.flat());
  const read = readJavaByteArrayMap(readFileSync(file)).map(([k, v]) => [k?.toString() ?? 'null', v?.toString() ?? 'null']);
  assert.deepEqual(read.sort(), pairs.sort());
  assert.throws(() => readJavaByteArrayMap(readFileSync(file).subarray(0, 40)), /not a Java-serialized HashMap<byte\[\], byte\[\]>: ends after 40 bytes/);
});

test('the standalone offset store keeps Kafka Connect\'s file: a Kafka worker\'s file is picked up, and what we write Java reads', (t) => {
  if (!requirePeers(t, 'openjdk-17-jdk-headless')) return;
  const dir = scratch(t);
  const file = join(dir, 'connect.offsets');
  // As a Kafka worker leaves it: the internal JSON converter's bytes; the partition's fields in another order than ours.
  java('write', file, '["file-source",{"topic":"lines","filename":"/data/in.txt"}]', '{"position":9007199254740993}', '["other",{"filename":"x"}]', '{"position":1}');
  const store = new OffsetStore(file);
  assert.deepEqual(store.forConnector('file-source').map((e) => e.offset.position), [9007199254740993n], 'an int64 offset keeps all its digits');
  assert.ok(store.get('file-source', { filename: '/data/in.txt', topic: 'lines' }), 'the partition is found whatever the field order');
  store.set('file-source', [{ partition: { filename: '/data/in.txt', topic: 'lines' }, offset: { position: 10n } }, { partition: { filename: '/data/more.txt' }, offset: { position: 5 } }]);
  store.set('other', [{ partition: { filename: 'x' }, offset: null }]);
  assert.deepEqual(java('read', file).trim().split('\n'), ['["file-source",{"filename":"/data/in.txt","topic":"lines"}]\t{"position":10}', '["file-source",{"filename":"/data/more.txt"}]\t{"position":5}']);
  assert.deepEqual(new OffsetStore(file).forConnector('file-source').length, 2, 'and we read our own file back');
});

test('an offsets file from an earlier Sluice (JSON) is still read, and rewritten in Kafka\'s format', (t) => {
  const dir = scratch(t);
  const file = join(dir, 'old.offsets');
  writeFileSync(file, JSON.stringify([['["c",{"f":"a"}]', { position: 3 }]]));
  const store = new OffsetStore(file);
  assert.deepEqual(store.get('c', { f: 'a' }), { position: 3 });
  store.set('c', [{ partition: { f: 'a' }, offset: { position: 4 } }]);
  assert.deepEqual(readJavaByteArrayMap(readFileSync(file)).map(([k, v]) => [k?.toString(), v?.toString()]), [['["c",{"f":"a"}]', '{"position":4}']]);
});
