/**
 * suppress(): holds a table's updates back and emits the latest per key once the key's buffer
 * time has passed — the window's end plus grace for `untilWindowCloses` (final results of
 * windowed aggregations), or record time plus a limit for `untilTimeLimit`. Time is the stream
 * time observed by the suppression itself. The buffer lives in memory.
 */
import type { ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import type { Record } from '../processor/record.js';
import type { Windowed } from '../state/window-store.js';
import { keyIdentity, type Change } from './internal.js';

export class BufferConfig {
  private constructor(
    readonly maxRecords: number,
    readonly whenFull: 'emitEarly' | 'shutDown',
  ) {}
  static unbounded(): BufferConfig {
    return new BufferConfig(Infinity, 'shutDown');
  }
  static maxRecords(n: number): BufferConfig {
    return new BufferConfig(n, 'emitEarly');
  }
  shutDownWhenFull(): BufferConfig {
    return new BufferConfig(this.maxRecords, 'shutDown');
  }
  emitEarlyWhenFull(): BufferConfig {
    return new BufferConfig(this.maxRecords, 'emitEarly');
  }
}

export class Suppressed {
  private constructor(
    readonly untilWindowCloses: boolean,
    readonly timeLimitMs: number,
    readonly buffer: BufferConfig,
    readonly name: string | undefined,
  ) {}
  /** Only the final result of each window, when it closes (window end + grace <= stream time). */
  static untilWindowCloses(buffer: BufferConfig = BufferConfig.unbounded()): Suppressed {
    if (buffer.whenFull === 'emitEarly') throw new TypeError('untilWindowCloses needs a buffer that shuts down when full (final results cannot be emitted early)');
    return new Suppressed(true, 0, buffer, undefined);
  }
  /** At most one update per key per time limit (in stream time). */
  static untilTimeLimit(timeLimitMs: number, buffer: BufferConfig = BufferConfig.unbounded()): Suppressed {
    if (!(timeLimitMs >= 0)) throw new RangeError('the time limit must be non-negative');
    return new Suppressed(false, timeLimitMs, buffer, undefined);
  }
  withName(name: string): Suppressed {
    return new Suppressed(this.untilWindowCloses, this.timeLimitMs, this.buffer, name);
  }
}

export class BufferFullError extends Error {
  override name = 'StreamsException';
}

interface Buffered<K, V> {
  record: Record<K, Change<V>>;
  bufferTime: number;
  /** The value last emitted downstream for this key, as the change's old value. */
  priorValue: V | null;
}

export function suppressSupplier<K, V>(suppressed: Suppressed, graceMs: number): ProcessorSupplier<K, Change<V>, K, Change<V>> {
  return () => {
    let context: ProcessorContext<K, Change<V>>;
    const buffer = new Map<string, Buffered<K, V>>();
    let observedStreamTime = -1;
    const delay = suppressed.untilWindowCloses ? graceMs : suppressed.timeLimitMs;
    const emit = (id: string, b: Buffered<K, V>): void => {
      buffer.delete(id);
      context.forward(b.record.withValue({ newValue: b.record.value.newValue, oldValue: b.priorValue }));
    };
    const evict = (): void => {
      const expiry = observedStreamTime - delay;
      // Ordered by buffer time, then key (Kafka Streams orders ties by key bytes).
      const due = [...buffer.entries()].filter(([, b]) => b.bufferTime <= expiry).sort((a, b) => a[1].bufferTime - b[1].bufferTime || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [id, b] of due) emit(id, b);
    };
    return {
      init: (c) => void (context = c),
      process(r) {
        observedStreamTime = Math.max(observedStreamTime, r.timestamp);
        const bufferTime = suppressed.untilWindowCloses ? (r.key as unknown as Windowed<unknown>).window.end : r.timestamp;
        const id = keyIdentity(r.key);
        const existing = buffer.get(id);
        buffer.delete(id);
        buffer.set(id, { record: r, bufferTime: existing ? existing.bufferTime : bufferTime, priorValue: existing ? existing.priorValue : r.value.oldValue });
        evict();
        if (buffer.size > suppressed.buffer.maxRecords) {
          if (suppressed.buffer.whenFull === 'shutDown') throw new BufferFullError(`suppression buffer of ${context.taskId.subtopology}_${context.taskId.partition} is full (${suppressed.buffer.maxRecords} records)`);
          const oldest = [...buffer.entries()].sort((a, b) => a[1].bufferTime - b[1].bufferTime)[0];
          emit(oldest[0], oldest[1]);
        }
      },
    };
  };
}
