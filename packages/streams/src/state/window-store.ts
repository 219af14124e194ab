/**
 * Window and session stores. Keys are `[key length u32][key][times...]` so that all windows of a
 * key are adjacent and ordered by time, which is what fetches by key and time range read.
 * Windows older than the retention period (measured against the newest window seen) are
 * invisible and purged on flush, as Kafka Streams drops expired segments.
 */
import type { Serde } from '../serdes.js';
import { AbstractStore, type BytesStoreSupplier } from './store.js';

export interface TimeWindow {
  /** Inclusive. */
  start: number;
  /** Exclusive for time windows, inclusive for sessions (as in Kafka Streams). */
  end: number;
}

export interface Windowed<K> {
  key: K;
  window: TimeWindow;
}

export function windowedToString<K>(w: Windowed<K>): string {
  return `[${String(w.key)}@${w.window.start}/${w.window.end}]`;
}

const U64 = 8;

function u64(n: number): Buffer {
  const b = Buffer.alloc(U64);
  b.writeBigUInt64BE(BigInt(Math.max(0, n)));
  return b;
}

function keyPrefix(key: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(key.length);
  return Buffer.concat([len, key]);
}

function splitKey(stored: Buffer): { key: Buffer; rest: Buffer } {
  const len = stored.readUInt32BE(0);
  return { key: stored.subarray(4, 4 + len), rest: stored.subarray(4 + len) };
}

export interface ReadOnlyWindowStore<K, V> {
  readonly name: string;
  /** The value of one window of a key. */
  fetch(key: K, windowStart: number): V | null;
  /** All windows of a key starting in [timeFrom, timeTo], oldest first. */
  fetchRange(key: K, timeFrom: number, timeTo: number): Array<{ windowStart: number; value: V }>;
  all(): Array<{ key: Windowed<K>; value: V }>;
  fetchAll(timeFrom: number, timeTo: number): Array<{ key: Windowed<K>; value: V }>;
}

export interface WindowStore<K, V> extends ReadOnlyWindowStore<K, V> {
  put(key: K, value: V | null, windowStart: number): void;
}

export class WindowStoreImpl<K, V> extends AbstractStore implements WindowStore<K, V> {
  readonly kind = 'window' as const;
  private observedTime = -Infinity;
  private seq = 0;

  constructor(
    supplier: BytesStoreSupplier,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    readonly retentionMs: number,
    readonly windowSizeMs: number,
    /** Join buffers keep every record of a key and time, not only the last. */
    readonly retainDuplicates: boolean,
  ) {
    super(supplier);
    this.changelogConfigs = { 'cleanup.policy': retainDuplicates ? 'delete' : 'compact,delete', 'retention.ms': String(retentionMs + 86_400_000) };
  }

  private keyBytes(key: K): Buffer {
    const b = this.keySerde.serialize(this.name, key);
    if (b === null) throw new Error(`store ${this.name}: null keys are not allowed`);
    return b;
  }

  private expired(windowStart: number): boolean {
    return windowStart <= this.observedTime - this.retentionMs;
  }

  put(key: K, value: V | null, windowStart: number): void {
    this.observedTime = Math.max(this.observedTime, windowStart);
    if (this.expired(windowStart)) return;
    const parts = [keyPrefix(this.keyBytes(key)), u64(windowStart)];
    if (this.retainDuplicates) {
      if (value === null) return;
      const s = Buffer.alloc(4);
      s.writeUInt32BE(this.seq++ >>> 0);
      parts.push(s);
    }
    this.write(Buffer.concat(parts), value === null ? null : this.valueSerde.serialize(this.name, value));
  }

  fetch(key: K, windowStart: number): V | null {
    if (this.expired(windowStart)) return null;
    if (this.retainDuplicates) return this.fetchRange(key, windowStart, windowStart)[0]?.value ?? null;
    const v = this.bytes.get(Buffer.concat([keyPrefix(this.keyBytes(key)), u64(windowStart)]));
    return v === undefined ? null : this.valueSerde.deserialize(this.name, v);
  }

  fetchRange(key: K, timeFrom: number, timeTo: number): Array<{ windowStart: number; value: V }> {
    const prefix = keyPrefix(this.keyBytes(key));
    const out: Array<{ windowStart: number; value: V }> = [];
    for (const e of this.bytes.range(Buffer.concat([prefix, u64(timeFrom)]), Buffer.concat([prefix, u64(timeTo + 1)]))) {
      const windowStart = Number(e.key.readBigUInt64BE(prefix.length));
      if (this.expired(windowStart)) continue;
      out.push({ windowStart, value: this.valueSerde.deserialize(this.name, e.value) as V });
    }
    return out;
  }

  /** Windows of every key starting in [timeFrom, timeTo]. */
  fetchAll(timeFrom: number, timeTo: number): Array<{ key: Windowed<K>; value: V }> {
    return this.all().filter((e) => e.key.window.start >= timeFrom && e.key.window.start <= timeTo);
  }

