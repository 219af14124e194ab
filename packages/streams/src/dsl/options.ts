/**
 * The DSL's option objects, named as in Kafka Streams: Consumed, Produced, Grouped, Materialized,
 * Named, Joined, StreamJoined, Repartitioned, Branched. Each is an immutable value built with
 * static constructors and `with*` methods.
 */
import type { Serde } from '../serdes.js';
import type { StreamPartitioner, TimestampExtractor, TopicNameExtractor } from '../processor/topology.js';
import type { BytesStoreSupplier } from '../state/store.js';
import type { KStream } from './kstream.js';

export class Named {
  private constructor(readonly name: string | undefined) {}
  static as(name: string): Named {
    return new Named(name);
  }
}

export interface ConsumedOptions<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  timestampExtractor?: TimestampExtractor;
  offsetReset?: 'earliest' | 'latest';
  name?: string;
}

export class Consumed<K, V> {
  private constructor(readonly options: ConsumedOptions<K, V>) {}
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Consumed<K, V> {
    return new Consumed({ keySerde, valueSerde });
  }
  static as<K, V>(name: string): Consumed<K, V> {
    return new Consumed<K, V>({ name });
  }
  static withTimestampExtractor<K, V>(extractor: TimestampExtractor): Consumed<K, V> {
    return new Consumed<K, V>({ timestampExtractor: extractor });
  }
  withTimestampExtractor(extractor: TimestampExtractor): Consumed<K, V> {
    return new Consumed({ ...this.options, timestampExtractor: extractor });
  }
  withOffsetResetPolicy(policy: 'earliest' | 'latest'): Consumed<K, V> {
    return new Consumed({ ...this.options, offsetReset: policy });
  }
  withName(name: string): Consumed<K, V> {
    return new Consumed({ ...this.options, name });
  }
}

export interface ProducedOptions<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  partitioner?: StreamPartitioner<K, V>;
  name?: string;
}

export class Produced<K, V> {
  private constructor(readonly options: ProducedOptions<K, V>) {}
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>, partitioner?: StreamPartitioner<K, V>): Produced<K, V> {
    return new Produced({ keySerde, valueSerde, partitioner });
  }
  static as<K, V>(name: string): Produced<K, V> {
    return new Produced<K, V>({ name });
  }
  static streamPartitioner<K, V>(partitioner: StreamPartitioner<K, V>): Produced<K, V> {
    return new Produced<K, V>({ partitioner });
  }
  withName(name: string): Produced<K, V> {
    return new Produced({ ...this.options, name });
  }
}

export interface GroupedOptions<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  name?: string;
}

export class Grouped<K, V> {
  private constructor(readonly options: GroupedOptions<K, V>) {}
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Grouped<K, V> {
    return new Grouped({ keySerde, valueSerde });
  }
  /** Names the repartition topic `<application.id>-<name>-repartition`. */
  static as<K, V>(name: string): Grouped<K, V> {
    return new Grouped<K, V>({ name });
  }
  withName(name: string): Grouped<K, V> {
    return new Grouped({ ...this.options, name });
  }
  withKeySerde(keySerde: Serde<K>): Grouped<K, V> {
    return new Grouped({ ...this.options, keySerde });
  }
  withValueSerde(valueSerde: Serde<V>): Grouped<K, V> {
    return new Grouped({ ...this.options, valueSerde });
  }
}

export interface RepartitionedOptions<K, V> extends GroupedOptions<K, V> {
  numberOfPartitions?: number;
  partitioner?: StreamPartitioner<K, V>;
}

export class Repartitioned<K, V> {
  private constructor(readonly options: RepartitionedOptions<K, V>) {}
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Repartitioned<K, V> {
    return new Repartitioned({ keySerde, valueSerde });
  }
  static as<K, V>(name: string): Repartitioned<K, V> {
    return new Repartitioned<K, V>({ name });
  }
  static numberOfPartitions<K, V>(n: number): Repartitioned<K, V> {
    return new Repartitioned<K, V>({ numberOfPartitions: n });
  }
  withNumberOfPartitions(n: number): Repartitioned<K, V> {
    return new Repartitioned({ ...this.options, numberOfPartitions: n });
  }
  withName(name: string): Repartitioned<K, V> {
    return new Repartitioned({ ...this.options, name });
  }
  withStreamPartitioner(partitioner: StreamPartitioner<K, V>): Repartitioned<K, V> {
    return new Repartitioned({ ...this.options, partitioner });
  }
}

export type StoreType = 'in-memory' | 'persistent';

export interface MaterializedOptions<K, V> {
  storeName?: string;
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  storeType?: StoreType;
  supplier?: BytesStoreSupplier;
  loggingEnabled: boolean;
  logConfig: Record<string, string>;
  retentionMs?: number;
}

