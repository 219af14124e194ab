/**
 * The transaction coordinator's shard of one `__transaction_state` partition, as the
 * CoordinatorRuntime runs it (Kafka's TransactionStateManager per partition): the metadata of the
 * transactional ids that hash to the partition, rebuilt by replaying it when this broker becomes
 * its leader. The partition's leader epoch is the coordinator epoch its markers carry, so a
 * partition leader can tell a deposed coordinator's late markers from the current one's.
 */
import type { ReplayedRecord } from '../coordinator/partition.js';
import type { CoordinatorShard, ShardContext } from '../coordinator/runtime.js';
import type { MarkerTarget } from './marker-writer.js';
import { decodeTxnKey, decodeTxnValue, encodeTxnKey, encodeTxnValue, type TxnLogValue, type TxnState } from './transaction-log.js';

export interface TxnMetadata {
  transactionalId: string;
  producerId: bigint;
  /** The id/epoch before the last bump, so a retried InitProducerId gets the same answer (KIP-360). */
  lastProducerId: bigint;
  producerEpoch: number;
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: Map<string, MarkerTarget>;
  startTimestampMs: number;
  lastUpdateTimestampMs: number;
  /** Set while markers are being written (PREPARE_*). */
  completing: Promise<void> | null;
}

export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class TransactionStateShard implements CoordinatorShard {
  readonly txns = new Map<string, TxnMetadata>();
  /** True once unloaded: marker writing and retries of this shard stop (the next leader resumes them). */
  unloaded = false;

  constructor(
    readonly context: ShardContext,
    private readonly loaded: (shard: TransactionStateShard) => void,
  ) {}

  get coordinatorEpoch(): number {
    return this.context.leaderEpoch;
  }

  replay(record: ReplayedRecord): void {
    const id = decodeTxnKey(record.key);
    if (id === null) return;
    try {
      if (record.value === null) this.txns.delete(id);
      else this.txns.set(id, fromLog(id, decodeTxnValue(record.value)));
    } catch (err) {
      this.context.log.warn(`skipping an unreadable __transaction_state record at ${this.context.partition}/${record.offset}: ${(err as Error).message}`);
    }
  }

  onLoaded(): void {
    this.loaded(this);
  }

  onUnloaded(): void {
    this.unloaded = true;
  }

  /** Writes the transaction's next state (null: the id's tombstone); applied by the caller once committed. */
  write(transactionalId: string, value: TxnLogValue | null): Promise<void> {
    return this.context.write([{ key: encodeTxnKey(transactionalId), value: value ? encodeTxnValue(value) : null }]);
  }
}

export function newTxn(transactionalId: string, producerId: bigint, timeoutMs: number, now: number): TxnMetadata {
  return {
    transactionalId,
    producerId,
    lastProducerId: -1n,
    producerEpoch: -1,
    lastProducerEpoch: -1,
    timeoutMs,
    state: 'Empty',
    partitions: new Map(),
    startTimestampMs: -1,
    lastUpdateTimestampMs: now,
    completing: null,
  };
}

export function toLog(t: Pick<TxnMetadata, 'producerId' | 'producerEpoch' | 'timeoutMs' | 'state' | 'partitions' | 'lastUpdateTimestampMs' | 'startTimestampMs'>): TxnLogValue {
  return {
    producerId: t.producerId,
    producerEpoch: t.producerEpoch,
    timeoutMs: t.timeoutMs,
    state: t.state,
    partitions: [...t.partitions.values()],
    lastUpdateTimestampMs: t.lastUpdateTimestampMs,
    startTimestampMs: t.startTimestampMs,
  };
}

function fromLog(transactionalId: string, v: TxnLogValue): TxnMetadata {
  const txn = newTxn(transactionalId, v.producerId, v.timeoutMs, v.lastUpdateTimestampMs);
  txn.producerEpoch = v.producerEpoch;
  txn.state = v.state;
  txn.startTimestampMs = v.startTimestampMs;
  for (const p of v.partitions) txn.partitions.set(partitionKey(p.topic, p.partition), p);
  return txn;
}
