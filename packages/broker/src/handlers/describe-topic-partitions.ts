/**
 * DescribeTopicPartitions 0: topics (all when none are named) sorted by name, partitions in order,
 * paginated by responsePartitionLimit with a cursor.
 */
import { ApiKey, ErrorCode, type DescribeTopicPartitionsResponseTopic } from '@sluice/protocol';
import { AUTHORIZED_OPERATIONS_OMITTED, TOPIC_AUTHORIZED_OPERATIONS, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { partitionState, ZERO_UUID } from '../metadata/metadata-store.js';
import { canCluster, canTopic, Op } from '../security/checks.js';

const DEFAULT_PARTITION_LIMIT = 2000;

export function describeTopicPartitionsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.DescribeTopicPartitions> {
  return {
    apiKey: ApiKey.DescribeTopicPartitions,
    minVersion: 0,
    maxVersion: 0,
    handle(request, { connection }) {
      const limit = Math.max(1, Math.min(request.responsePartitionLimit ?? DEFAULT_PARTITION_LIMIT, DEFAULT_PARTITION_LIMIT));
      // Kafka: Describe on each topic; all topics lists only describable ones, a named one is refused.
      const describable = (name: string) => canTopic(broker, connection, Op.DESCRIBE, name);
      const names = (request.topics.length ? [...new Set(request.topics.map((t) => t.name))] : broker.topics.all().map((t) => t.name).filter(describable)).sort();
      const cursor = request.cursor ?? null;
      const topics: DescribeTopicPartitionsResponseTopic[] = [];
      let budget = limit;
      let nextCursor: { topicName: string; partitionIndex: number } | null = null;
      for (const name of names) {
        if (cursor && name < cursor.topicName) continue;
        if (!describable(name)) {
          topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED });
          continue;
        }
        const topic = broker.topics.get(name);
        if (!topic) {
          topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED });
          continue;
        }
        if (budget === 0) {
          nextCursor = { topicName: name, partitionIndex: cursor && name === cursor.topicName ? cursor.partitionIndex : 0 };
          break;
        }
        const first = cursor && name === cursor.topicName ? cursor.partitionIndex : 0;
        const selected = topic.partitions.filter((p) => p.partition >= first);
        const page = selected.slice(0, budget);
        budget -= page.length;
        if (page.length < selected.length) nextCursor = { topicName: name, partitionIndex: selected[page.length].partition };
        topics.push({
          errorCode: ErrorCode.NONE,
          name,
          topicId: topic.topicId,
          isInternal: topic.internal,
          partitions: page.map((p) => ({
            errorCode: ErrorCode.NONE,
            partitionIndex: p.partition,
            leaderId: p.leader,
            leaderEpoch: p.leaderEpoch,
            replicaNodes: p.replicas,
            isrNodes: partitionState(p).isr,
            eligibleLeaderReplicas: [],
            lastKnownElr: [],
            offlineReplicas: [],
          })),
          topicAuthorizedOperations: TOPIC_AUTHORIZED_OPERATIONS,
        });
        if (nextCursor) break;
      }
      return { throttleTimeMs: 0, topics, nextCursor };
    },
  };
}
