/** The group coordinator, wired into a broker: state loaded from __consumer_offsets, APIs registered. */
import type { BrokerContext } from '../broker-context.js';
import { GroupCoordinator } from './coordinator.js';
import { registerGroupHandlers } from './handlers.js';

export { GroupCoordinator, type CoordinatorNode } from './coordinator.js';
export { OFFSETS_TOPIC } from './offsets-log.js';
export { partitionForGroup, javaStringHashCode } from './records.js';

/**
 * Creates the coordinator, loads every __consumer_offsets partition (a single broker leads them
 * all; with replication the partition layer calls onBecomeLeader/onResign on leadership changes)
 * and registers the consumer-group APIs.
 */
export async function startGroupCoordinator(broker: BrokerContext): Promise<GroupCoordinator> {
  const coordinator = new GroupCoordinator(broker);
  await coordinator.load();
  registerGroupHandlers(broker.dispatcher, broker, coordinator);
  return coordinator;
}
