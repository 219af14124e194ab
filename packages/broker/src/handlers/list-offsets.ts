/**
 * ListOffsets 1–10: latest (-1: the high watermark, what consumers may read up to), earliest
 * (-2, and -4 earliest-local: the log start offset), max timestamp (-3), or the first offset whose
 * record timestamp is at least the given one (-1/-1 when there is none).
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { canCluster, canTopic, canTransactionalId, Op } from '../security/checks.js';

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;

export function listOffsetsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.ListOffsets> {
  return {
    apiKey: ApiKey.ListOffsets,
    minVersion: 1,
    maxVersion: 10,
    async handle(request, { connection }) {
      const topics = await Promise.all(
        request.topics.map(async (t) => ({
          name: t.name,
          partitions: await Promise.all(
            t.partitions.map(async (p) => {
              const base = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1n, offset: -1n, leaderEpoch: -1, oldStyleOffsets: [] };
              if (!canTopic(broker, connection, Op.DESCRIBE, t.name)) return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
              const { partition, errorCode } = broker.topics.get(t.name)?.partitions[p.partitionIndex]
                ? broker.replicaManager.lookup(t.name, p.partitionIndex, p.currentLeaderEpoch)
                : { partition: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
              if (!partition) return { ...base, errorCode };
              try {
                if (p.timestamp === LATEST) {
                  // read_committed: the end is the last stable offset, below any open transaction.
                  const hw = partition.highWatermark;
                  const offset = request.isolationLevel === 1 ? (await partition.log.transactionState()).lastStableOffset(hw) : hw;
                  return { ...base, offset, leaderEpoch: partition.leaderEpoch };
                }
                if (p.timestamp === EARLIEST || p.timestamp === EARLIEST_LOCAL) {
                  const found = await partition.offsetForTimestamp(EARLIEST);
                  return { ...base, offset: partition.logStartOffset, leaderEpoch: found?.leaderEpoch ?? -1 };
                }
                if (p.timestamp < 0n && p.timestamp !== MAX_TIMESTAMP) return base;
                const found = await partition.offsetForTimestamp(p.timestamp);
                if (!found || found.offset >= partition.highWatermark) return base;
                return { ...base, timestamp: found.timestamp, offset: found.offset, leaderEpoch: found.leaderEpoch };
              } catch (err) {
                return { ...base, errorCode: errorOf(err, broker.logger, `ListOffsets ${t.name}-${p.partitionIndex}`).code };
              }
            }),
          ),
        })),
      );
      return { throttleTimeMs: 0, topics };
    },
  };
}
