/** KGroupedTable: aggregations of a re-keyed table, with adders and subtractors. */
import type { ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import { Serdes, type Serde } from '../serdes.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { StateStore } from '../state/store.js';
import type { ValueAndTimestamp } from '../state/timestamped.js';
import { Materialized, type Named } from './options.js';
import { ChangeSerde, keyValueStoreFor, storeGetter, type Change } from './internal.js';
import type { StreamsBuilder } from './streams-builder.js';
import { KTable } from './ktable.js';
import type { Aggregator, Initializer, Reducer } from './grouped-stream.js';

export class KGroupedTable<K, V> {
  constructor(
    readonly builder: StreamsBuilder,
    /** The KTABLE-SELECT node emitting (new key, change) records. */
    readonly selectNode: string,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly groupedName: string | undefined,
  ) {}

  count(named?: Named, materialized?: Materialized<K, number>): KTable<K, number> {
    const m = materialized ?? Materialized.empty<K, number>();
    return this.aggregateImpl<number>('KTABLE-AGGREGATE-', () => 0, (_k, _v, n) => n + 1, (_k, _v, n) => n - 1, named, m.options.valueSerde ? m : m.withValueSerde(Serdes.Long()), false);
  }

  reduce(adder: Reducer<V>, subtractor: Reducer<V>, named?: Named, materialized?: Materialized<K, V>): KTable<K, V> {
    const m = materialized ?? Materialized.empty<K, V>();
    return this.aggregateImpl<V>('KTABLE-REDUCE-', () => null as unknown as V, (_k, v, agg) => (agg === null ? v : adder(agg, v)), (_k, v, agg) => subtractor(agg, v), named, m.options.valueSerde ? m : m.withValueSerde(this.valueSerde ?? this.builder.topology.defaultSerde<V>('value')), true);
  }

  aggregate<VA>(initializer: Initializer<VA>, adder: Aggregator<K, V, VA>, subtractor: Aggregator<K, V, VA>, named?: Named, materialized?: Materialized<K, VA>): KTable<K, VA> {
    return this.aggregateImpl('KTABLE-AGGREGATE-', initializer, adder, subtractor, named, materialized ?? Materialized.empty(), false);
  }

  private aggregateImpl<VA>(prefix: string, initializer: Initializer<VA>, adder: Aggregator<K, V, VA>, subtractor: Aggregator<K, V, VA>, named: Named | undefined, materialized: Materialized<K, VA>, isReduce: boolean): KTable<K, VA> {
    const topology = this.builder.topology;
    const name = named?.name ?? this.builder.newName(prefix);
    const storeName = materialized.options.storeName ?? this.builder.newName(`${prefix}STATE-STORE-`);
    const base = this.groupedName ?? storeName;
    const topic = `${base}-repartition`;
    const keySerde = this.keySerde ?? topology.defaultSerde<K>('key');
    const changeSerde = new ChangeSerde(this.valueSerde ?? topology.defaultSerde<V>('value'));
    topology.addInternalTopic(topic);
    topology.addSink(`${base}-repartition-sink`, topic, { keySerializer: keySerde, valueSerializer: changeSerde }, this.selectNode);
    const sourceName = `${base}-repartition-source`;
    topology.addSource(sourceName, [topic], { keyDeserializer: keySerde as Serde<unknown>, valueDeserializer: changeSerde as Serde<unknown> });
    const supplier: ProcessorSupplier<K, Change<V>, K, Change<VA>> = () => {
      let context: ProcessorContext<K, Change<VA>>;
      let store: KeyValueStore<K, ValueAndTimestamp<VA>>;
      return {
        init(c) {
          context = c;
          store = c.getStateStore<KeyValueStore<K, ValueAndTimestamp<VA>> & StateStore>(storeName);
        },
        process(r) {
          if (r.key === null || r.key === undefined) return;
          const old = store.get(r.key);
          let agg: VA | null = old ? old.value : null;
          if (r.value.oldValue !== null && agg !== null) agg = subtractor(r.key, r.value.oldValue, agg);
          if (r.value.newValue !== null) agg = adder(r.key, r.value.newValue, agg === null && !isReduce ? initializer() : (agg as VA));
          const timestamp = old ? Math.max(old.timestamp, r.timestamp) : r.timestamp;
          store.put(r.key, agg === null ? null : { value: agg, timestamp });
          context.forward(r.withValue({ newValue: agg, oldValue: old ? old.value : null }).withTimestamp(timestamp));
        },
      };
    };
    topology.addProcessor(name, supplier, sourceName);
    const valueSerde = materialized.options.valueSerde;
    topology.addStateStore(keyValueStoreFor(topology, storeName, materialized.options, materialized.options.keySerde ?? keySerde, valueSerde ?? topology.defaultSerde<VA>('value')), name);
    return new KTable<K, VA>(this.builder, name, this.keySerde, valueSerde, storeName, storeGetter(storeName), []);
  }
}
