/**
 * KTable: a changelog stream read as a table. Operators pass `Change` records (new and old value)
 * and read each other's current values through value getters, as in Kafka Streams, so a table
 * only needs a store where it is materialized.
 */
import type { ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import type { Record } from '../processor/record.js';
import type { Serde } from '../serdes.js';
import type { KeyValue, KeyValueStore } from '../state/key-value-store.js';
import type { StateStore } from '../state/store.js';
import type { ValueAndTimestamp } from '../state/timestamped.js';
import { Grouped, Materialized, Named } from './options.js';
import { ChangeSerde, dslSupplier, keyValueStoreFor, storeGetter, type Change, type ValueGetterSupplier } from './internal.js';
import { Serdes } from '../serdes.js';
import { Stores } from '../state/stores.js';
import type { StreamsBuilder } from './streams-builder.js';
import { KStream, type ValueJoiner } from './kstream.js';
import { KGroupedTable } from './grouped-table.js';
import { suppressSupplier, type Suppressed } from './suppress.js';
import { tableTableJoin } from './table-joins.js';
import { foreignKeyJoin } from './foreign-key-join.js';

/** Windowed tables remember their windows' grace, which suppress(untilWindowCloses) needs. */
export interface WindowInfo {
  graceMs: number;
}

export class KTable<K, V> {
  constructor(
    readonly builder: StreamsBuilder,
    readonly nodeName: string,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    /** The store holding this table, when materialized (queryable by this name). */
    readonly storeName: string | null,
    readonly getter: ValueGetterSupplier<K, V>,
    /** Source topics this table's partitioning follows (co-partitioning checks). */
    readonly sourceTopics: string[],
    readonly windowInfo?: WindowInfo,
  ) {}

  queryableStoreName(): string | null {
    return this.storeName;
  }

  /** Adds a table operator; with Materialized it also gets a store and reads from it. */
  private addTableOp<VR>(
    prefix: string,
    named: Named | undefined,
    materialized: Materialized<K, VR> | undefined,
    compute: (record: Record<K, Change<V>>) => Change<VR> | null,
    getter: ValueGetterSupplier<K, VR>,
    valueSerde: Serde<VR> | undefined,
  ): KTable<K, VR> {
    const name = named?.name ?? this.builder.newName(prefix);
    const storeName = materialized ? (materialized.options.storeName ?? this.builder.newName(`${prefix}STATE-STORE-`)) : null;
    const supplier: ProcessorSupplier<K, Change<V>, K, Change<VR>> = () => {
      let context: ProcessorContext<K, Change<VR>>;
      let store: KeyValueStore<K, ValueAndTimestamp<VR>> | null = null;
      return {
        init(c) {
          context = c;
          if (storeName) store = c.getStateStore<KeyValueStore<K, ValueAndTimestamp<VR>> & StateStore>(storeName);
        },
        process(record) {
          const change = compute(record);
          if (!change || (change.newValue === null && change.oldValue === null)) return;
          if (store) store.put(record.key, change.newValue === null ? null : { value: change.newValue, timestamp: record.timestamp });
          context.forward(record.withValue(change));
        },
      };
    };
    this.builder.topology.addProcessor(name, supplier, this.nodeName);
    if (this.getter.storeNames.length) this.builder.topology.connectProcessorAndStateStores([name], ...this.getter.storeNames);
    const vs = materialized?.options.valueSerde ?? valueSerde;
    if (storeName) {
      const ks = materialized?.options.keySerde ?? this.keySerde ?? this.builder.topology.defaultSerde<K>('key');
      this.builder.topology.addStateStore(keyValueStoreFor(this.builder.topology, storeName, materialized?.options, ks, vs ?? this.builder.topology.defaultSerde<VR>('value')), name);
    }
    return new KTable<K, VR>(this.builder, name, this.keySerde, vs, storeName, storeName ? storeGetter(storeName) : getter, this.sourceTopics, this.windowInfo);
  }

  filter(predicate: (key: K, value: V) => boolean, named?: Named, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.filterImpl(predicate, false, named, materialized);
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: Named, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.filterImpl(predicate, true, named, materialized);
  }

  private filterImpl(predicate: (key: K, value: V) => boolean, not: boolean, named: Named | undefined, materialized: Materialized<K, V> | undefined): KTable<K, V> {
    const keep = (k: K, v: V | null): V | null => (v !== null && predicate(k, v) !== not ? v : null);
    const parent = this.getter;
    return this.addTableOp<V>('KTABLE-FILTER-', named, materialized, (r) => ({ newValue: keep(r.key, r.value.newValue), oldValue: keep(r.key, r.value.oldValue) }), {
      storeNames: parent.storeNames,
      init(c) {
        const get = parent.init(c);
        return (k) => {
          const v = get(k);
          return v && keep(k, v.value) !== null ? v : null;
        };
      },
    }, this.valueSerde);
  }

  mapValues<VR>(mapper: (value: V, key: K) => VR, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR> {
    const map = (k: K, v: V | null): VR | null => (v === null ? null : mapper(v, k));
    const parent = this.getter;
    return this.addTableOp<VR>('KTABLE-MAPVALUES-', named, materialized, (r) => ({ newValue: map(r.key, r.value.newValue), oldValue: map(r.key, r.value.oldValue) }), {
      storeNames: parent.storeNames,
      init(c) {
        const get = parent.init(c);
        return (k) => {
          const v = get(k);
          return v ? { value: mapper(v.value, k), timestamp: v.timestamp } : null;
        };
      },
    }, undefined);
  }

  /** The table's changelog as a stream: each update's new value (null for deletes). */
  toStream(named?: Named): KStream<K, V>;
  toStream<KR>(mapper: (key: K, value: V | null) => KR, named?: Named): KStream<KR, V>;
  toStream<KR>(a?: Named | ((key: K, value: V | null) => KR), b?: Named): KStream<K, V> | KStream<KR, V> {
    const named = a instanceof Named ? a : b;
    const name = named?.name ?? this.builder.newName('KTABLE-TOSTREAM-');
    this.builder.topology.addProcessor<K, Change<V>, K, V | null>(name, () => {
      let context: ProcessorContext<K, V | null>;
      return { init: (c) => void (context = c), process: (r) => context.forward(r.withValue(r.value.newValue)) };
    }, this.nodeName);
    const stream = new KStream<K, V>(this.builder, name, this.keySerde, this.valueSerde, false);
    return typeof a === 'function' ? stream.selectKey((k, v) => a(k, v)) : stream;
  }

  /** Re-keys the table for aggregation; updates travel as (subtract old, add new) through a repartition topic. */
  groupBy<KR, VR>(selector: (key: K, value: V) => KeyValue<KR, VR>, grouped?: Grouped<KR, VR>): KGroupedTable<KR, VR> {
    const o = grouped?.options ?? {};
    const selectName = this.builder.newName('KTABLE-SELECT-');
    this.builder.topology.addProcessor<K, Change<V>, KR, Change<VR>>(selectName, () => {
      let context: ProcessorContext<KR, Change<VR>>;
      return {
        init: (c) => void (context = c),
        process(r) {
          // The old value is subtracted before the new one is added, as in Kafka Streams.
          if (r.value.oldValue !== null) {
            const kv = selector(r.key, r.value.oldValue);
            if (kv.key !== null && kv.key !== undefined) context.forward(r.withKey(kv.key).withValue({ newValue: null, oldValue: kv.value }));
          }
          if (r.value.newValue !== null) {
            const kv = selector(r.key, r.value.newValue);
            if (kv.key !== null && kv.key !== undefined) context.forward(r.withKey(kv.key).withValue({ newValue: kv.value, oldValue: null }));
          }
        },
      };
    }, this.nodeName);
    return new KGroupedTable<KR, VR>(this.builder, selectName, o.keySerde, o.valueSerde, o.name);
  }

  join<VO, VR>(other: KTable<K, VO>, joiner: ValueJoiner<V, VO, VR>, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR>;
  /** Foreign-key join: each row joins the `other` row whose key `foreignKey(value)` names. */
  join<KO, VO, VR>(other: KTable<KO, VO>, foreignKey: (value: V) => KO, joiner: ValueJoiner<V, VO, VR>, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR>;
  join(...args: unknown[]): unknown {
    return this.joinImpl(false, args);
  }


  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: ValueJoiner<V, VO | null, VR>, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR>;
  /** Foreign-key left join: rows whose foreign key names no row join with null. */
  leftJoin<KO, VO, VR>(other: KTable<KO, VO>, foreignKey: (value: V) => KO, joiner: ValueJoiner<V, VO | null, VR>, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR>;
  leftJoin(...args: unknown[]): unknown {
    return this.joinImpl(true, args);
  }

  private joinImpl(left: boolean, [other, a, b, c, d]: unknown[]): unknown {
    if (typeof b === 'function') {
      return foreignKeyJoin(this, other as KTable<unknown, unknown>, a as (v: V) => unknown, b as ValueJoiner<V, unknown, unknown>, left, c as Named | undefined, d as Materialized<K, unknown> | undefined);
    }
    return tableTableJoin(this, other as KTable<K, unknown>, left ? 'left' : 'inner', a as ValueJoiner<V | null, unknown, unknown>, b as Named | undefined, c as Materialized<K, unknown> | undefined);
  }


  outerJoin<VO, VR>(other: KTable<K, VO>, joiner: ValueJoiner<V | null, VO | null, VR>, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return tableTableJoin(this, other, 'outer', joiner, named, materialized);
  }

  /** Holds back updates (e.g. until a window closes) and emits only the last per key. */
  suppress(suppressed: Suppressed, named?: Named): KTable<K, V> {
    const name = named?.name ?? suppressed.name ?? this.builder.newName('KTABLE-SUPPRESS-');
    if (suppressed.untilWindowCloses && !this.windowInfo) throw new TypeError('suppress(untilWindowCloses) needs a windowed table (windowedBy(...).aggregate/count/reduce)');
    const storeName = `${name.startsWith('KTABLE-SUPPRESS-') ? name.replace('KTABLE-SUPPRESS-', 'KTABLE-SUPPRESS-STATE-STORE-') : `${name}-store`}`;
    const topology = this.builder.topology;
    const keySerde = this.keySerde ?? topology.defaultSerde<K>('key');
    const valueSerde = this.valueSerde ?? topology.defaultSerde<V>('value');
    topology.addProcessor(name, suppressSupplier<K, V>(suppressed, this.windowInfo?.graceMs ?? 0, storeName, keySerde, valueSerde), this.nodeName);
    topology.addStateStore(Stores.keyValueStoreBuilder(dslSupplier(topology, storeName, 'in-memory'), Serdes.Bytes(), Serdes.Bytes()), name);
    return new KTable<K, V>(this.builder, name, this.keySerde, this.valueSerde, null, this.getter, this.sourceTopics, this.windowInfo);
  }

  /** Internal: the change serde for repartitioning this table's updates. */
  changeSerde(): ChangeSerde<V> {
    return new ChangeSerde(this.valueSerde ?? this.builder.topology.defaultSerde<V>('value'));
  }
}

/** A table read whole by every instance; only usable in stream joins. */
export class GlobalKTable<K, V> {
  constructor(
    readonly storeName: string,
    readonly topic: string,
  ) {}

  queryableStoreName(): string {
    return this.storeName;
  }

  getter(): ValueGetterSupplier<K, V> {
    return storeGetter<K, V>(this.storeName);
  }
}
