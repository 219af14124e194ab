/**
 * Pieces the DSL operators share: KTable change records (new and old value), value getters (how
 * a table operator reads the current value of a key through its upstream operators), and store
 * creation honoring Materialized and `default.dsl.store`.
 */
import type { ProcessorContext } from '../processor/processor.js';
import type { Serde } from '../serdes.js';
import type { Topology } from '../processor/topology.js';
import { inMemorySupplier, lmdbSupplier, type BytesStoreSupplier, type StateStore } from '../state/store.js';
import { Stores, type StoreBuilder } from '../state/stores.js';
import { TimestampedSerde, type ValueAndTimestamp } from '../state/timestamped.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { MaterializedOptions } from './options.js';

/** What KTable operators pass each other: the key's new value and the value it replaced. */
export interface Change<V> {
  newValue: V | null;
  oldValue: V | null;
}

/** Reads a table's current value of a key from inside a processor. */
export interface ValueGetterSupplier<K, V> {
  /** Stores the reading processor must be connected to. */
  storeNames: string[];
  init(context: ProcessorContext<unknown, unknown>): (key: K) => ValueAndTimestamp<V> | null;
}

export function storeGetter<K, V>(storeName: string): ValueGetterSupplier<K, V> {
  return {
    storeNames: [storeName],
    init(context) {
      const store = context.getStateStore<KeyValueStore<K, ValueAndTimestamp<V>> & StateStore>(storeName);
      return (key) => store.get(key);
    },
  };
}

/** A store supplier whose engine follows Materialized's store type, else `default.dsl.store`. */
export function dslSupplier(topology: Topology, name: string, storeType: 'in-memory' | 'persistent' | undefined): BytesStoreSupplier {
  const pick = (): BytesStoreSupplier => ((storeType ?? topology.dslStoreType) === 'in-memory' ? inMemorySupplier(name) : lmdbSupplier(name));
  return {
    name,
    get persistent() {
      return pick().persistent;
    },
    get: (dir) => pick().get(dir),
  };
}

export function keyValueStoreFor<K, V>(topology: Topology, name: string, mat: MaterializedOptions<K, V> | undefined, keySerde: Serde<K>, valueSerde: Serde<V>): StoreBuilder {
  const supplier = mat?.supplier ?? dslSupplier(topology, name, mat?.storeType);
  const builder = Stores.keyValueStoreBuilder(supplier, keySerde, new TimestampedSerde(valueSerde));
  return mat && !mat.loggingEnabled ? builder.withLoggingDisabled() : builder.withLoggingEnabled(mat?.logConfig ?? {});
}

export function windowStoreFor<K, V>(
  topology: Topology,
  name: string,
  mat: MaterializedOptions<K, V> | undefined,
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  retentionMs: number,
  windowSizeMs: number,
  timestamped: boolean,
  retainDuplicates: boolean,
): StoreBuilder {
  const base = dslSupplier(topology, name, mat?.storeType);
  const supplier = { name, get persistent() { return base.persistent; }, get: base.get, retentionMs, windowSizeMs, retainDuplicates };
  const builder = timestamped ? Stores.windowStoreBuilder(supplier, keySerde, new TimestampedSerde(valueSerde)) : Stores.windowStoreBuilder(supplier, keySerde, valueSerde as Serde<unknown>);
  return mat && !mat.loggingEnabled ? builder.withLoggingDisabled() : builder.withLoggingEnabled(mat?.logConfig ?? {});
}

export function sessionStoreFor<K, V>(topology: Topology, name: string, mat: MaterializedOptions<K, V> | undefined, keySerde: Serde<K>, valueSerde: Serde<V>, retentionMs: number): StoreBuilder {
  const base = dslSupplier(topology, name, mat?.storeType);
  const supplier = { name, get persistent() { return base.persistent; }, get: base.get, retentionMs };
  const builder = Stores.sessionStoreBuilder(supplier, keySerde, valueSerde);
  return mat && !mat.loggingEnabled ? builder.withLoggingDisabled() : builder.withLoggingEnabled(mat?.logConfig ?? {});
}

/** Change records on repartition topics (KTable.groupBy): a flag byte, then new and old value. */
export class ChangeSerde<V> implements Serde<Change<V>> {
  constructor(readonly inner: Serde<V>) {}

  serialize(topic: string, data: Change<V> | null): Buffer | null {
    if (data === null) return null;
    const n = data.newValue === null ? null : this.inner.serialize(topic, data.newValue);
    const o = data.oldValue === null ? null : this.inner.serialize(topic, data.oldValue);
    const head = Buffer.alloc(5);
    head.writeUInt8((n ? 1 : 0) | (o ? 2 : 0), 0);
    head.writeUInt32BE(n?.length ?? 0, 1);
    return Buffer.concat([head, n ?? Buffer.alloc(0), o ?? Buffer.alloc(0)]);
  }

  deserialize(topic: string, data: Buffer | null): Change<V> | null {
    if (data === null) return null;
    const flags = data.readUInt8(0);
    const len = data.readUInt32BE(1);
    return {
      newValue: flags & 1 ? this.inner.deserialize(topic, data.subarray(5, 5 + len)) : null,
      oldValue: flags & 2 ? this.inner.deserialize(topic, data.subarray(5 + len)) : null,
    };
  }
}

/** Stable identity of a key for in-memory maps (suppress buffers, join outer buffers). */
export function keyIdentity(key: unknown): string {
  if (Buffer.isBuffer(key)) return `b:${key.toString('base64')}`;
  if (typeof key === 'bigint') return `n:${key}`;
  return `${typeof key}:${JSON.stringify(key, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
}
