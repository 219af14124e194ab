/**
 * Produce 3–11 (record batch v2 only, as Kafka 4). Partitions are appended concurrently; each
 * append's high watermark moves at once (one replica) and wakes the fetches parked on the
 * partition. acks=0 gets no response; its errors are only logged.
 */
import { ApiKey, ErrorCode, ProtocolError, type ProduceResponseTopicProduceResponse } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { needsRecompression, recompress, targetCodec } from '../produce/recompress.js';
import { producerBatchOf, type ProducerStates } from '../producers/producer-states.js';
import type { PartitionLog } from '@sluice/storage';

export function produceHandler(broker: BrokerContext, producerStates: ProducerStates): ApiHandler<typeof ApiKey.Produce> {
  return {
    apiKey: ApiKey.Produce,
    minVersion: 3,
    maxVersion: 11,
    // Every append below has settled (written or refused) before the response exists, and the
    // log keeps no reference to appended bytes, so the request frame can be reused after it.
    releasesRequestFrame: true,
    async handle(request) {
      const acks = request.acks;
      const validAcks = acks === 0 || acks === 1 || acks === -1;
      const responses: ProduceResponseTopicProduceResponse[] = await Promise.all(
        request.topicData.map(async (topicData) => {
          const topic = broker.topics.get(topicData.name);
          return {
            name: topicData.name,
            partitionResponses: await Promise.all(
              topicData.partitionData.map(async (p) => {
                const result = { index: p.index, errorCode: ErrorCode.NONE, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null as string | null };
                if (!validAcks) return { ...result, errorCode: ErrorCode.INVALID_REQUIRED_ACKS };
                if (request.transactionalId) return { ...result, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, errorMessage: 'Transactions are not supported by this broker yet.' };
                const assignment = topic?.partitions[p.index];
                const log = assignment ? broker.topics.partitionLog(topicData.name, p.index) : undefined;
                if (!topic || !assignment || !log) return { ...result, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
                // Internal topics (__consumer_offsets, …) are written by the broker's own coordinators only.
                if (topic.internal) return { ...result, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: `Cannot append to internal topic ${topic.name}` };
                if (!p.records || p.records.length === 0) return { ...result, errorCode: ErrorCode.INVALID_RECORD, errorMessage: 'The produce request carries no records.' };
                try {
                  const target = targetCodec(log.config.compressionType);
                  const prepare = async (records: Buffer) =>
                    target !== null && needsRecompression(records, target)
                      ? // Cap the decompressed size well above what a batch may hold, against bombs.
                        recompress(records, target, Math.max(64 << 20, log.config.maxMessageBytes * 64))
                      : records;
                  const options = { leaderEpoch: assignment.leaderEpoch };
                  // Batches of idempotent producers: sequence-checked, and a retry is answered with its first offsets.
                  const producerBatch = producerBatchOf(p.records);
                  const appended = producerBatch
                    ? await producerStates.append(log, producerBatch, p.records, prepare, options)
                    : await appendPrepared(log, await prepare(p.records), p.records, options);
                  if (!('duplicate' in appended && appended.duplicate)) {
                    log.highWatermark = log.logEndOffset;
                    broker.waiters.notify(topicData.name, p.index);
                  }
                  return { ...result, baseOffset: appended.baseOffset, logAppendTimeMs: appended.logAppendTime, logStartOffset: appended.logStartOffset };
                } catch (err) {
                  // Bytes that fail to decompress while recompressing are a corrupt batch, not a broker fault.
                  const { code, message } =
                    err instanceof ProtocolError ? { code: ErrorCode.CORRUPT_MESSAGE, message: err.message } : errorOf(err, broker.log, `append to ${topicData.name}-${p.index}`);
                  if (acks === 0) broker.log.warn(`acks=0 produce to ${topicData.name}-${p.index} failed: ${message}`);
                  return { ...result, errorCode: code, errorMessage: message };
                }
              }),
            ),
          };
        }),
      );
      if (acks === 0) return null;
      return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
    },
  };
}

/**
 * A recompressed batch was CRC-checked before it was decompressed and carries a CRC the broker just
 * computed, so the log need not check it again; client bytes are checked by the log as usual.
 */
function appendPrepared(log: PartitionLog, prepared: Buffer, received: Buffer, options: { leaderEpoch: number }) {
  return log.append(prepared, { ...options, crcVerified: prepared !== received });
}
