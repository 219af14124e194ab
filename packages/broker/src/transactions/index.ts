/** The transaction coordinator, wired into a broker: shards follow __transaction_state leadership, APIs registered. */
import type { ConnectionOptions } from '@sluice/client';
import type { BrokerContext } from '../broker-context.js';
import type { GroupCoordinator } from '../groups/index.js';
import type { ProducerIdAllocator } from '../producers/producer-ids.js';
import { registerTransactionHandlers } from './handlers.js';
import { TransactionCoordinator } from './transaction-coordinator.js';
import { TRANSACTION_STATE_TOPIC } from './transaction-log.js';

export { TransactionCoordinator, type TxnMetadata } from './transaction-coordinator.js';
export { TRANSACTION_STATE_TOPIC, decodeTxnKey, decodeTxnValue, type TxnLogValue } from './transaction-log.js';

/**
 * Creates the coordinator, follows leadership of __transaction_state partitions (load a shard on
 * becoming leader, resuming its PREPARE_* transactions; unload on losing it), loads the partitions
 * this broker leads now, registers the transaction APIs, has the ReplicaManager verify
 * transactional writes against it, and has markers landing in __consumer_offsets settle the
 * group coordinator's transactional offsets. `connectionOptions`: how other brokers are reached
 * (markers for the partitions they lead).
 */
export async function startTransactionCoordinator(
  broker: BrokerContext,
  producerIds: ProducerIdAllocator,
  groups: GroupCoordinator,
  connectionOptions: Pick<ConnectionOptions, 'tls' | 'sasl'> = {},
): Promise<TransactionCoordinator> {
  const coordinator = new TransactionCoordinator(broker, producerIds, groups, connectionOptions);
  // Subscribed before loading, so a leadership change during the load is not missed.
  broker.replicaManager.onLeadershipChange((topic, index, role, leaderEpoch) => {
    if (topic !== TRANSACTION_STATE_TOPIC) return;
    if (role === 'leader') coordinator.onBecomeLeader(index, leaderEpoch).catch((err: unknown) => broker.logger.warn(`loading ${topic}-${index} failed: ${(err as Error).message}`));
    else coordinator.onResign(index, role === null ? undefined : leaderEpoch);
  });
  coordinator.markers.onOffsetsMarker = (partition, producerId, producerEpoch, commit) => groups.completeTransaction(partition, producerId, producerEpoch, commit);
  await coordinator.start();
  registerTransactionHandlers(broker.dispatcher, broker, coordinator, groups);
  broker.replicaManager.setTransactionVerifier((write) => coordinator.verifyTransactionalWrite(write));
  return coordinator;
}
