/** The group coordinator, wired into a broker: state loaded from __consumer_offsets, APIs registered. */
import type { BrokerContext } from '../broker-context.js';
import { GroupCoordinator } from './coordinator.js';
import { registerGroupHandlers } from './handlers.js';
import { OFFSETS_TOPIC } from './offsets-log.js';
import type { TransactionCoordinator } from '../transactions/transaction-coordinator.js';

export { GroupCoordinator, type CoordinatorNode } from './coordinator.js';
export { OFFSETS_TOPIC } from './offsets-log.js';
export { partitionForGroup, javaStringHashCode } from './records.js';
export type { OffsetCommitPartition } from './requests.js';

/**
 * Creates the coordinator, follows leadership of __consumer_offsets partitions (Kafka's
 * onLeadershipChange: load a shard on becoming leader, unload on losing it), loads the partitions
 * this broker leads now (a single broker: all of them) and registers the consumer-group APIs.
 */
export async function startGroupCoordinator(broker: BrokerContext, transactions: () => TransactionCoordinator | null = () => null): Promise<GroupCoordinator> {
  const coordinator = new GroupCoordinator(broker);
  // Subscribed before loading, so a leadership change during the load is not missed.
  broker.replicaManager.onLeadershipChange((topic, index, role, leaderEpoch) => {
    if (topic !== OFFSETS_TOPIC) return;
    if (role === 'leader') coordinator.onBecomeLeader(index, leaderEpoch).catch((err: unknown) => broker.logger.warn(`loading ${topic}-${index} failed: ${(err as Error).message}`));
    else coordinator.onResign(index, role === null ? undefined : leaderEpoch);
  });
  await coordinator.load();
  registerGroupHandlers(broker.dispatcher, broker, coordinator, transactions);
  return coordinator;
}
