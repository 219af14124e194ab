/**
 * `__transaction_state`: the transaction coordinator's log. One record per state change, keyed
 * by transactional id (Kafka's TransactionLogKey v0: version int16, transactional_id string)
 * with Kafka's TransactionLogValue v0 (version int16, producer_id int64, producer_epoch int16,
 * transaction_timeout_ms int32, transaction_status int8, transaction_partitions
 * [topic string, partition_ids [int32]] nullable, transaction_last_update_timestamp_ms int64,
 * transaction_start_timestamp_ms int64); a null value is a tombstone (expired id). The last
 * record of a key is its state, so a coordinator shard loads by replaying its partition.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import { internalTopicPartition } from '../coordinator/internal-topic-partition.js';
import type { CoordinatorPartition } from '../coordinator/partition.js';
import { partitionForGroup } from '../groups/records.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** Kafka's TransactionState ids, as stored in transaction_status. */
export const TxnStatus = { Empty: 0, Ongoing: 1, PrepareCommit: 2, PrepareAbort: 3, CompleteCommit: 4, CompleteAbort: 5, Dead: 6, PrepareEpochFence: 7 } as const;
export type TxnState = keyof typeof TxnStatus;
const STATE_NAMES = Object.keys(TxnStatus) as TxnState[];

export interface TxnLogValue {
  producerId: bigint;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: { topic: string; partition: number }[];
  lastUpdateTimestampMs: number;
  startTimestampMs: number;
}

export function encodeTxnKey(transactionalId: string): Buffer {
  const id = Buffer.from(transactionalId, 'utf8');
  const key = Buffer.allocUnsafe(4 + id.length);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(id.length, 2);
  id.copy(key, 4);
  return key;
}

export function decodeTxnKey(key: Buffer): string | null {
  if (key.length < 4 || key.readInt16BE(0) !== 0) return null;
  const n = key.readInt16BE(2);
  return key.toString('utf8', 4, 4 + n);
}

export function encodeTxnValue(v: TxnLogValue): Buffer {
  const byTopic = new Map<string, number[]>();
  for (const p of v.partitions) {
    let list = byTopic.get(p.topic);
    if (!list) byTopic.set(p.topic, (list = []));
    list.push(p.partition);
  }
  let size = 2 + 8 + 2 + 4 + 1 + 4 + 8 + 8;
  for (const [topic, ids] of byTopic) size += 2 + Buffer.byteLength(topic) + 4 + 4 * ids.length;
  const b = Buffer.allocUnsafe(size);
  let o = b.writeInt16BE(0, 0);
  o = b.writeBigInt64BE(v.producerId, o);
  o = b.writeInt16BE(v.producerEpoch, o);
  o = b.writeInt32BE(v.timeoutMs, o);
  o = b.writeInt8(TxnStatus[v.state], o);
  o = b.writeInt32BE(byTopic.size, o);
  for (const [topic, ids] of byTopic) {
    o = b.writeInt16BE(Buffer.byteLength(topic), o);
    o += b.write(topic, o, 'utf8');
    o = b.writeInt32BE(ids.length, o);
    for (const id of ids) o = b.writeInt32BE(id, o);
  }
  o = b.writeBigInt64BE(BigInt(v.lastUpdateTimestampMs), o);
  b.writeBigInt64BE(BigInt(v.startTimestampMs), o);
  return b;
}

/** Decodes value versions 0 and 1 (v1 is flexible: compact strings/arrays and tagged fields). */
export function decodeTxnValue(b: Buffer): TxnLogValue {
  const version = b.readInt16BE(0);
  if (version !== 0 && version !== 1) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `unknown transaction log value version ${version}`);
  let o = 2;
  const flexible = version >= 1;
  const uvarint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const byte = b[o++];
      v |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return v;
      shift += 7;
    }
  };
  const producerId = b.readBigInt64BE(o);
  o += 8;
  const producerEpoch = b.readInt16BE(o);
  o += 2;
  const timeoutMs = b.readInt32BE(o);
  o += 4;
  const state = STATE_NAMES[b.readInt8(o)] ?? 'Dead';
  o += 1;
  const partitions: { topic: string; partition: number }[] = [];
  const topics = flexible ? uvarint() - 1 : b.readInt32BE((o += 4) - 4);
  for (let t = 0; t < topics; t++) {
    const len = flexible ? uvarint() - 1 : b.readInt16BE((o += 2) - 2);
    const topic = b.toString('utf8', o, o + len);
    o += len;
    const n = flexible ? uvarint() - 1 : b.readInt32BE((o += 4) - 4);
    for (let i = 0; i < n; i++, o += 4) partitions.push({ topic, partition: b.readInt32BE(o) });
    if (flexible) o += skipTags(b, o);
  }
  const lastUpdateTimestampMs = Number(b.readBigInt64BE(o));
  const startTimestampMs = Number(b.readBigInt64BE(o + 8));
  return { producerId, producerEpoch, timeoutMs, state, partitions, lastUpdateTimestampMs, startTimestampMs };
}

function skipTags(b: Buffer, start: number): number {
  let o = start;
  const read = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const byte = b[o++];
      v |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return v;
      shift += 7;
    }
  };
  const count = read();
  for (let i = 0; i < count; i++) {
    read();
    o += read();
  }
  return o - start;
}

export class TransactionLog {
  constructor(private readonly broker: BrokerContext) {
    broker.topics.registerInternalTopic(TRANSACTION_STATE_TOPIC, () => ({
      numPartitions: broker.config.int('transaction.state.log.num.partitions'),
      replicationFactor: broker.config.int('transaction.state.log.replication.factor'),
      configs: {
        'cleanup.policy': 'compact',
        'compression.type': 'uncompressed',
        // A single broker has one replica: a higher min.isr would refuse every write.
        'min.insync.replicas': String(broker.metadata.clustered ? broker.config.int('transaction.state.log.min.isr') : 1),
        'segment.bytes': String(broker.config.int('transaction.state.log.segment.bytes')),
        'unclean.leader.election.enable': 'false',
      },
    }));
  }

  get partitionCount(): number {
    return this.broker.topics.get(TRANSACTION_STATE_TOPIC)?.partitions.length ?? this.broker.config.int('transaction.state.log.num.partitions');
  }

  /** Kafka's placement: abs(String.hashCode) modulo the partition count. */
  partitionFor(transactionalId: string): number {
    return partitionForGroup(transactionalId, this.partitionCount);
  }

  async ensureTopic(): Promise<void> {
    if (!this.broker.topics.get(TRANSACTION_STATE_TOPIC)) await this.broker.topics.autoCreate(TRANSACTION_STATE_TOPIC);
  }

  /**
   * The CoordinatorPartition of one partition. Appends need the topic's min.insync.replicas
   * (acks=all, as Kafka writes the transaction log), so an under-replicated log refuses state
   * changes instead of acknowledging what a failover could lose.
   */
  partition(partition: number): CoordinatorPartition {
    return internalTopicPartition(
      this.broker,
      {
        topic: TRANSACTION_STATE_TOPIC,
        ensureTopic: () => this.ensureTopic(),
        acks: -1,
        compression: () => 0,
        loadBufferSize: () => this.broker.config.int('transaction.state.log.load.buffer.size'),
      },
      partition,
    );
  }
}
