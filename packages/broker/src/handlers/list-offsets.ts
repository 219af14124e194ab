/**
 * ListOffsets 1–10: latest (-1: the high watermark, what consumers may read up to), earliest
 * (-2, and -4 earliest-local: the log start offset), max timestamp (-3), or the first offset whose
 * record timestamp is at least the given one (-1/-1 when there is none).
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;

export function listOffsetsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.ListOffsets> {
  return {
    apiKey: ApiKey.ListOffsets,
    minVersion: 1,
    maxVersion: 10,
    async handle(request) {
      const topics = await Promise.all(
        request.topics.map(async (t) => ({
          name: t.name,
          partitions: await Promise.all(
            t.partitions.map(async (p) => {
              const base = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1n, offset: -1n, leaderEpoch: -1, oldStyleOffsets: [] };
              const topic = broker.topics.get(t.name);
              const assignment = topic?.partitions[p.partitionIndex];
              const log = assignment ? broker.topics.partitionLog(t.name, p.partitionIndex) : undefined;
              if (!assignment || !log) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
              const current = p.currentLeaderEpoch ?? -1;
              if (current >= 0 && current !== assignment.leaderEpoch) {
                return { ...base, errorCode: current < assignment.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH };
              }
              try {
                if (p.timestamp === LATEST) {
                  return { ...base, offset: log.highWatermark, leaderEpoch: assignment.leaderEpoch };
                }
                if (p.timestamp === EARLIEST || p.timestamp === EARLIEST_LOCAL) {
                  const found = await log.offsetForTimestamp(EARLIEST);
                  return { ...base, offset: log.logStartOffset, leaderEpoch: found?.leaderEpoch ?? -1 };
                }
                if (p.timestamp < 0n && p.timestamp !== MAX_TIMESTAMP) return base;
                const found = await log.offsetForTimestamp(p.timestamp);
                if (!found || found.offset >= log.highWatermark) return base;
                return { ...base, timestamp: found.timestamp, offset: found.offset, leaderEpoch: found.leaderEpoch };
              } catch (err) {
                return { ...base, errorCode: errorOf(err, broker.log, `ListOffsets ${t.name}-${p.partitionIndex}`).code };
              }
            }),
          ),
        })),
      );
      return { throttleTimeMs: 0, topics };
    },
  };
}
