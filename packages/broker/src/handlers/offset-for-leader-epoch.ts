/** OffsetForLeaderEpoch 2–4: the end offset of a leader epoch, from the partition's epoch cache. */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { canCluster, canTopic, Op } from '../security/checks.js';

export function offsetForLeaderEpochHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.OffsetForLeaderEpoch> {
  return {
    apiKey: ApiKey.OffsetForLeaderEpoch,
    minVersion: 2,
    maxVersion: 4,
    handle(request, { connection }) {
      // Kafka: a follower (replica id ≥ 0) needs ClusterAction on the cluster, a client Describe on the topic.
      const fromFollower = (request.replicaId ?? -1) >= 0;
      const followerAllowed = !fromFollower || canCluster(broker, connection, Op.CLUSTER_ACTION);
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => {
            if (fromFollower ? !followerAllowed : !canTopic(broker, connection, Op.DESCRIBE, t.topic)) return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
            const { partition, errorCode } = broker.topics.get(t.topic)?.partitions[p.partition]
              ? broker.replicaManager.lookup(t.topic, p.partition, p.currentLeaderEpoch)
              : { partition: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
            if (!partition) return { errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
            const { epoch, endOffset } = partition.endOffsetForEpoch(p.leaderEpoch);
            return { errorCode: ErrorCode.NONE, partition: p.partition, leaderEpoch: epoch, endOffset };
          }),
        })),
      };
    },
  };
}
