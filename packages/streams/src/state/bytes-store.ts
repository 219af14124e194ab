/**
 * The byte-level engines under every state store: sorted maps from key bytes to value bytes.
 * Typed stores (key-value, window, session) encode their keys so that byte order is the order
 * their range queries need, so one engine serves all three.
 */
import { mkdirSync } from 'node:fs';
import { open, type RootDatabase } from 'lmdb';

export interface BytesEntry {
  key: Buffer;
  value: Buffer;
}

export interface BytesStore {
  readonly persistent: boolean;
  get(key: Buffer): Buffer | undefined;
  /** A null value deletes. */
  put(key: Buffer, value: Buffer | null): void;
  /** Entries with from <= key < to (either bound optional), in byte order. */
  range(from?: Buffer, to?: Buffer): IterableIterator<BytesEntry>;
  approximateNumEntries(): number;
  /** Makes writes durable (a no-op in memory). */
  flush(): void;
  close(): void;
}

/** Keys as latin1 strings: one char per byte, so string order is byte order. */
export class InMemoryBytesStore implements BytesStore {
  readonly persistent = false;
  private readonly map = new Map<string, BytesEntry>();
  private sorted: string[] | null = [];

  get(key: Buffer): Buffer | undefined {
    return this.map.get(key.toString('latin1'))?.value;
  }

  put(key: Buffer, value: Buffer | null): void {
    const k = key.toString('latin1');
    if (value === null) {
      if (this.map.delete(k) && this.sorted) this.sorted.splice(lowerBound(this.sorted, k), 1);
      return;
    }
    if (!this.map.has(k) && this.sorted) {
      // Appends in order are the common case (window keys by time); others insert in place.
      const s = this.sorted;
      if (s.length === 0 || s[s.length - 1] < k) s.push(k);
      else if (s.length > 50_000) this.sorted = null;
      else s.splice(lowerBound(s, k), 0, k);
    }
    this.map.set(k, { key: Buffer.from(key), value });
  }

  *range(from?: Buffer, to?: Buffer): IterableIterator<BytesEntry> {
    if (!this.sorted) this.sorted = [...this.map.keys()].sort();
    const keys = this.sorted;
    const f = from?.toString('latin1');
    const t = to?.toString('latin1');
    // Snapshot the keys in range so that writes during iteration are safe.
    const start = f === undefined ? 0 : lowerBound(keys, f);
    const end = t === undefined ? keys.length : lowerBound(keys, t);
    for (const k of keys.slice(start, end)) {
      const e = this.map.get(k);
      if (e) yield e;
    }
  }

  approximateNumEntries(): number {
    return this.map.size;
  }

  flush(): void {}

  close(): void {
    this.map.clear();
    this.sorted = [];
  }
}

function lowerBound(a: string[], k: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A persistent store in an LMDB environment (npm `lmdb`, prebuilt binaries). LMDB commits per
 * transaction, so writes collect in an in-memory overlay (read back by get and range) and are
 * written in one transaction on flush, which the runtime calls before every commit and which
 * also happens whenever the overlay grows large. Keys must be 1..1978 bytes (LMDB's limit).
 */
export class LmdbBytesStore implements BytesStore {
  readonly persistent = true;
  private readonly db: RootDatabase<Buffer, Buffer>;
  private readonly overlay = new Map<string, Buffer | null>();

  constructor(
    readonly directory: string,
    private readonly maxOverlay = 20_000,
  ) {
    mkdirSync(directory, { recursive: true });
    // The changelog is the durable copy; noSync leaves fsync to the OS, as RocksDB in Kafka Streams does.
    this.db = open<Buffer, Buffer>({ path: directory, keyEncoding: 'binary', encoding: 'binary', compression: false, noSync: true });
  }

  get(key: Buffer): Buffer | undefined {
    const k = key.toString('latin1');
    if (this.overlay.has(k)) return this.overlay.get(k) ?? undefined;
    const v = this.db.get(key);
    return v === undefined || v === null ? undefined : Buffer.from(v);
  }

  put(key: Buffer, value: Buffer | null): void {
    if (key.length === 0) throw new Error('lmdb store keys cannot be empty');
    this.overlay.set(key.toString('latin1'), value);
    if (this.overlay.size >= this.maxOverlay) this.flush();
  }

  *range(from?: Buffer, to?: Buffer): IterableIterator<BytesEntry> {
    const f = from?.toString('latin1');
    const t = to?.toString('latin1');
    const pending = [...this.overlay.entries()].filter(([k]) => (f === undefined || k >= f) && (t === undefined || k < t)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const options: { start?: Buffer; end?: Buffer; snapshot: boolean } = { snapshot: true };
    if (from) options.start = from;
    if (to) options.end = to;
    let i = 0;
    for (const { key, value } of this.db.getRange(options)) {
      const k = Buffer.from(key).toString('latin1');
      while (i < pending.length && pending[i][0] < k) {
        const [pk, pv] = pending[i++];
        if (pv !== null) yield { key: Buffer.from(pk, 'latin1'), value: pv };
      }
      if (i < pending.length && pending[i][0] === k) {
        const pv = pending[i++][1];
        if (pv !== null) yield { key: Buffer.from(k, 'latin1'), value: pv };
        continue;
      }
      yield { key: Buffer.from(key), value: Buffer.from(value) };
    }
    for (; i < pending.length; i++) if (pending[i][1] !== null) yield { key: Buffer.from(pending[i][0], 'latin1'), value: pending[i][1] as Buffer };
  }

  /** Many writes in one LMDB transaction (restoration), bypassing the overlay. */
  putAll(entries: Iterable<{ key: Buffer; value: Buffer | null }>): void {
    this.flush();
    this.db.transactionSync(() => {
      for (const e of entries) {
        if (e.value === null) this.db.removeSync(e.key);
        else this.db.putSync(e.key, e.value);
      }
    });
  }

  approximateNumEntries(): number {
    return (this.db.getStats() as { entryCount: number }).entryCount + this.overlay.size;
  }

  flush(): void {
    if (this.overlay.size === 0) return;
    const writes = [...this.overlay];
    this.overlay.clear();
    this.db.transactionSync(() => {
      for (const [k, v] of writes) {
        const key = Buffer.from(k, 'latin1');
        if (v === null) this.db.removeSync(key);
        else this.db.putSync(key, v);
      }
    });
  }

  close(): void {
    this.flush();
    void this.db.close();
  }
}
