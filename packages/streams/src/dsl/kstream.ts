/**
 * KStream: a record stream. Each operator adds a processor node named as Kafka Streams names it
 * (`KSTREAM-FILTER-0000000001`, or the given `Named`). Key-changing operators mark the stream
 * for repartitioning, which happens lazily before the next grouping or join.
 */
import type { Processor, ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import { Record } from '../processor/record.js';
import type { TopicNameExtractor } from '../processor/topology.js';
import type { Serde } from '../serdes.js';
import type { KeyValue } from '../state/key-value-store.js';
import { Branched, Grouped, Joined, Named, Produced, Repartitioned, StreamJoined, type Materialized } from './options.js';
import type { StreamsBuilder } from './streams-builder.js';
import { KGroupedStream } from './grouped-stream.js';
import { KTable, GlobalKTable } from './ktable.js';
import { streamStreamJoin, streamTableJoin, streamGlobalTableJoin, type JoinKind } from './joins.js';
import type { JoinWindows } from './windows.js';

export type ValueJoiner<V1, V2, VR> = (value1: V1, value2: V2) => VR;

function statelessProcessor<KIn, VIn, KOut, VOut>(fn: (record: Record<KIn, VIn>, forward: (r: Record<KOut, VOut>) => void) => void): ProcessorSupplier<KIn, VIn, KOut, VOut> {
  return () => {
    let context: ProcessorContext<KOut, VOut>;
    const processor: Processor<KIn, VIn, KOut, VOut> = {
      init: (c) => void (context = c),
      process: (record) => fn(record, (r) => context.forward(r)),
    };
    return processor;
  };
}

export class KStream<K, V> {
  constructor(
    readonly builder: StreamsBuilder,
    /** The node whose output this stream is. */
    readonly nodeName: string,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    /** The key changed since the last partitioning: group/join must repartition first. */
    readonly repartitionRequired: boolean,
  ) {}

  private add<K2, V2>(prefix: string, named: Named | undefined, supplier: ProcessorSupplier<K, V, K2, V2>, keySerde: Serde<K2> | undefined, valueSerde: Serde<V2> | undefined, repartitionRequired: boolean): KStream<K2, V2> {
    const name = named?.name ?? this.builder.newName(prefix);
    this.builder.topology.addProcessor(name, supplier, this.nodeName);
    return new KStream<K2, V2>(this.builder, name, keySerde, valueSerde, repartitionRequired);
  }

  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-FILTER-', named, statelessProcessor((r, fwd) => void (predicate(r.key, r.value) && fwd(r))), this.keySerde, this.valueSerde, this.repartitionRequired);
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-FILTER-', named, statelessProcessor((r, fwd) => void (!predicate(r.key, r.value) && fwd(r))), this.keySerde, this.valueSerde, this.repartitionRequired);
  }

  map<KR, VR>(mapper: (key: K, value: V) => KeyValue<KR, VR>, named?: Named): KStream<KR, VR> {
    return this.add<KR, VR>('KSTREAM-MAP-', named, statelessProcessor((r, fwd) => {
      const kv = mapper(r.key, r.value);
      fwd(r.withKey(kv.key).withValue(kv.value));
    }), undefined, undefined, true);
  }

  /** The mapper also receives the (read-only) key, as ValueMapperWithKey does. */
  mapValues<VR>(mapper: (value: V, key: K) => VR, named?: Named): KStream<K, VR> {
    return this.add<K, VR>('KSTREAM-MAPVALUES-', named, statelessProcessor((r, fwd) => fwd(r.withValue(mapper(r.value, r.key)))), this.keySerde, undefined, this.repartitionRequired);
  }

  flatMap<KR, VR>(mapper: (key: K, value: V) => Iterable<KeyValue<KR, VR>>, named?: Named): KStream<KR, VR> {
    return this.add<KR, VR>('KSTREAM-FLATMAP-', named, statelessProcessor((r, fwd) => {
      for (const kv of mapper(r.key, r.value)) fwd(r.withKey(kv.key).withValue(kv.value));
    }), undefined, undefined, true);
  }

  flatMapValues<VR>(mapper: (value: V, key: K) => Iterable<VR>, named?: Named): KStream<K, VR> {
    return this.add<K, VR>('KSTREAM-FLATMAPVALUES-', named, statelessProcessor((r, fwd) => {
      for (const v of mapper(r.value, r.key)) fwd(r.withValue(v));
    }), this.keySerde, undefined, this.repartitionRequired);
  }

  selectKey<KR>(mapper: (key: K, value: V) => KR, named?: Named): KStream<KR, V> {
    return this.add<KR, V>('KSTREAM-KEY-SELECT-', named, statelessProcessor((r, fwd) => fwd(r.withKey(mapper(r.key, r.value)))), undefined, this.valueSerde, true);
  }

  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-PEEK-', named, statelessProcessor((r, fwd) => {
      action(r.key, r.value);
      fwd(r);
    }), this.keySerde, this.valueSerde, this.repartitionRequired);
  }

  foreach(action: (key: K, value: V) => void, named?: Named): void {
    this.add<never, never>('KSTREAM-FOREACH-', named, statelessProcessor((r) => action(r.key, r.value)), undefined, undefined, false);
  }

  /** Runs a Processor API processor on the stream; stores must have been added to the builder. */
  process<KR, VR>(supplier: ProcessorSupplier<K, V, KR, VR>, named?: Named, ...storeNames: string[]): KStream<KR, VR> {
    const stream = this.add<KR, VR>('KSTREAM-PROCESSOR-', named, supplier, undefined, undefined, true);
    if (storeNames.length) this.builder.topology.connectProcessorAndStateStores([stream.nodeName], ...storeNames);
    return stream;
  }

  /** Splits the stream by predicates; each record goes to the first branch that accepts it. */
  split(named?: Named): BranchedKStream<K, V> {
    const name = named?.name ?? this.builder.newName('KSTREAM-BRANCH-');
    return new BranchedKStream(this, name);
  }

  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    const name = named?.name ?? this.builder.newName('KSTREAM-MERGE-');
    this.builder.topology.addProcessor(name, statelessProcessor<K, V, K, V>((r, fwd) => fwd(r)), this.nodeName, other.nodeName);
    return new KStream(this.builder, name, this.keySerde, this.valueSerde, this.repartitionRequired || other.repartitionRequired);
  }

  /** Writes the stream to a topic, or to the topic each record's extractor names. */
  to(topic: string | TopicNameExtractor<K, V>, produced?: Produced<K, V>): void {
    const o = produced?.options ?? {};
    const name = o.name ?? this.builder.newName('KSTREAM-SINK-');
    this.builder.topology.addSink(name, topic, { keySerializer: o.keySerde ?? this.keySerde ?? this.builder.topology.defaultSerde<K>('key'), valueSerializer: o.valueSerde ?? this.valueSerde ?? this.builder.topology.defaultSerde<V>('value'), partitioner: o.partitioner }, this.nodeName);
  }

  /** Writes through an internal topic `<application.id>-<name>-repartition` and reads it back. */
  repartition(repartitioned?: Repartitioned<K, V>): KStream<K, V> {
    const o = repartitioned?.options ?? {};
    return this.builder.repartitionStream(this, o.name, o.keySerde ?? this.keySerde, o.valueSerde ?? this.valueSerde, o.numberOfPartitions, o.partitioner, false);
  }

  groupByKey(grouped?: Grouped<K, V>): KGroupedStream<K, V> {
    const o = grouped?.options ?? {};
    return new KGroupedStream(this.builder, this, o.keySerde ?? this.keySerde, o.valueSerde ?? this.valueSerde, o.name, this.repartitionRequired);
  }

  groupBy<KR>(selector: (key: K, value: V) => KR, grouped?: Grouped<KR, V>): KGroupedStream<KR, V> {
    const o = grouped?.options ?? {};
    const selected = this.selectKey(selector);
    return new KGroupedStream(this.builder, selected, o.keySerde, o.valueSerde ?? this.valueSerde, o.name, true);
  }

  toTable(named?: Named, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.builder.streamToTable(this, named, materialized);
  }

  join<VO, VR>(other: KStream<K, VO>, joiner: ValueJoiner<V, VO, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  join<VO, VR>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO, VR>, joined?: Joined<K, V, VO>): KStream<K, VR>;
  join<KG, VG, VR>(globalTable: GlobalKTable<KG, VG>, keySelector: (key: K, value: V) => KG, joiner: ValueJoiner<V, VG, VR>, named?: Named): KStream<K, VR>;
  join(other: unknown, a: unknown, b?: unknown, c?: unknown): unknown {
    return this.joinAny('inner', other, a, b, c);
  }

  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: ValueJoiner<V, VO | null, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  leftJoin<VO, VR>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO | null, VR>, joined?: Joined<K, V, VO>): KStream<K, VR>;
  leftJoin<KG, VG, VR>(globalTable: GlobalKTable<KG, VG>, keySelector: (key: K, value: V) => KG, joiner: ValueJoiner<V, VG | null, VR>, named?: Named): KStream<K, VR>;
  leftJoin(other: unknown, a: unknown, b?: unknown, c?: unknown): unknown {
    return this.joinAny('left', other, a, b, c);
  }

  outerJoin<VO, VR>(other: KStream<K, VO>, joiner: ValueJoiner<V | null, VO | null, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR> {
    return this.joinAny('outer', other, joiner, windows, streamJoined) as KStream<K, VR>;
  }

  private joinAny(kind: JoinKind, other: unknown, a: unknown, b: unknown, c: unknown): unknown {
    if (other instanceof KStream) return streamStreamJoin(this, other, kind, a as ValueJoiner<unknown, unknown, unknown>, b as JoinWindows, c as StreamJoined<K, V, unknown> | undefined);
    if (other instanceof KTable) return streamTableJoin(this, other, kind === 'left', a as ValueJoiner<unknown, unknown, unknown>, b as Joined<K, V, unknown> | undefined);
    if (other instanceof GlobalKTable) return streamGlobalTableJoin(this, other, kind === 'left', a as (k: K, v: V) => unknown, b as ValueJoiner<unknown, unknown, unknown>, c as Named | undefined);
    throw new TypeError('join needs a KStream, KTable or GlobalKTable');
  }
}

