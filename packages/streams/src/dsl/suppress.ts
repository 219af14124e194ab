/**
 * suppress(): holds a table's updates back and emits the latest per key once the key's buffer
 * time has passed — the window's end plus grace for `untilWindowCloses` (final results of
 * windowed aggregations), or record time plus a limit for `untilTimeLimit`. Time is the stream
 * time observed by the suppression itself.
 */
import type { ProcessorContext, ProcessorSupplier } from '../processor/processor.js';
import type { Windowed } from '../state/window-store.js';
import { Record } from '../processor/record.js';
import type { Serde } from '../serdes.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { StateStore } from '../state/store.js';
import type { Change } from './internal.js';

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

/** Buffer entries in the changelogged store: `[buffer time][timestamp][flags][new length][new][prior]`. */
function encodeEntry<V>(valueSerde: Serde<V>, topic: string, b: Buffered<unknown, V>): Buffer {
  const n = b.record.value.newValue === null ? null : valueSerde.serialize(topic, b.record.value.newValue);
  const p = b.priorValue === null ? null : valueSerde.serialize(topic, b.priorValue);
  const head = Buffer.alloc(21);
  head.writeBigInt64BE(BigInt(b.bufferTime), 0);
  head.writeBigInt64BE(BigInt(b.record.timestamp), 8);
  head.writeUInt8((n ? 1 : 0) | (p ? 2 : 0), 16);
  head.writeUInt32BE(n?.length ?? 0, 17);
  return Buffer.concat([head, n ?? Buffer.alloc(0), p ?? Buffer.alloc(0)]);
}

function decodeEntry<K, V>(valueSerde: Serde<V>, topic: string, key: K, data: Buffer): Buffered<K, V> {
  const flags = data.readUInt8(16);
  const len = data.readUInt32BE(17);
  const newValue = flags & 1 ? valueSerde.deserialize(topic, data.subarray(21, 21 + len)) : null;
  const priorValue = flags & 2 ? valueSerde.deserialize(topic, data.subarray(21 + len)) : null;
  return { record: new Record<K, Change<V>>(key, { newValue, oldValue: priorValue }, Number(data.readBigInt64BE(8))), bufferTime: Number(data.readBigInt64BE(0)), priorValue };
}

/**
 * The buffer is a map in memory mirrored into a changelogged key-value store (key bytes → entry),
 * so a restarted or migrated task finds what it had held back.
 */
export function suppressSupplier<K, V>(suppressed: Suppressed, graceMs: number, storeName: string, keySerde: Serde<K>, valueSerde: Serde<V>): ProcessorSupplier<K, Change<V>, K, Change<V>> {
  return () => {
    let context: ProcessorContext<K, Change<V>>;
    let store: KeyValueStore<Buffer, Buffer>;
    const buffer = new Map<string, Buffered<K, V>>();
    let observedStreamTime = -1;
    const delay = suppressed.untilWindowCloses ? graceMs : suppressed.timeLimitMs;
    const emit = (id: string, b: Buffered<K, V>): void => {
      buffer.delete(id);
      store.delete(Buffer.from(id, 'latin1'));
      context.forward(b.record.withValue({ newValue: b.record.value.newValue, oldValue: b.priorValue }));
    };
    const evict = (): void => {
      const expiry = observedStreamTime - delay;
      // Ordered by buffer time, then key bytes, as Kafka Streams' time-ordered buffer is.
      const due = [...buffer.entries()].filter(([, b]) => b.bufferTime <= expiry).sort((a, b) => a[1].bufferTime - b[1].bufferTime || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [id, b] of due) emit(id, b);
    };
    return {
      init(c) {
        context = c;
        store = c.getStateStore<KeyValueStore<Buffer, Buffer> & StateStore>(storeName);
        for (const e of store.all()) {
          const entry = decodeEntry<K, V>(valueSerde, storeName, keySerde.deserialize(storeName, e.key) as K, e.value);
          buffer.set(e.key.toString('latin1'), entry);
          observedStreamTime = Math.max(observedStreamTime, entry.record.timestamp);
        }
      },
      process(r) {
        observedStreamTime = Math.max(observedStreamTime, r.timestamp);
        const bufferTime = suppressed.untilWindowCloses ? (r.key as unknown as Windowed<unknown>).window.end : r.timestamp;
        const keyBytes = keySerde.serialize(storeName, r.key);
        if (keyBytes === null) return;
        const id = keyBytes.toString('latin1');
        const existing = buffer.get(id);
        const entry = { record: r, bufferTime: existing ? existing.bufferTime : bufferTime, priorValue: existing ? existing.priorValue : r.value.oldValue };
        buffer.set(id, entry);
        store.put(keyBytes, encodeEntry(valueSerde, storeName, entry as Buffered<unknown, V>));
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