/** How and where an aggregation or table is stored; a name makes it queryable. */
export class Materialized<K, V> {
  private constructor(readonly options: MaterializedOptions<K, V>) {}
  // never defaults: `Materialized.as("store")` fits any Materialized<K, V> parameter, as Java infers it.
  static as<K = never, V = never>(storeNameOrSupplier: string | BytesStoreSupplier): Materialized<K, V> {
    return typeof storeNameOrSupplier === 'string'
      ? new Materialized<K, V>({ storeName: storeNameOrSupplier, loggingEnabled: true, logConfig: {} })
      : new Materialized<K, V>({ storeName: storeNameOrSupplier.name, supplier: storeNameOrSupplier, loggingEnabled: true, logConfig: {} });
  }
  static with<K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Materialized<K, V> {
    return new Materialized({ keySerde, valueSerde, loggingEnabled: true, logConfig: {} });
  }
  static empty<K = never, V = never>(): Materialized<K, V> {
    return new Materialized<K, V>({ loggingEnabled: true, logConfig: {} });
  }
  withKeySerde(keySerde: Serde<K>): Materialized<K, V> {
    return new Materialized({ ...this.options, keySerde });
  }
  withValueSerde(valueSerde: Serde<V>): Materialized<K, V> {
    return new Materialized({ ...this.options, valueSerde });
  }
  /** `in-memory` or `persistent` (LMDB); the default is persistent, as RocksDB is in Kafka Streams. */
  withStoreType(storeType: StoreType): Materialized<K, V> {
    return new Materialized({ ...this.options, storeType });
  }
  withLoggingDisabled(): Materialized<K, V> {
    return new Materialized({ ...this.options, loggingEnabled: false });
  }
  withLoggingEnabled(config: Record<string, string> = {}): Materialized<K, V> {
    return new Materialized({ ...this.options, loggingEnabled: true, logConfig: config });
  }
  withRetention(retentionMs: number): Materialized<K, V> {
    return new Materialized({ ...this.options, retentionMs });
  }
}

export interface JoinedOptions<K, V, VO> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  otherValueSerde?: Serde<VO>;
  name?: string;
}

export class Joined<K, V, VO> {
  private constructor(readonly options: JoinedOptions<K, V, VO>) {}
  static with<K, V, VO>(keySerde: Serde<K>, valueSerde: Serde<V>, otherValueSerde?: Serde<VO>): Joined<K, V, VO> {
    return new Joined({ keySerde, valueSerde, otherValueSerde });
  }
  static as<K, V, VO>(name: string): Joined<K, V, VO> {
    return new Joined<K, V, VO>({ name });
  }
}

export interface StreamJoinedOptions<K, V, VO> extends JoinedOptions<K, V, VO> {
  storeName?: string;
  storeType?: StoreType;
  loggingEnabled: boolean;
}

export class StreamJoined<K, V, VO> {
  private constructor(readonly options: StreamJoinedOptions<K, V, VO>) {}
  static with<K, V, VO>(keySerde: Serde<K>, valueSerde: Serde<V>, otherValueSerde: Serde<VO>): StreamJoined<K, V, VO> {
    return new StreamJoined({ keySerde, valueSerde, otherValueSerde, loggingEnabled: true });
  }
  static as<K, V, VO>(storeName: string): StreamJoined<K, V, VO> {
    return new StreamJoined<K, V, VO>({ storeName, loggingEnabled: true });
  }
  withName(name: string): StreamJoined<K, V, VO> {
    return new StreamJoined({ ...this.options, name });
  }
  withStoreName(storeName: string): StreamJoined<K, V, VO> {
    return new StreamJoined({ ...this.options, storeName });
  }
  withStoreType(storeType: StoreType): StreamJoined<K, V, VO> {
    return new StreamJoined({ ...this.options, storeType });
  }
  withLoggingDisabled(): StreamJoined<K, V, VO> {
    return new StreamJoined({ ...this.options, loggingEnabled: false });
  }
}

/** One branch of `split()`: a name, and optionally a function or consumer applied to the branch. */
export class Branched<K, V> {
  private constructor(
    readonly name: string | undefined,
    readonly fn: ((stream: KStream<K, V>) => KStream<K, V> | void) | undefined,
    readonly isConsumer: boolean,
  ) {}
  static as<K, V>(name: string): Branched<K, V> {
    return new Branched<K, V>(name, undefined, false);
  }
  static withFunction<K, V>(fn: (stream: KStream<K, V>) => KStream<K, V>, name?: string): Branched<K, V> {
    return new Branched(name, fn, false);
  }
  static withConsumer<K, V>(fn: (stream: KStream<K, V>) => void, name?: string): Branched<K, V> {
    return new Branched<K, V>(name, fn, true);
  }
}

export type { TopicNameExtractor };
