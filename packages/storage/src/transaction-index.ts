/**
 * A segment's aborted-transaction index (Kafka's TransactionIndex, `<base>.txnindex`): one entry
 * per transaction whose abort marker is in the segment, in marker order. Kafka's layout, 34 bytes
 * an entry, big-endian: version int16 (0), producerId int64, firstOffset int64, lastOffset int64
 * (the marker's offset), lastStableOffset int64 (the LSO once the abort was written).
 *
 * read_committed fetches ask the segments from the fetch offset onwards which aborted transactions
 * overlap what they return; an entry's lastStableOffset tells when later segments cannot add more.
 * Aborts are rare, so each append is written and fsynced at once, and entries are kept in memory
 * once read. A torn tail entry (a crash mid-write) is dropped.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';

export const TXN_INDEX_SUFFIX = '.txnindex';
export const TXN_INDEX_ENTRY_SIZE = 34;
const TXN_INDEX_VERSION = 0;

/** One entry of the aborted-transaction index. */
export interface AbortedTxn {
  producerId: bigint;
  firstOffset: bigint;
  /** Offset of the abort marker. */
  lastOffset: bigint;
  lastStableOffset: bigint;
}

export function encodeAbortedTxns(entries: readonly AbortedTxn[]): Buffer {
  const buf = Buffer.alloc(entries.length * TXN_INDEX_ENTRY_SIZE);
  entries.forEach((e, i) => {
    const at = i * TXN_INDEX_ENTRY_SIZE;
    buf.writeInt16BE(TXN_INDEX_VERSION, at);
    buf.writeBigInt64BE(e.producerId, at + 2);
    buf.writeBigInt64BE(e.firstOffset, at + 10);
    buf.writeBigInt64BE(e.lastOffset, at + 18);
    buf.writeBigInt64BE(e.lastStableOffset, at + 26);
  });
  return buf;
}

/** The whole entries of a `.txnindex` file's bytes; `tornBytes` counts a partial tail entry. */
export function decodeAbortedTxns(buf: Buffer): { entries: AbortedTxn[]; tornBytes: number } {
  const entries: AbortedTxn[] = [];
  const whole = buf.length - (buf.length % TXN_INDEX_ENTRY_SIZE);
  for (let at = 0; at < whole; at += TXN_INDEX_ENTRY_SIZE) {
    const version = buf.readInt16BE(at);
    if (version !== TXN_INDEX_VERSION) throw new Error(`transaction index entry at byte ${at} has version ${version}, expected ${TXN_INDEX_VERSION}`);
    entries.push({ producerId: buf.readBigInt64BE(at + 2), firstOffset: buf.readBigInt64BE(at + 10), lastOffset: buf.readBigInt64BE(at + 18), lastStableOffset: buf.readBigInt64BE(at + 26) });
  }
  return { entries, tornBytes: buf.length - whole };
}

export class TransactionIndex {
  private entries: AbortedTxn[] | null = null;
  private loading: Promise<AbortedTxn[]> | null = null;
  /** File changes, one at a time and in order. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private path: string) {}

  get file(): string {
    return this.path;
  }

  /** The entries, read from the file the first time. */
  load(): Promise<AbortedTxn[]> {
    if (this.entries) return Promise.resolve(this.entries);
    this.loading ??= this.read().then((entries) => {
      this.entries = entries;
      this.loading = null;
      return entries;
    });
    return this.loading;
  }

  private async read(): Promise<AbortedTxn[]> {
    let buf: Buffer;
    try {
      buf = await readFile(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const { entries, tornBytes } = decodeAbortedTxns(buf);
    if (tornBytes > 0) await this.rewrite(entries);
    return entries;
  }

  /**
   * Adds an aborted transaction, durably before the promise resolves. An entry already present
   * (the same marker seen again while the transaction state is rebuilt) is not added twice.
   */
  async append(entry: AbortedTxn): Promise<void> {
    const entries = await this.load();
    if (entries.some((e) => e.lastOffset === entry.lastOffset && e.producerId === entry.producerId)) return;
    // Kept in marker order even when a rebuild adds a marker an earlier crash left unindexed.
    let at = entries.length;
    while (at > 0 && entries[at - 1].lastOffset > entry.lastOffset) at--;
    entries.splice(at, 0, entry);
    if (at === entries.length - 1) await this.enqueue(() => this.appendToFile(entry));
    else await this.rewrite(entries);
  }

  /**
   * The entries overlapping [from, to) (an aborted transaction's records run from firstOffset to
   * its marker), and whether the search can stop: an entry's LSO at or past `to` means no later
   * marker can belong to a transaction that started below `to`.
   */
  async collect(from: bigint, to: bigint): Promise<{ aborted: AbortedTxn[]; complete: boolean }> {
    const aborted: AbortedTxn[] = [];
    for (const e of await this.load()) {
      if (e.lastOffset >= from && e.firstOffset < to) aborted.push(e);
      if (e.lastStableOffset >= to) return { aborted, complete: true };
    }
    return { aborted, complete: false };
  }

  /** Drops the entries whose marker is at or after `offset` (the log was truncated there). */
  async truncateTo(offset: bigint): Promise<void> {
    const entries = await this.load();
    const kept = entries.filter((e) => e.lastOffset < offset);
    if (kept.length === entries.length) return;
    this.entries = kept;
    await this.rewrite(kept);
  }

  /** Waits for every change so far to be on disk. */
  async settled(): Promise<void> {
    await this.writes.catch(() => undefined);
  }

  /** Renames the file (segment deletion, compaction swap); later writes go to the new name. */
  async renameTo(path: string): Promise<void> {
    await this.enqueue(async () => {
      await rename(this.path, path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      this.path = path;
    });
  }

  async delete(): Promise<void> {
    await this.enqueue(() => unlink(this.path).catch(() => undefined));
  }

  private async appendToFile(entry: AbortedTxn): Promise<void> {
    const fh = await open(this.path, 'a');
    try {
      await fh.write(encodeAbortedTxns([entry]));
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  private rewrite(entries: readonly AbortedTxn[]): Promise<void> {
    const snapshot = [...entries];
    return this.enqueue(async () => {
      const fh = await open(this.path, 'w');
      try {
        await fh.write(encodeAbortedTxns(snapshot));
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.writes.then(task);
    this.writes = run.catch(() => undefined);
    return run;
  }
}
