/**
 * DSL stores keep each value with the timestamp of the record that last updated it (Kafka
 * Streams' timestamped stores): 8 bytes of timestamp, then the value bytes. Readers that only
 * want values (interactive queries, the test driver's getKeyValueStore) get an unwrapping view.
 */
import type { Serde } from '../serdes.js';
import { KeyValueStoreImpl, type KeyValueStore } from './key-value-store.js';
import type { StateStore } from './store.js';
import { WindowStoreImpl, type WindowStore } from './window-store.js';

export interface ValueAndTimestamp<V> {
  value: V;
  timestamp: number;
}

export class TimestampedSerde<V> implements Serde<ValueAndTimestamp<V>> {
  constructor(readonly inner: Serde<V>) {}

  serialize(topic: string, data: ValueAndTimestamp<V> | null): Buffer | null {
    if (data === null) return null;
    const value = this.inner.serialize(topic, data.value);
    const ts = Buffer.alloc(8);
    ts.writeBigInt64BE(BigInt(data.timestamp));
    return value === null ? ts : Buffer.concat([ts, value]);
  }

  deserialize(topic: string, data: Buffer | null): ValueAndTimestamp<V> | null {
    if (data === null) return null;
    return { timestamp: Number(data.readBigInt64BE(0)), value: this.inner.deserialize(topic, data.subarray(8)) as V };
  }
}

function isTimestamped(store: StateStore): boolean {
  return (store instanceof KeyValueStoreImpl || store instanceof WindowStoreImpl) && store.valueSerde instanceof TimestampedSerde;
}

/** The store itself if plain, else a view with the timestamps stripped. */
export function unwrapTimestamped(store: StateStore): StateStore {
  if (!isTimestamped(store)) return store;
  if (store instanceof KeyValueStoreImpl) {
    const kv = store as KeyValueStore<unknown, ValueAndTimestamp<unknown>> & StateStore;
    const view: KeyValueStore<unknown, unknown> = {
      name: kv.name,
      get: (k) => kv.get(k)?.value ?? null,
      put: (k, v) => kv.put(k, v === null ? null : { value: v, timestamp: Date.now() }),
      putIfAbsent: (k, v) => kv.putIfAbsent(k, { value: v, timestamp: Date.now() })?.value ?? null,
      delete: (k) => kv.delete(k)?.value ?? null,
      range: (f, t) => kv.range(f, t).map((e) => ({ key: e.key, value: e.value.value })),
      all: () => kv.all().map((e) => ({ key: e.key, value: e.value.value })),
      approximateNumEntries: () => kv.approximateNumEntries(),
    };
    return withoutName(store, view);
  }
  const ws = store as unknown as WindowStore<unknown, ValueAndTimestamp<unknown>> & StateStore;
  const view: WindowStore<unknown, unknown> = {
    name: ws.name,
    put: (k, v, start) => ws.put(k, v === null ? null : { value: v, timestamp: start }, start),
    fetch: (k, start) => ws.fetch(k, start)?.value ?? null,
    fetchRange: (k, from, to) => ws.fetchRange(k, from, to).map((e) => ({ windowStart: e.windowStart, value: e.value.value })),
    all: () => ws.all().map((e) => ({ key: e.key, value: e.value.value })),
    fetchAll: (from, to) => ws.fetchAll(from, to).map((e) => ({ key: e.key, value: e.value.value })),
  };
  return withoutName(store, view);
}

/** The view's methods over the store's prototype chain (name and lifecycle come from the store). */
function withoutName(store: StateStore, view: object): StateStore {
  const { name: _name, ...methods } = view as { name: string };
  void _name;
  return Object.assign(Object.create(store) as StateStore, methods);
}
