/** StreamsBuilder: where a DSL topology starts (streams, tables, global tables) and is built. */
import type { ProcessorSupplier } from '../processor/processor.js';
import { Topology, type StreamPartitioner } from '../processor/topology.js';
import type { Serde } from '../serdes.js';
import type { StoreBuilder } from '../state/stores.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { ValueAndTimestamp } from '../state/timestamped.js';
import type { StateStore } from '../state/store.js';
import { Consumed, Materialized, type Named } from './options.js';
import { keyValueStoreFor, storeGetter, type Change } from './internal.js';
import { KStream } from './kstream.js';
import { GlobalKTable, KTable } from './ktable.js';

/** Table source / toTable: upserts each record into the store and forwards the change. */
export function tableSourceSupplier<K, V>(storeName: string): ProcessorSupplier<K, V | null, K, Change<V>> {
  return () => {
    let store: KeyValueStore<K, ValueAndTimestamp<V>>;
    let forward: (r: import('../processor/record.js').Record<K, Change<V>>) => void;
    return {
      init(context) {
        store = context.getStateStore<KeyValueStore<K, ValueAndTimestamp<V>> & StateStore>(storeName);
        forward = (r) => context.forward(r);
      },
      process(record) {
        if (record.key === null || record.key === undefined) return;
        const old = store.get(record.key);
        store.put(record.key, record.value === null ? null : { value: record.value, timestamp: record.timestamp });
        if (record.value === null && old === null) return;
        forward(record.withValue({ newValue: record.value, oldValue: old?.value ?? null }));
      },
    };
  };
}

export class StreamsBuilder {
  readonly topology = new Topology();
  private counter = 0;
  private built = false;

  /** Kafka Streams' generated names: prefix plus a 10-digit index shared by all nodes and stores. */
  newName(prefix: string): string {
    return `${prefix}${String(this.counter++).padStart(10, '0')}`;
  }

  stream<K, V>(topics: string | string[], consumed?: Consumed<K, V>): KStream<K, V> {
    const o = consumed?.options ?? {};
    const name = o.name ?? this.newName('KSTREAM-SOURCE-');
    this.topology.addSource(name, Array.isArray(topics) ? topics : [topics], {
      keyDeserializer: o.keySerde ?? this.topology.defaultSerde('key'),
      valueDeserializer: o.valueSerde ?? this.topology.defaultSerde('value'),
      timestampExtractor: o.timestampExtractor,
      offsetReset: o.offsetReset,
    });
    return new KStream<K, V>(this, name, o.keySerde, o.valueSerde, false);
  }

