/**
 * The one adapter between the coordinator runtime's CoordinatorPartition and the broker's
 * partition layer (ReplicaManager / Partition, which own the high watermark), for a partition of a
 * coordinator's internal topic (`__consumer_offsets`, `__transaction_state`). Each coordinator
 * operation is one batch, so a write of many records is atomic in the log.
 */
import { buildRecordBatch, ErrorCode, iterateRecordBatches, KafkaError, readControlRecord, type CompressionType } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { Partition } from '../replica/partition.js';
import type { CoordinatorPartition, CoordinatorRecord, ReplayedMarker, ReplayedRecord, TransactionalAppend } from './partition.js';

export interface InternalTopicOptions {
  topic: string;
  /** Creates the topic when it does not exist yet (the first append may come before it). */
  ensureTopic(): Promise<void>;
  /**
   * 1: the runtime waits for the high watermark itself. -1: the append also needs the topic's
   * min.insync.replicas (Kafka's transaction log writes), failing with NOT_ENOUGH_REPLICAS otherwise.
   */
  acks: 1 | -1;
  compression(): CompressionType;
  /** Bytes read per step while a shard loads. */
  loadBufferSize(): number;
}

export function internalTopicPartition(broker: BrokerContext, options: InternalTopicOptions, partition: number): CoordinatorPartition {
  const hosted = (): Partition | undefined => broker.replicaManager.getPartition(options.topic, partition);
  return {
    append: (records, transactional) => append(broker, options, partition, records, transactional),
    get highWatermark() {
      return hosted()?.highWatermark ?? 0n;
    },
    // By name: the partition may not exist until the first append creates the topic.
    onHighWatermark: (listener) => broker.replicaManager.watchHighWatermark(options.topic, partition, listener),
    read: () => read(hosted(), options.loadBufferSize()),
  };
}

/** Appends the records as one batch to the partition as its leader; resolves once appended (acks=1) or committed (acks=-1). */
async function append(broker: BrokerContext, options: InternalTopicOptions, partition: number, records: readonly CoordinatorRecord[], transactional?: TransactionalAppend): Promise<{ lastOffset: bigint }> {
  await options.ensureTopic();
  const { partition: target, errorCode } = broker.replicaManager.lookup(options.topic, partition);
  if (!target) throw new KafkaError(errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ? ErrorCode.NOT_COORDINATOR : ErrorCode.COORDINATOR_NOT_AVAILABLE, `${options.topic}-${partition} is not available`);
  const now = BigInt(Date.now());
  const batch = buildRecordBatch(
    records.map((r) => ({ key: r.key, value: r.value, timestamp: now })),
    transactional
      ? // Kafka's TxnOffsetCommit batch: the producer's id and epoch, transactional; its sequence is not a client's and is not checked.
        { compression: options.compression(), producerId: transactional.producerId, producerEpoch: transactional.producerEpoch, baseSequence: 0, isTransactional: true }
      : { compression: options.compression() },
  );
  const appended = await broker.replicaManager.appendRecords(target, batch, { acks: options.acks, timeoutMs: options.acks === -1 ? 30_000 : 0, origin: 'coordinator' });
  if (appended.errorCode !== ErrorCode.NONE) throw new KafkaError(appended.errorCode, appended.errorMessage ?? `append to ${options.topic}-${partition} failed`);
  return { lastOffset: appended.lastOffset };
}

/** Every keyed data record and every transaction marker of the partition, in log order, to its end. */
async function* read(hosted: Partition | undefined, chunk: number): AsyncGenerator<ReplayedRecord | ReplayedMarker, void, void> {
  if (!hosted) return;
  let offset = hosted.logStartOffset;
  const end = hosted.logEndOffset;
  while (offset < end) {
    const read = await hosted.read(offset, chunk, { maxOffset: end, minOneBatch: true });
    if (read.records.length === 0) break;
    let next = offset;
    for (const batch of iterateRecordBatches(read.records)) {
      next = batch.header.baseOffset + BigInt(batch.header.lastOffsetDelta) + 1n;
      const producerId = batch.attributes.isTransactional ? batch.header.producerId : -1n;
      if (batch.attributes.isControl) {
        for (const record of batch.records) {
          const control = readControlRecord(record);
          if (control.type === 'commit' || control.type === 'abort') yield { offset: record.offset, producerId, producerEpoch: batch.header.producerEpoch, commit: control.type === 'commit' };
        }
        continue;
      }
      for (const record of batch.records) {
        if (!record.key) continue;
        yield { offset: record.offset, timestamp: record.timestamp, key: record.key, value: record.value, producerId };
      }
    }
    if (next <= offset) break;
    offset = next;
  }
}
