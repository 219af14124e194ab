/**
 * Serdes for windowed keys, in Kafka Streams' byte layouts so Java consumers can read our output:
 * time windows are `key bytes + start (8 bytes)`; session windows `key bytes + end + start`.
 */
import { SerializationError, type Serde } from '../serdes.js';
import type { Windowed } from '../state/window-store.js';

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

export const WindowedSerdes = {
  /** `windowSizeMs` restores the window end, which the bytes do not carry. */
  timeWindowedSerdeFrom<K>(inner: Serde<K>, windowSizeMs: number): Serde<Windowed<K>> {
    return {
      serialize(topic, data) {
        if (data === null) return null;
        const key = inner.serialize(topic, data.key);
        return Buffer.concat([key ?? Buffer.alloc(0), u64(data.window.start)]);
      },
      deserialize(topic, data) {
        if (data === null) return null;
        if (data.length < 8) throw new SerializationError('a time-windowed key needs at least 8 bytes');
        const start = Number(data.readBigInt64BE(data.length - 8));
        return { key: inner.deserialize(topic, data.subarray(0, data.length - 8)) as K, window: { start, end: start + windowSizeMs } };
      },
    };
  },
  sessionWindowedSerdeFrom<K>(inner: Serde<K>): Serde<Windowed<K>> {
    return {
      serialize(topic, data) {
        if (data === null) return null;
        const key = inner.serialize(topic, data.key);
        return Buffer.concat([key ?? Buffer.alloc(0), u64(data.window.end), u64(data.window.start)]);
      },
      deserialize(topic, data) {
        if (data === null) return null;
        if (data.length < 16) throw new SerializationError('a session-windowed key needs at least 16 bytes');
        const end = Number(data.readBigInt64BE(data.length - 16));
        const start = Number(data.readBigInt64BE(data.length - 8));
        return { key: inner.deserialize(topic, data.subarray(0, data.length - 16)) as K, window: { start, end } };
      },
    };
  },
};
