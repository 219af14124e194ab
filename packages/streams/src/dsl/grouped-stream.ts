/**
 * Grouped streams and their aggregations: count, reduce, aggregate, plain or windowed (tumbling,
 * hopping, session). Windowed aggregations drop records for windows already closed (window end
 * plus grace at or before the stream time the aggregation has observed), as Kafka Streams does.
 */
import type { ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import { Serdes, type Serde } from '../serdes.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { StateStore } from '../state/store.js';
import type { ValueAndTimestamp } from '../state/timestamped.js';
import type { SessionStore, WindowStore, Windowed } from '../state/window-store.js';
import { Materialized, type Named } from './options.js';
import { keyValueStoreFor, sessionStoreFor, storeGetter, windowStoreFor, type Change, type ValueGetterSupplier } from './internal.js';
import type { StreamsBuilder } from './streams-builder.js';
import type { KStream } from './kstream.js';
import { KTable } from './ktable.js';
import { SessionWindows, SlidingWindows, TimeWindows } from './windows.js';
import { WindowedSerdes } from './windowed-serdes.js';
import { slidingWindowAggregateSupplier } from './sliding-windows.js';

export type Initializer<VA> = () => VA;
export type Aggregator<K, V, VA> = (key: K, value: V, aggregate: VA) => VA;
export type Reducer<V> = (aggregate: V, value: V) => V;
export type Merger<K, VA> = (key: K, aggregate1: VA, aggregate2: VA) => VA;

export function dropped(context: ProcessorContext<unknown, unknown>, why: string): void {
  const m = context.recordMetadata();
  if (process.env.SLUICE_STREAMS_DEBUG) console.warn(`sluice-streams: skipping record ${m ? `${m.topic}-${m.partition}@${m.offset}` : ''}: ${why}`);
}

export class KGroupedStream<K, V> {
  constructor(
    readonly builder: StreamsBuilder,
    readonly stream: KStream<K, V>,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly groupedName: string | undefined,
    readonly repartitionRequired: boolean,
  ) {}

  /** The stream the aggregation reads: repartitioned by the new key when the key changed. */
  input(storeName: string): KStream<K, V> {
    if (!this.repartitionRequired) return this.stream;
    return this.builder.repartitionStream(this.stream, this.groupedName ?? storeName, this.keySerde, this.valueSerde, undefined, undefined, true);
  }

  count(named?: Named, materialized?: Materialized<K, number>): KTable<K, number>;
  count(materialized: Materialized<K, number>): KTable<K, number>;
  count(a?: Named | Materialized<K, number>, b?: Materialized<K, number>): KTable<K, number> {
    const materialized = a instanceof Materialized ? a : b;
    const named = a instanceof Materialized ? undefined : a;
    const m = materialized ?? Materialized.empty<K, number>();
    return this.aggregateImpl<number>('KSTREAM-AGGREGATE-', () => 0, (_k, _v, n) => n + 1, named, m.options.valueSerde ? m : m.withValueSerde(Serdes.Long()));
  }

  reduce(reducer: Reducer<V>, named?: Named, materialized?: Materialized<K, V>): KTable<K, V> {
    const m = materialized ?? Materialized.empty<K, V>();
    return this.aggregateImpl<V>('KSTREAM-REDUCE-', () => null as unknown as V, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), named, m.options.valueSerde ? m : m.withValueSerde(this.valueSerde ?? this.builder.topology.defaultSerde<V>('value')));
  }

  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, named?: Named, materialized?: Materialized<K, VA>): KTable<K, VA>;
  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, materialized: Materialized<K, VA>): KTable<K, VA>;
  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, a?: Named | Materialized<K, VA>, b?: Materialized<K, VA>): KTable<K, VA> {
    const materialized = a instanceof Materialized ? a : b;
    return this.aggregateImpl('KSTREAM-AGGREGATE-', initializer, aggregator, a instanceof Materialized ? undefined : a, materialized ?? Materialized.empty());
  }

  private aggregateImpl<VA>(prefix: string, initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, named: Named | undefined, materialized: Materialized<K, VA>): KTable<K, VA> {
    const topology = this.builder.topology;
    const name = named?.name ?? this.builder.newName(prefix);
    const storeName = materialized.options.storeName ?? this.builder.newName(`${prefix}STATE-STORE-`);
    const input = this.input(storeName);
    const supplier: ProcessorSupplier<K, V, K, Change<VA>> = () => {
      let context: ProcessorContext<K, Change<VA>>;
      let store: KeyValueStore<K, ValueAndTimestamp<VA>>;
      return {
        init(c) {
          context = c;
          store = c.getStateStore<KeyValueStore<K, ValueAndTimestamp<VA>> & StateStore>(storeName);
        },
        process(r) {
          if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return dropped(context as ProcessorContext<unknown, unknown>, 'null key or value');
          const old = store.get(r.key);
          const newAgg = aggregator(r.key, r.value, old ? old.value : initializer());
          const timestamp = old ? Math.max(old.timestamp, r.timestamp) : r.timestamp;
          store.put(r.key, { value: newAgg, timestamp });
          context.forward(r.withValue({ newValue: newAgg, oldValue: old ? old.value : null }).withTimestamp(timestamp));
        },
      };
    };
    topology.addProcessor(name, supplier, input.nodeName);
    const keySerde = materialized.options.keySerde ?? this.keySerde;
    const valueSerde = materialized.options.valueSerde;
    topology.addStateStore(keyValueStoreFor(topology, storeName, materialized.options, keySerde ?? topology.defaultSerde<K>('key'), valueSerde ?? topology.defaultSerde<VA>('value')), name);
    return new KTable<K, VA>(this.builder, name, keySerde, valueSerde, storeName, storeGetter(storeName), []);
  }

  windowedBy(windows: TimeWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>;
  windowedBy(windows: SlidingWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: TimeWindows | SessionWindows | SlidingWindows): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    if (windows instanceof SessionWindows) return new SessionWindowedKStream(this, windows);
    return new TimeWindowedKStream(this, windows);
  }
}

