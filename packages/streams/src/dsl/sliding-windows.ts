/**
 * Sliding-window aggregation. Windows are [t - d, t] for each record time t ("left windows") and
 * [t + 1, t + 1 + d] after a record that has a later record within d ("right windows"), as Kafka
 * Streams defines them; both ends are inclusive. Existing windows are updated incrementally; a
 * window that comes into existence is computed from a buffer of the key's recent records.
 */
import type { ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import type { StateStore } from '../state/store.js';
import type { ValueAndTimestamp } from '../state/timestamped.js';
import type { WindowStore, Windowed } from '../state/window-store.js';
import type { Change } from './internal.js';
import type { SlidingWindows } from './windows.js';
import { dropped, type Aggregator, type Initializer } from './grouped-stream.js';

export function slidingWindowAggregateSupplier<K, V, VA>(
  storeName: string,
  bufferName: string,
  windows: SlidingWindows,
  initializer: Initializer<VA>,
  aggregator: Aggregator<K, V, VA>,
): ProcessorSupplier<K, V, Windowed<K>, Change<VA>> {
  const d = windows.timeDifferenceMs;
  const grace = windows.graceMs;
  return () => {
    let context: ProcessorContext<Windowed<K>, Change<VA>>;
    let store: WindowStore<K, ValueAndTimestamp<VA>>;
    let buffer: WindowStore<K, V>;
    let observedStreamTime = -1;
    return {
      init(c) {
        context = c;
        store = c.getStateStore<WindowStore<K, ValueAndTimestamp<VA>> & StateStore>(storeName);
        buffer = c.getStateStore<WindowStore<K, V> & StateStore>(bufferName);
      },
      process(r) {
        if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return dropped(context as ProcessorContext<unknown, unknown>, 'null key or value');
        const t = r.timestamp;
        observedStreamTime = Math.max(observedStreamTime, t);
        const closeTime = observedStreamTime - grace;
        if (t + d < closeTime) return dropped(context as ProcessorContext<unknown, unknown>, `record at ${t} is past every open sliding window`);
        const key = r.key;
        buffer.put(key, r.value, t);
        const records = buffer.fetchRange(key, Math.max(0, t - 2 * d - 1), t + d + 1);
        const emit = (start: number, value: VA, old: VA | null, timestamp: number): void => {
          store.put(key, { value, timestamp }, start);
          context.forward(r.withKey({ key, window: { start, end: start + d } }).withValue({ newValue: value, oldValue: old }).withTimestamp(timestamp));
        };
        const open = (start: number): boolean => start + d >= closeTime;
        const compute = (start: number): { value: VA; timestamp: number } | null => {
          const inside = records.filter((e) => e.windowStart >= start && e.windowStart <= start + d);
          if (inside.length === 0) return null;
          let agg = initializer();
          for (const e of inside) agg = aggregator(key, e.value, agg);
          return { value: agg, timestamp: Math.max(...inside.map((e) => e.windowStart)) };
        };
        const touched = new Set<number>();
        // Existing windows holding t grow by this record.
        for (const w of store.fetchRange(key, Math.max(0, t - d), t)) {
          if (!open(w.windowStart)) continue;
          touched.add(w.windowStart);
          emit(w.windowStart, aggregator(key, r.value, w.value.value), w.value.value, Math.max(w.value.timestamp, t));
        }
        // Windows that start to exist: this record's left window, its right window, and the right
        // windows of earlier records that now have a later record within d.
        const candidates = new Set<number>([Math.max(0, t - d)]);
        if (records.some((e) => e.windowStart > t && e.windowStart <= t + d)) candidates.add(t + 1);
        for (const e of records) if (e.windowStart < t && e.windowStart >= t - d) candidates.add(e.windowStart + 1);
        for (const start of [...candidates].sort((a, b) => a - b)) {
          if (touched.has(start) || !open(start) || store.fetch(key, start) !== null) continue;
          const agg = compute(start);
          if (agg) emit(start, agg.value, null, agg.timestamp);
        }
      },
    };
  };
}
