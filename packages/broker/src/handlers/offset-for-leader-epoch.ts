/** OffsetForLeaderEpoch 2–4: the end offset of a leader epoch, from the partition's epoch cache. */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';

export function offsetForLeaderEpochHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.OffsetForLeaderEpoch> {
  return {
    apiKey: ApiKey.OffsetForLeaderEpoch,
    minVersion: 2,
    maxVersion: 4,
    handle(request) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => {
            const assignment = broker.topics.get(t.topic)?.partitions[p.partition];
            const log = assignment ? broker.topics.partitionLog(t.topic, p.partition) : undefined;
            if (!assignment || !log) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
            const current = p.currentLeaderEpoch ?? -1;
            if (current >= 0 && current !== assignment.leaderEpoch) {
              const errorCode = current < assignment.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
              return { errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
            }
            const { epoch, endOffset } = log.endOffsetForEpoch(p.leaderEpoch);
            return { errorCode: ErrorCode.NONE, partition: p.partition, leaderEpoch: epoch, endOffset };
          }),
        })),
      };
    },
  };
}
