import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Serdes, SerializationError, Stores, WindowedSerdes, type StateStore } from '../../src/index.js';

function open<S extends StateStore>(store: S, dir: string, log?: Array<[string, string | null]>): S {
  store.init({ taskDirectory: dir, logger: log ? (k, v) => void log.push([k.toString('hex'), v ? v.toString('hex') : null]) : null, timestamp: () => 0 });
  return store;
}

for (const persistent of [false, true]) {
  const kind = persistent ? 'LMDB' : 'in-memory';

  test(`${kind} key-value store: get/put/delete, ranges in key byte order, changelog writes`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-kv-'));
    try {
      const supplier = persistent ? Stores.persistentKeyValueStore('kv') : Stores.inMemoryKeyValueStore('kv');
      const log: Array<[string, string | null]> = [];
      const store = open(Stores.keyValueStoreBuilder(supplier, Serdes.String(), Serdes.Integer()).build(), dir, log);
      for (const [k, v] of [['b', 2], ['a', 1], ['d', 4], ['c', 3]] as const) store.put(k, v);
      assert.equal(store.get('c'), 3);
      assert.equal(store.putIfAbsent('c', 9), 3);
      assert.equal(store.delete('d'), 4);
      assert.equal(store.get('d'), null);
      assert.deepEqual(store.range('b', 'c').map((e) => e.key), ['b', 'c']);
      assert.deepEqual(store.all().map((e) => [e.key, e.value]), [['a', 1], ['b', 2], ['c', 3]]);
      assert.equal(log.length, 5);
      assert.deepEqual(log[4], [Buffer.from('d').toString('hex'), null]);
      store.close();
      if (persistent) {
        // Reopened from disk: the data survived the close.
        const again = open(Stores.keyValueStoreBuilder(supplier, Serdes.String(), Serdes.Integer()).build(), dir);
        assert.deepEqual(again.all().map((e) => [e.key, e.value]), [['a', 1], ['b', 2], ['c', 3]]);
        again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind} window and session stores: fetch by key and time, retention`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-ws-'));
    try {
      const ws = open(Stores.windowStoreBuilder(persistent ? Stores.persistentWindowStore('w', 100, 10, false) : Stores.inMemoryWindowStore('w', 100, 10, false), Serdes.String(), Serdes.Integer()).build(), dir);
      ws.put('a', 1, 0);
      ws.put('a', 2, 10);
      ws.put('b', 3, 10);
      ws.put('a', 4, 50);
      assert.deepEqual(ws.fetchRange('a', 0, 20).map((w) => [w.windowStart, w.value]), [[0, 1], [10, 2]]);
      assert.equal(ws.fetch('b', 10), 3);
      ws.put('a', 5, 110); // retention 100: window 0 (and 10) expire
      assert.equal(ws.fetch('a', 0), null);
      assert.deepEqual(ws.all().map((e) => [e.key.key, e.key.window.start, e.value]), [['a', 50, 4], ['a', 110, 5]]);
      ws.flush();
      ws.close();
      const ss = open(Stores.sessionStoreBuilder(persistent ? Stores.persistentSessionStore('s', 1000) : Stores.inMemorySessionStore('s', 1000), Serdes.String(), Serdes.Integer()).build(), dir);
      ss.put({ key: 'u', window: { start: 0, end: 5 } }, 2);
      ss.put({ key: 'u', window: { start: 20, end: 30 } }, 3);
      ss.put({ key: 'v', window: { start: 1, end: 2 } }, 1);
      assert.deepEqual(ss.findSessions('u', 4, 25).map((s) => [s.key.window.start, s.key.window.end]), [[0, 5], [20, 30]]);
      assert.deepEqual(ss.findSessions('u', 6, 25).map((s) => s.key.window.start), [20]);
      assert.deepEqual(ss.findSessions('u', 0, 10).map((s) => s.key.window.start), [0]);
      ss.remove({ key: 'u', window: { start: 0, end: 5 } });
      assert.deepEqual(ss.fetch('u').map((s) => s.value), [3]);
      assert.equal(ss.fetchSession('v', 1, 2), 1);
      ss.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('serdes: Java byte layouts, nulls, and clear errors for bad bytes', () => {
  assert.equal(Serdes.Long().serialize('t', 5)!.toString('hex'), '0000000000000005');
  assert.equal(Serdes.Integer().serialize('t', -1)!.toString('hex'), 'ffffffff');
  assert.equal(Serdes.Double().deserialize('t', Serdes.Double().serialize('t', 1.5)), 1.5);
  assert.equal(Serdes.BigLong().deserialize('t', Buffer.from('7fffffffffffffff', 'hex')), 2n ** 63n - 1n);
  assert.equal(Serdes.String().serialize('t', null), null);
  assert.equal(Serdes.JSON<{ a: number }>().deserialize('t', Buffer.from('{"a":1}'))!.a, 1);
  assert.throws(() => Serdes.Long().deserialize('t', Buffer.from('abc')), SerializationError);
  assert.throws(() => Serdes.JSON().deserialize('t', Buffer.from('{')), SerializationError);
  const upper = Serdes.from<string>((s) => Buffer.from(s.toUpperCase()), (b) => b.toString().toLowerCase());
  assert.equal(upper.deserialize('t', upper.serialize('t', 'abc')), 'abc');
  const windowed = WindowedSerdes.timeWindowedSerdeFrom(Serdes.String(), 60_000);
  const bytes = windowed.serialize('t', { key: 'k', window: { start: 120_000, end: 180_000 } })!;
  assert.equal(bytes.toString('hex'), `6b${(120_000).toString(16).padStart(16, '0')}`);
  assert.deepEqual(windowed.deserialize('t', bytes), { key: 'k', window: { start: 120_000, end: 180_000 } });
});