export class TimeWindowedKStream<K, V> {
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    private readonly windows: TimeWindows | SlidingWindows,
  ) {}

  count(named?: Named, materialized?: Materialized<K, number>): KTable<Windowed<K>, number>;
  count(materialized: Materialized<K, number>): KTable<Windowed<K>, number>;
  count(a?: Named | Materialized<K, number>, b?: Materialized<K, number>): KTable<Windowed<K>, number> {
    const materialized = a instanceof Materialized ? a : b;
    const named = a instanceof Materialized ? undefined : a;
    const m = materialized ?? Materialized.empty<K, number>();
    return this.aggregateImpl<number>('KSTREAM-AGGREGATE-', () => 0, (_k, _v, n) => n + 1, named, m.options.valueSerde ? m : m.withValueSerde(Serdes.Long()));
  }

  reduce(reducer: Reducer<V>, named?: Named, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    const m = materialized ?? Materialized.empty<K, V>();
    return this.aggregateImpl<V>('KSTREAM-REDUCE-', () => null as unknown as V, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), named, m.options.valueSerde ? m : m.withValueSerde(this.grouped.valueSerde ?? this.grouped.builder.topology.defaultSerde<V>('value')));
  }

  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, named?: Named, materialized?: Materialized<K, VA>): KTable<Windowed<K>, VA>;
  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, materialized: Materialized<K, VA>): KTable<Windowed<K>, VA>;
  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, a?: Named | Materialized<K, VA>, b?: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    const materialized = a instanceof Materialized ? a : b;
    return this.aggregateImpl('KSTREAM-AGGREGATE-', initializer, aggregator, a instanceof Materialized ? undefined : a, materialized ?? Materialized.empty());
  }

  private aggregateImpl<VA>(prefix: string, initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, named: Named | undefined, materialized: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    const builder = this.grouped.builder;
    const topology = builder.topology;
    const windows = this.windows;
    const name = named?.name ?? builder.newName(prefix);
    const storeName = materialized.options.storeName ?? builder.newName(`${prefix}STATE-STORE-`);
    const input = this.grouped.input(storeName);
    const graceMs = windows.gracePeriodMs();
    const sizeMs = windows instanceof TimeWindows ? windows.sizeMs : windows.timeDifferenceMs;
    const retentionMs = materialized.options.retentionMs ?? sizeMs + graceMs;
    if (retentionMs < sizeMs + graceMs) throw new RangeError(`The retention period of the window store ${storeName} must be no smaller than its window size plus the grace period. Got size=[${sizeMs}], grace=[${graceMs}], retention=[${retentionMs}]`);
    let supplier: ProcessorSupplier<K, V, Windowed<K>, Change<VA>>;
    if (windows instanceof SlidingWindows) supplier = slidingWindowAggregateSupplier(storeName, `${storeName}-SLIDING-BUFFER`, windows, initializer, aggregator);
    else {
      supplier = () => {
        let context: ProcessorContext<Windowed<K>, Change<VA>>;
        let store: WindowStore<K, ValueAndTimestamp<VA>>;
        let observedStreamTime = -1;
        return {
          init(c) {
            context = c;
            store = c.getStateStore<WindowStore<K, ValueAndTimestamp<VA>> & StateStore>(storeName);
          },
          process(r) {
            if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return dropped(context as ProcessorContext<unknown, unknown>, 'null key or value');
            observedStreamTime = Math.max(observedStreamTime, r.timestamp);
            const closeTime = observedStreamTime - graceMs;
            for (const window of windows.windowsFor(r.timestamp)) {
              if (window.end <= closeTime) {
                dropped(context as ProcessorContext<unknown, unknown>, `window [${window.start},${window.end}) closed at stream time ${observedStreamTime}`);
                continue;
              }
              const old = store.fetch(r.key, window.start);
              const newAgg = aggregator(r.key, r.value, old ? old.value : initializer());
              const timestamp = old ? Math.max(old.timestamp, r.timestamp) : r.timestamp;
              store.put(r.key, { value: newAgg, timestamp }, window.start);
              context.forward(r.withKey({ key: r.key, window }).withValue({ newValue: newAgg, oldValue: old ? old.value : null }).withTimestamp(timestamp));
            }
          },
        };
      };
    }
    topology.addProcessor(name, supplier, input.nodeName);
    const keySerde = materialized.options.keySerde ?? this.grouped.keySerde;
    const valueSerde = materialized.options.valueSerde;
    topology.addStateStore(windowStoreFor(topology, storeName, materialized.options, keySerde ?? topology.defaultSerde<K>('key'), valueSerde ?? topology.defaultSerde<VA>('value'), retentionMs, sizeMs, true, false), name);
    if (windows instanceof SlidingWindows) {
      // The records of the last time difference plus grace, from which new windows are computed.
      const bufferSerde = this.grouped.valueSerde ?? topology.defaultSerde<V>('value');
      topology.addStateStore(windowStoreFor<K, V>(topology, `${storeName}-SLIDING-BUFFER`, { loggingEnabled: materialized.options.loggingEnabled, logConfig: materialized.options.logConfig, storeType: materialized.options.storeType }, keySerde ?? topology.defaultSerde<K>('key'), bufferSerde, retentionMs, sizeMs, false, true), name);
    }
    const getter: ValueGetterSupplier<Windowed<K>, VA> = {
      storeNames: [storeName],
      init(c) {
        const store = c.getStateStore<WindowStore<K, ValueAndTimestamp<VA>> & StateStore>(storeName);
        return (wk) => store.fetch(wk.key, wk.window.start);
      },
    };
    const windowedKeySerde = keySerde ? WindowedSerdes.timeWindowedSerdeFrom(keySerde, sizeMs) : undefined;
    return new KTable<Windowed<K>, VA>(builder, name, windowedKeySerde, valueSerde, storeName, getter, [], { graceMs });
  }
}

