/**
 * Controlled shutdown (Kafka's `controlled.shutdown.enable`): before a broker of a cluster stops,
 * the partitions it leads move to other in-sync replicas and it leaves the ISRs, so producers and
 * consumers meet one retriable NOT_LEADER_OR_FOLLOWER and carry on with the new leader instead of
 * timing out on a dead one. Each move is a compare-and-swap on the partition's epoch, so it cannot
 * undo a newer decision; a lost race is retried on the fresh state until the deadline.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { Logger } from '../logger.js';
import { partitionState, type MetadataStore } from '../metadata/metadata-store.js';
import type { MetadataReconciler } from '../replica/metadata-reconciler.js';
import { decideShutdown } from './partition-change.js';

export interface ControlledShutdownParams {
  nodeId: number;
  metadata: MetadataStore;
  reconciler: MetadataReconciler;
  logger: Logger;
  timeoutMs: number;
}

/** Resolves with how many partitions were moved or left (never rejects: shutdown goes on regardless). */
export async function controlledShutdown({ nodeId, metadata, reconciler, logger, timeoutMs }: ControlledShutdownParams): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let changed = 0;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const live = new Set(metadata.brokers().map((b) => b.nodeId));
    let pending = 0;
    for (const topic of metadata.topics()) {
      for (const assignment of topic.partitions) {
        const state = partitionState(assignment);
        const change = decideShutdown(state, nodeId, live);
        if (!change) continue;
        pending++;
        try {
          await metadata.alterPartition(topic.name, state.partition, state.partitionEpoch, change);
          changed++;
          if (change.leader !== undefined) logger.info(`controlled shutdown: ${topic.name}-${state.partition} leadership moved to ${change.leader}`);
        } catch (err) {
          const code = err instanceof KafkaError ? err.code : -1;
          if (code !== ErrorCode.INVALID_UPDATE_VERSION && code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
            logger.warn(`controlled shutdown: ${topic.name}-${state.partition}: ${(err as Error).message}`);
          }
        }
      }
    }
    if (pending === 0) break;
    // Lost races: let the view catch up, then decide again.
    await reconciler.caughtUp();
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - Date.now()))));
  }
  // The local replicas become followers before the network closes, so in-flight produces get NOT_LEADER_OR_FOLLOWER.
  await reconciler.caughtUp();
  if (changed) logger.info(`controlled shutdown: ${changed} partition change(s) made`);
  return changed;
}
