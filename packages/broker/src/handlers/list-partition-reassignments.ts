/** ListPartitionReassignments 0 (KIP-455; kafka-reassign-partitions.sh --list): partitions with a reassignment under way. */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { partitionState } from '../metadata/metadata-store.js';
import { reassignmentInProgress } from '../controller/partition-change.js';
import { canCluster, Op } from '../security/checks.js';

export function listPartitionReassignmentsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.ListPartitionReassignments> {
  return {
    apiKey: ApiKey.ListPartitionReassignments,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, { connection }) {
      // Kafka: Describe on the cluster.
      if (!canCluster(broker, connection, Op.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', topics: [] };
      const wanted = request.topics == null ? null : new Map(request.topics.map((t) => [t.name, new Set(t.partitionIndexes)]));
      const topics = [];
      for (const topic of broker.metadata.topics()) {
        const only = wanted?.get(topic.name);
        if (wanted && !only) continue;
        const partitions = topic.partitions
          .map(partitionState)
          .filter((p) => reassignmentInProgress(p) && (!only || only.has(p.partition)))
          .map((p) => ({ partitionIndex: p.partition, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas }));
        if (partitions.length) topics.push({ name: topic.name, partitions });
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics };
    },
  };
}