  all(): Array<{ key: Windowed<K>; value: V }> {
    const out: Array<{ key: Windowed<K>; value: V }> = [];
    for (const e of this.bytes.range()) {
      const { key, rest } = splitKey(e.key);
      const start = Number(rest.readBigUInt64BE(0));
      if (this.expired(start)) continue;
      out.push({ key: { key: this.keySerde.deserialize(this.name, key) as K, window: { start, end: start + this.windowSizeMs } }, value: this.valueSerde.deserialize(this.name, e.value) as V });
    }
    return out;
  }

  override restore(records: Iterable<{ key: Buffer; value: Buffer | null }>): void {
    const list = [...records];
    for (const r of list) this.observedTime = Math.max(this.observedTime, Number(splitKey(r.key).rest.readBigUInt64BE(0)));
    super.restore(list);
  }

  override flush(): void {
    if (this.engine && Number.isFinite(this.observedTime)) {
      for (const e of this.bytes.range()) {
        if (this.expired(Number(splitKey(e.key).rest.readBigUInt64BE(0)))) this.bytes.put(e.key, null);
      }
    }
    super.flush();
  }
}

export interface ReadOnlySessionStore<K, V> {
  readonly name: string;
  /** Sessions of a key, oldest first. */
  fetch(key: K): Array<{ key: Windowed<K>; value: V }>;
  fetchSession(key: K, sessionStart: number, sessionEnd: number): V | null;
}

export interface SessionStore<K, V> extends ReadOnlySessionStore<K, V> {
  /** Sessions of a key ending at or after earliestSessionEnd and starting at or before latestSessionStart. */
  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): Array<{ key: Windowed<K>; value: V }>;
  put(session: Windowed<K>, value: V | null): void;
  remove(session: Windowed<K>): void;
}

/** Keys are `[len][key][end][start]`: a key's sessions in order of their end. */
export class SessionStoreImpl<K, V> extends AbstractStore implements SessionStore<K, V> {
  readonly kind = 'session' as const;
  private observedTime = -Infinity;

  constructor(
    supplier: BytesStoreSupplier,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    readonly retentionMs: number,
  ) {
    super(supplier);
    this.changelogConfigs = { 'cleanup.policy': 'compact,delete', 'retention.ms': String(retentionMs + 86_400_000) };
  }

  private keyBytes(key: K): Buffer {
    const b = this.keySerde.serialize(this.name, key);
    if (b === null) throw new Error(`store ${this.name}: null keys are not allowed`);
    return b;
  }

  private expired(end: number): boolean {
    return end <= this.observedTime - this.retentionMs;
  }

  put(session: Windowed<K>, value: V | null): void {
    this.observedTime = Math.max(this.observedTime, session.window.end);
    if (value !== null && this.expired(session.window.end)) return;
    this.write(Buffer.concat([keyPrefix(this.keyBytes(session.key)), u64(session.window.end), u64(session.window.start)]), value === null ? null : this.valueSerde.serialize(this.name, value));
  }

  remove(session: Windowed<K>): void {
    this.put(session, null);
  }

  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): Array<{ key: Windowed<K>; value: V }> {
    const prefix = keyPrefix(this.keyBytes(key));
    const out: Array<{ key: Windowed<K>; value: V }> = [];
    const end = Buffer.from(prefix);
    // The first key after every `prefix...` key: bump the prefix as a big-endian number.
    const upper = Buffer.concat([prefix, Buffer.alloc(U64 * 2, 0xff), Buffer.from([0xff])]);
    for (const e of this.bytes.range(Buffer.concat([prefix, u64(earliestSessionEnd)]), upper)) {
      if (!e.key.subarray(0, end.length).equals(end)) break;
      const sEnd = Number(e.key.readBigUInt64BE(prefix.length));
      const sStart = Number(e.key.readBigUInt64BE(prefix.length + U64));
      if (sStart > latestSessionStart || this.expired(sEnd)) continue;
      out.push({ key: { key, window: { start: sStart, end: sEnd } }, value: this.valueSerde.deserialize(this.name, e.value) as V });
    }
    return out;
  }

  fetch(key: K): Array<{ key: Windowed<K>; value: V }> {
    return this.findSessions(key, 0, Number.MAX_SAFE_INTEGER);
  }

  fetchSession(key: K, sessionStart: number, sessionEnd: number): V | null {
    const v = this.bytes.get(Buffer.concat([keyPrefix(this.keyBytes(key)), u64(sessionEnd), u64(sessionStart)]));
    return v === undefined || this.expired(sessionEnd) ? null : this.valueSerde.deserialize(this.name, v);
  }

  override restore(records: Iterable<{ key: Buffer; value: Buffer | null }>): void {
    const list = [...records];
    for (const r of list) this.observedTime = Math.max(this.observedTime, Number(splitKey(r.key).rest.readBigUInt64BE(0)));
    super.restore(list);
  }
}
