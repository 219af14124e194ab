/**
 * AlterPartitionReassignments 0 (KIP-455; kafka-reassign-partitions.sh --execute / --cancel): a
 * target replica list starts a reassignment, null cancels one. Each partition's change is a
 * compare-and-swap on its epoch, retried on fresh state when it loses a race; the controller
 * finishes a reassignment once the new replicas are in sync.
 */
import { ApiKey, ErrorCode, KafkaError } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { partitionState, type PartitionRegistration } from '../metadata/metadata-store.js';
import { cancelReassignment, startReassignment, type ReassignmentOutcome } from '../controller/partition-change.js';
import { canCluster, Op } from '../security/checks.js';

export function alterPartitionReassignmentsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.AlterPartitionReassignments> {
  return {
    apiKey: ApiKey.AlterPartitionReassignments,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, { connection }) {
      // Kafka: Alter on the cluster.
      if (!canCluster(broker, connection, Op.ALTER)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', responses: [] };
      const responses = [];
      for (const topic of request.topics) {
        const partitions = [];
        for (const p of topic.partitions) {
          const target = p.replicas ?? null;
          const result = await reassign(broker, topic.name, p.partitionIndex, (state) =>
            target === null ? cancelReassignment(state) : startReassignment(state, target, registeredBrokers(broker)),
          );
          partitions.push({ partitionIndex: p.partitionIndex, ...result });
        }
        responses.push({ name: topic.name, partitions });
      }
      await broker.topics.reconciler.caughtUp();
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses };
    },
  };
}

export function registeredBrokers(broker: BrokerContext): Set<number> {
  const ids = new Set(broker.metadata.brokers().map((b) => b.nodeId));
  ids.add(broker.nodeId);
  return ids;
}

async function reassign(broker: BrokerContext, topic: string, partition: number, decide: (state: PartitionRegistration) => ReassignmentOutcome): Promise<{ errorCode: number; errorMessage: string | null }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const assignment = broker.metadata.topic(topic)?.partitions[partition];
    if (!assignment) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Partition ${topic}-${partition} does not exist.` };
    const state = partitionState(assignment);
    const outcome = decide(state);
    if ('errorCode' in outcome) return { errorCode: outcome.errorCode, errorMessage: outcome.message };
    try {
      const next = await broker.metadata.alterPartition(topic, partition, state.partitionEpoch, outcome.change);
      const ongoing = next.addingReplicas.length || next.removingReplicas.length;
      broker.logger.info(
        `reassignment of ${topic}-${partition}: replicas ${state.replicas.join(',')} -> ${next.replicas.join(',')}${ongoing ? ` (adding ${next.addingReplicas.join(',') || '-'}, removing ${next.removingReplicas.join(',') || '-'})` : ' (done)'}`,
      );
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.INVALID_UPDATE_VERSION) {
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
        continue;
      }
      const { code, message } = errorOf(err, broker.logger, `reassigning ${topic}-${partition}`);
      return { errorCode: code, errorMessage: message };
    }
  }
  return { errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: `${topic}-${partition} kept changing; try again.` };
}
