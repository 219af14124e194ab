/**
 * One partition's transactional state (the transactional half of Kafka's ProducerStateManager):
 * the first offset of each producer's ongoing transaction, which bounds the last stable offset
 * (LSO). Everything is derived from batch headers and control records, so it is rebuilt by
 * replaying the log from the newest producer snapshot. The aborted transactions it finds go to
 * the segments' `.txnindex` files (transaction-index.ts), which read_committed fetches consult.
 */
import { BatchIterator, readControlRecord, readRecordBatch } from '@sluice/protocol';
import type { AbortedTxn } from './transaction-index.js';

export type { AbortedTxn } from './transaction-index.js';

export class TransactionState {
  /** Producer id -> first offset of its ongoing transaction. */
  private readonly ongoing = new Map<bigint, bigint>();
  /** Every batch below this offset has been observed (appends racing a rebuild are seen twice). */
  private observedUpTo = 0n;
  /**
   * Transactions ended since the last producer snapshot, so a snapshot at an offset between a
   * transaction's start and its marker still lists it as open (the marker may be lost in a crash).
   */
  private ended: Array<{ producerId: bigint; firstOffset: bigint; markerOffset: bigint }> = [];

  /** State restored from a producer snapshot taken at `offset`: the open transactions then. */
  static fromSnapshot(offset: bigint, open: Iterable<[bigint, bigint]>): TransactionState {
    const state = new TransactionState();
    for (const [producerId, first] of open) state.ongoing.set(producerId, first);
    state.observedUpTo = offset;
    return state;
  }

  /** Offset below which every batch has been observed. */
  get observedEnd(): bigint {
    return this.observedUpTo;
  }

  /**
   * Records the batches of `records`, the first stored at `baseOffset`. Returns the transactions
   * aborted by markers among them, for the index of the segment holding each marker.
   */
  observe(records: Buffer, baseOffset: bigint): AbortedTxn[] {
    const aborted: AbortedTxn[] = [];
    let offset = baseOffset;
    for (const it = new BatchIterator(records); it.next(); ) {
      const first = offset;
      const last = first + BigInt(it.lastOffsetDelta);
      offset = last + 1n;
      if (first < this.observedUpTo) continue;
      this.observedUpTo = last + 1n;
      if (it.producerId < 0n || !it.isTransactional) continue;
      if (!it.isControl) {
        if (!this.ongoing.has(it.producerId)) this.ongoing.set(it.producerId, first);
        continue;
      }
      let type: ReturnType<typeof readControlRecord>['type'];
      try {
        const record = readRecordBatch(it.batch, 0, { verifyCrc: false }).records[0];
        type = record ? readControlRecord(record).type : -1;
      } catch {
        continue;
      }
      if (type !== 'abort' && type !== 'commit') continue;
      const started = this.ongoing.get(it.producerId);
      this.ongoing.delete(it.producerId);
      if (started !== undefined) this.ended.push({ producerId: it.producerId, firstOffset: started, markerOffset: first });
      // As Kafka: an abort with no data of its own (or whose data was compacted away) still
      // counts, from its marker.
      if (type === 'abort') aborted.push({ producerId: it.producerId, firstOffset: started ?? first, lastOffset: first, lastStableOffset: this.firstUnstable() ?? first + 1n });
    }
    return aborted;
  }

  /** The smallest first offset of an ongoing transaction, null when none is open. */
  firstUnstable(): bigint | null {
    let min: bigint | null = null;
    for (const first of this.ongoing.values()) if (min === null || first < min) min = first;
    return min;
  }

  /** LSO: below every open transaction and the high watermark. */
  lastStableOffset(highWatermark: bigint): bigint {
    const first = this.firstUnstable();
    return first !== null && first < highWatermark ? first : highWatermark;
  }

  /** The transactions open just before `offset` (for a producer snapshot taken there). */
  openAt(offset: bigint): Map<bigint, bigint> {
    const open = new Map<bigint, bigint>();
    for (const [producerId, first] of this.ongoing) if (first < offset) open.set(producerId, first);
    for (const e of this.ended) if (e.firstOffset < offset && e.markerOffset >= offset) open.set(e.producerId, e.firstOffset);
    return open;
  }

  /** How many ended transactions are remembered for the next snapshot. */
  get endedSinceSnapshot(): number {
    return this.ended.length;
  }

  /** Forgets ended transactions whose marker is below `offset` (a snapshot covers them). */
  forgetEndedBefore(offset: bigint): void {
    this.ended = this.ended.filter((e) => e.markerOffset >= offset);
  }

  /** Producers with an open transaction and its first offset (DescribeProducers, hanging-transaction checks). */
  openTransactions(): ReadonlyMap<bigint, bigint> {
    return this.ongoing;
  }
}
