/**
 * ElectLeaders 0–2 (kafka-leader-election.sh, Admin.electLeaders): preferred or unclean election
 * for the listed partitions (null: all). Each election is a compare-and-swap on the partition's
 * epoch, retried on fresh state when it loses a race; the answer comes once this broker has
 * applied the outcome, so a Metadata request right after sees the new leaders.
 */
import { ApiKey, ErrorCode, KafkaError } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { partitionState } from '../metadata/metadata-store.js';
import { decideElection } from '../controller/partition-change.js';
import { canCluster, Op } from '../security/checks.js';

export function electLeadersHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.ElectLeaders> {
  return {
    apiKey: ApiKey.ElectLeaders,
    minVersion: 0,
    maxVersion: 2,
    async handle(request, { connection }) {
      // Kafka: Alter on the cluster.
      if (!canCluster(broker, connection, Op.ALTER)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, replicaElectionResults: [] };
      const electionType = request.electionType ?? 0;
      const wanted =
        request.topicPartitions === null
          ? broker.topics.all().map((t) => ({ topic: t.name, partitions: t.partitions.map((p) => p.partition) }))
          : request.topicPartitions;
      const replicaElectionResults = [];
      for (const { topic, partitions } of wanted) {
        const partitionResult = [];
        for (const partitionId of partitions) {
          const outcome = await elect(broker, electionType, topic, partitionId);
          // Kafka leaves partitions that needed nothing out of an all-partitions election's answer.
          if (request.topicPartitions === null && outcome.errorCode === ErrorCode.ELECTION_NOT_NEEDED) continue;
          partitionResult.push({ partitionId, ...outcome });
        }
        if (partitionResult.length) replicaElectionResults.push({ topic, partitionResult });
      }
      await broker.topics.reconciler.caughtUp();
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults };
    },
  };
}

async function elect(broker: BrokerContext, electionType: number, topic: string, partition: number): Promise<{ errorCode: number; errorMessage: string | null }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const assignment = broker.metadata.topic(topic)?.partitions[partition];
    if (!assignment) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Partition ${topic}-${partition} does not exist.` };
    const state = partitionState(assignment);
    const live = new Set(broker.metadata.brokers().map((b) => b.nodeId));
    live.add(broker.nodeId);
    const outcome = decideElection(electionType, state, live);
    if ('errorCode' in outcome) return { errorCode: outcome.errorCode, errorMessage: outcome.message };
    try {
      const next = await broker.metadata.alterPartition(topic, partition, state.partitionEpoch, outcome.change);
      broker.logger.info(`${electionType === 0 ? 'preferred' : 'UNCLEAN'} leader election: ${topic}-${partition} led by ${next.leader} (leader epoch ${next.leaderEpoch})`);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.INVALID_UPDATE_VERSION) {
        // Lost a race: let this broker's view catch up with the newer state, then decide again.
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
        continue;
      }
      const { code, message } = errorOf(err, broker.logger, `electing a leader for ${topic}-${partition}`);
      return { errorCode: code, errorMessage: message };
    }
  }
  return { errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: `${topic}-${partition} kept changing; try again.` };
}