export class BranchedKStream<K, V> {
  private readonly branches: Array<{ predicate: (key: K, value: V) => boolean; childName: string; branched?: Branched<K, V> }> = [];
  private readonly result = new Map<string, KStream<K, V>>();
  private index = 1;
  private processorAdded = false;

  constructor(
    private readonly stream: KStream<K, V>,
    private readonly splitName: string,
  ) {}

  branch(predicate: (key: K, value: V) => boolean, branched?: Branched<K, V>): this {
    this.addBranch(predicate, branched);
    return this;
  }

  /** The records no predicate accepted; returns every branch by name. */
  defaultBranch(branched?: Branched<K, V>): Map<string, KStream<K, V>> {
    this.addBranch(() => true, branched, '0');
    return this.result;
  }

  noDefaultBranch(): Map<string, KStream<K, V>> {
    this.ensureProcessor();
    return this.result;
  }

  private ensureProcessor(): void {
    if (this.processorAdded) return;
    this.processorAdded = true;
    const branches = this.branches;
    this.stream.builder.topology.addProcessor<K, V, K, V>(this.splitName, () => {
      let context: ProcessorContext<K, V>;
      return {
        init: (c) => void (context = c),
        process: (r) => {
          for (const b of branches) {
            if (b.predicate(r.key, r.value)) {
              context.forward(r, b.childName);
              return;
            }
          }
        },
      };
    }, this.stream.nodeName);
  }

  private addBranch(predicate: (key: K, value: V) => boolean, branched: Branched<K, V> | undefined, defaultSuffix?: string): void {
    this.ensureProcessor();
    const suffix = branched?.name ?? defaultSuffix ?? String(this.index);
    this.index++;
    const resultName = `${this.splitName}${suffix}`;
    const childName = branched?.name ? resultName : this.stream.builder.newName('KSTREAM-BRANCHCHILD-');
    this.stream.builder.topology.addProcessor<K, V, K, V>(childName, statelessProcessor((r, fwd) => fwd(r)), this.splitName);
    this.branches.push({ predicate, childName, branched });
    let branchStream: KStream<K, V> | void = new KStream<K, V>(this.stream.builder, childName, this.stream.keySerde, this.stream.valueSerde, this.stream.repartitionRequired);
    if (branched?.fn) {
      const out = branched.fn(branchStream);
      if (branched.isConsumer) return;
      branchStream = out ?? branchStream;
    }
    this.result.set(resultName, branchStream as KStream<K, V>);
  }
}