  table<K, V>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    const o = consumed?.options ?? {};
    const sourceName = o.name ?? this.newName('KSTREAM-SOURCE-');
    const storeName = materialized?.options.storeName ?? `${topic}-STATE-STORE-${String(this.counter).padStart(10, '0')}`;
    const tableName = this.newName('KTABLE-SOURCE-');
    const keySerde = materialized?.options.keySerde ?? o.keySerde;
    const valueSerde = materialized?.options.valueSerde ?? o.valueSerde;
    this.topology.addSource(sourceName, [topic], {
      keyDeserializer: o.keySerde ?? this.topology.defaultSerde('key'),
      valueDeserializer: o.valueSerde ?? this.topology.defaultSerde('value'),
      timestampExtractor: o.timestampExtractor,
      offsetReset: o.offsetReset,
    });
    this.topology.addProcessor(tableName, tableSourceSupplier<K, V>(storeName), sourceName);
    this.topology.addStateStore(keyValueStoreFor(this.topology, storeName, materialized?.options, keySerde ?? this.topology.defaultSerde<K>('key'), valueSerde ?? this.topology.defaultSerde<V>('value')), tableName);
    return new KTable<K, V>(this, tableName, keySerde, valueSerde, storeName, storeGetter(storeName), [topic]);
  }

  /** A table replicated whole on every instance, joined by any key a stream record maps to. */
  globalTable<K, V>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): GlobalKTable<K, V> {
    const o = consumed?.options ?? {};
    const sourceName = o.name ?? this.newName('KSTREAM-SOURCE-');
    const storeName = materialized?.options.storeName ?? `${topic}-STATE-STORE-${String(this.counter).padStart(10, '0')}`;
    const processorName = this.newName('KTABLE-SOURCE-');
    const keySerde = materialized?.options.keySerde ?? o.keySerde ?? this.topology.defaultSerde<K>('key');
    const valueSerde = materialized?.options.valueSerde ?? o.valueSerde ?? this.topology.defaultSerde<V>('value');
    const inner = tableSourceSupplier<K, V>(storeName);
    this.topology.addGlobalStore(
      keyValueStoreFor(this.topology, storeName, materialized?.options, keySerde, valueSerde),
      sourceName,
      { keyDeserializer: keySerde, valueDeserializer: valueSerde },
      topic,
      processorName,
      // The global processor has no children: it only maintains the store.
      () => {
        const p = inner();
        return { init: (c) => p.init?.(c as never), process: (r) => p.process(r as never) };
      },
    );
    return new GlobalKTable<K, V>(storeName, topic);
  }

  /** Adds a store for Processor API processors added with `KStream.process(..., storeName)`. */
  addStateStore(builder: StoreBuilder): this {
    this.topology.addStateStore(builder);
    return this;
  }

  build(): Topology {
    this.built = true;
    return this.topology;
  }

  isBuilt(): boolean {
    return this.built;
  }

  // ---- shared by operators ----

  repartitionStream<K, V>(
    stream: KStream<K, V>,
    baseName: string | undefined,
    keySerde: Serde<K> | undefined,
    valueSerde: Serde<V> | undefined,
    partitions: number | undefined,
    partitioner: StreamPartitioner<K, V> | undefined,
    dropNullKeys: boolean,
  ): KStream<K, V> {
    const base = baseName ?? this.newName('KSTREAM-REPARTITION-');
    const topic = `${base}-repartition`;
    let parent = stream.nodeName;
    if (dropNullKeys) {
      const filterName = `${base}-repartition-filter`;
      this.topology.addProcessor<K, V, K, V>(filterName, () => {
        let forward: (r: import('../processor/record.js').Record<K, V>) => void;
        return { init: (c) => void (forward = (r) => c.forward(r)), process: (r) => void (r.key !== null && r.key !== undefined && forward(r)) };
      }, parent);
      parent = filterName;
    }
    const ks = keySerde ?? this.topology.defaultSerde<K>('key');
    const vs = valueSerde ?? this.topology.defaultSerde<V>('value');
    this.topology.addInternalTopic(topic, partitions === undefined ? {} : { partitions });
    this.topology.addSink(`${base}-repartition-sink`, topic, { keySerializer: ks, valueSerializer: vs, partitioner }, parent);
    const sourceName = `${base}-repartition-source`;
    this.topology.addSource(sourceName, [topic], { keyDeserializer: ks as Serde<unknown>, valueDeserializer: vs as Serde<unknown> });
    return new KStream<K, V>(this, sourceName, keySerde, valueSerde, false);
  }

  streamToTable<K, V>(stream: KStream<K, V>, named: Named | undefined, materialized: Materialized<K, V> | undefined): KTable<K, V> {
    const input = stream.repartitionRequired ? this.repartitionStream(stream, undefined, stream.keySerde, stream.valueSerde, undefined, undefined, true) : stream;
    const name = named?.name ?? this.newName('KSTREAM-TOTABLE-');
    const storeName = materialized?.options.storeName ?? this.newName('KSTREAM-TOTABLE-STATE-STORE-');
    const keySerde = materialized?.options.keySerde ?? stream.keySerde;
    const valueSerde = materialized?.options.valueSerde ?? stream.valueSerde;
    this.topology.addProcessor(name, tableSourceSupplier<K, V>(storeName), input.nodeName);
    this.topology.addStateStore(keyValueStoreFor(this.topology, storeName, materialized?.options, keySerde ?? this.topology.defaultSerde<K>('key'), valueSerde ?? this.topology.defaultSerde<V>('value')), name);
    return new KTable<K, V>(this, name, keySerde, valueSerde, storeName, storeGetter(storeName), []);
  }
}