export class SessionWindowedKStream<K, V> {
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    private readonly windows: SessionWindows,
  ) {}

  count(named?: Named, materialized?: Materialized<K, number>): KTable<Windowed<K>, number>;
  count(materialized: Materialized<K, number>): KTable<Windowed<K>, number>;
  count(a?: Named | Materialized<K, number>, b?: Materialized<K, number>): KTable<Windowed<K>, number> {
    const materialized = a instanceof Materialized ? a : b;
    const named = a instanceof Materialized ? undefined : a;
    const m = materialized ?? Materialized.empty<K, number>();
    return this.aggregateImpl<number>('KSTREAM-AGGREGATE-', () => 0, (_k, _v, n) => n + 1, (_k, a, b) => a + b, named, m.options.valueSerde ? m : m.withValueSerde(Serdes.Long()));
  }

  reduce(reducer: Reducer<V>, named?: Named, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    const m = materialized ?? Materialized.empty<K, V>();
    const merge = (a: V | null, b: V | null): V => (a === null ? (b as V) : b === null ? a : reducer(a, b));
    return this.aggregateImpl<V>('KSTREAM-REDUCE-', () => null as unknown as V, (_k, v, agg) => merge(agg, v), (_k, a, b) => merge(a, b), named, m.options.valueSerde ? m : m.withValueSerde(this.grouped.valueSerde ?? this.grouped.builder.topology.defaultSerde<V>('value')));
  }

  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, merger: Merger<K, VA>, named?: Named, materialized?: Materialized<K, VA>): KTable<Windowed<K>, VA>;
  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, merger: Merger<K, VA>, materialized: Materialized<K, VA>): KTable<Windowed<K>, VA>;
  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, merger: Merger<K, VA>, a?: Named | Materialized<K, VA>, b?: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    const materialized = a instanceof Materialized ? a : b;
    return this.aggregateImpl('KSTREAM-AGGREGATE-', initializer, aggregator, merger, a instanceof Materialized ? undefined : a, materialized ?? Materialized.empty());
  }

  private aggregateImpl<VA>(prefix: string, initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, merger: Merger<K, VA>, named: Named | undefined, materialized: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    const builder = this.grouped.builder;
    const topology = builder.topology;
    const gapMs = this.windows.gapMs;
    const graceMs = this.windows.graceMs;
    const name = named?.name ?? builder.newName(prefix);
    const storeName = materialized.options.storeName ?? builder.newName(`${prefix}STATE-STORE-`);
    const input = this.grouped.input(storeName);
    const retentionMs = materialized.options.retentionMs ?? gapMs + graceMs;
    const supplier: ProcessorSupplier<K, V, Windowed<K>, Change<VA>> = () => {
      let context: ProcessorContext<Windowed<K>, Change<VA>>;
      let store: SessionStore<K, VA>;
      let observedStreamTime = -1;
      return {
        init(c) {
          context = c;
          store = c.getStateStore<SessionStore<K, VA> & StateStore>(storeName);
        },
        process(r) {
          if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return dropped(context as ProcessorContext<unknown, unknown>, 'null key or value');
          const ts = r.timestamp;
          observedStreamTime = Math.max(observedStreamTime, ts);
          const closeTime = observedStreamTime - graceMs;
          const merged = store.findSessions(r.key, ts - gapMs, ts + gapMs);
          let agg = initializer();
          let start = ts;
          let end = ts;
          for (const s of merged) {
            agg = merger(r.key, agg, s.value);
            start = Math.min(start, s.key.window.start);
            end = Math.max(end, s.key.window.end);
          }
          if (end < closeTime) return dropped(context as ProcessorContext<unknown, unknown>, `session [${start},${end}] closed at stream time ${observedStreamTime}`);
          // Sessions merged into the new one are deleted (tombstones downstream).
          for (const s of merged) {
            if (s.key.window.start === start && s.key.window.end === end) continue;
            store.remove(s.key);
            context.forward(r.withKey(s.key).withValue({ newValue: null, oldValue: s.value } as Change<VA>).withTimestamp(s.key.window.end));
          }
          agg = aggregator(r.key, r.value, agg);
          const session = { key: r.key, window: { start, end } };
          const previous = merged.find((s) => s.key.window.start === start && s.key.window.end === end);
          store.put(session, agg);
          context.forward(r.withKey(session).withValue({ newValue: agg, oldValue: previous ? previous.value : null }).withTimestamp(end));
        },
      };
    };
    topology.addProcessor(name, supplier, input.nodeName);
    const keySerde = materialized.options.keySerde ?? this.grouped.keySerde;
    const valueSerde = materialized.options.valueSerde;
    topology.addStateStore(sessionStoreFor(topology, storeName, materialized.options, keySerde ?? topology.defaultSerde<K>('key'), valueSerde ?? topology.defaultSerde<VA>('value'), retentionMs), name);
    const getter: ValueGetterSupplier<Windowed<K>, VA> = {
      storeNames: [storeName],
      init(c) {
        const store = c.getStateStore<SessionStore<K, VA> & StateStore>(storeName);
        return (wk) => {
          const v = store.fetchSession(wk.key, wk.window.start, wk.window.end);
          return v === null ? null : { value: v, timestamp: wk.window.end };
        };
      },
    };
    const windowedKeySerde = keySerde ? WindowedSerdes.sessionWindowedSerdeFrom(keySerde) : undefined;
    return new KTable<Windowed<K>, VA>(builder, name, windowedKeySerde, valueSerde, storeName, getter, [], { graceMs });
  }
}
