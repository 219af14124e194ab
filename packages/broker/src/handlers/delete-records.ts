/** DeleteRecords 0–2: moves a partition's log start offset forward (-1: to the high watermark). */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { canCluster, canTopic, canTransactionalId, Op } from '../security/checks.js';

export function deleteRecordsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.DeleteRecords> {
  return {
    apiKey: ApiKey.DeleteRecords,
    minVersion: 0,
    maxVersion: 2,
    async handle(request, { connection }) {
      const topics = await Promise.all(
        request.topics.map(async (t) => ({
          name: t.name,
          partitions: await Promise.all(
            t.partitions.map(async (p) => {
              if (!canTopic(broker, connection, Op.DELETE, t.name)) return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
              const { partition, errorCode } = broker.topics.get(t.name)?.partitions[p.partitionIndex]
                ? broker.replicaManager.lookup(t.name, p.partitionIndex)
                : { partition: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
              if (!partition) return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode };
              const target = p.offset === -1n ? partition.highWatermark : p.offset;
              if (target < 0n || target > partition.highWatermark) {
                return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
              }
              try {
                const lowWatermark = await partition.deleteRecordsBefore(target);
                return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: ErrorCode.NONE };
              } catch (err) {
                return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: errorOf(err, broker.logger, `DeleteRecords ${t.name}-${p.partitionIndex}`).code };
              }
            }),
          ),
        })),
      );
      return { throttleTimeMs: 0, topics };
    },
  };
}
