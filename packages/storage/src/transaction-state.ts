/**
 * One partition's transactional state (the transactional half of Kafka's ProducerStateManager):
 * the first offset of each producer's ongoing transaction, which bounds the last stable offset
 * (LSO), and the aborted transactions read_committed fetches are told about. Everything is
 * derived from batch headers and control records, so it is rebuilt by replaying the log.
 */
import { BatchIterator, readControlRecord, readRecordBatch } from '@sluice/protocol';

/** One entry of Kafka's aborted-transaction index (.txnindex). */
export interface AbortedTxn {
  producerId: bigint;
  firstOffset: bigint;
  lastOffset: bigint;
  lastStableOffset: bigint;
}

export class TransactionState {
  /** Producer id -> first offset of its ongoing transaction. */
  private readonly ongoing = new Map<bigint, bigint>();
  /** In offset order of their markers. */
  private readonly aborted: AbortedTxn[] = [];
  /** Every batch below this offset has been observed (appends racing a rebuild are seen twice). */
  private observedEnd = 0n;

  /** Records the batches of `records`, the first stored at `baseOffset`. */
  observe(records: Buffer, baseOffset: bigint): void {
    let offset = baseOffset;
    for (const it = new BatchIterator(records); it.next(); ) {
      const first = offset;
      const last = first + BigInt(it.lastOffsetDelta);
      offset = last + 1n;
      if (first < this.observedEnd) continue;
      this.observedEnd = last + 1n;
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
      if (type === 'abort' && started !== undefined) {
        this.aborted.push({ producerId: it.producerId, firstOffset: started, lastOffset: first, lastStableOffset: this.firstUnstable() ?? first + 1n });
      }
    }
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

  /** Producers with an open transaction and its first offset (DescribeProducers, hanging-transaction checks). */
  openTransactions(): ReadonlyMap<bigint, bigint> {
    return this.ongoing;
  }

  /** Aborted transactions overlapping [from, to): what a read_committed fetch of that range must drop. */
  abortedIn(from: bigint, to: bigint): AbortedTxn[] {
    return this.aborted.filter((a) => a.lastOffset >= from && a.firstOffset < to);
  }

  /** Every aborted transaction still known (ending at or after `from`). */
  allAborted(from = 0n): AbortedTxn[] {
    return this.aborted.filter((a) => a.lastOffset >= from);
  }
}
