/** The transaction coordinator, wired into a broker: state loaded from __transaction_state, APIs registered. */
import type { BrokerContext } from '../broker-context.js';
import type { GroupCoordinator } from '../groups/index.js';
import type { ProducerIdAllocator } from '../producers/producer-ids.js';
import { registerTransactionHandlers } from './handlers.js';
import { TransactionCoordinator } from './transaction-coordinator.js';

export { TransactionCoordinator, type TxnMetadata } from './transaction-coordinator.js';
export { TRANSACTION_STATE_TOPIC, decodeTxnKey, decodeTxnValue, type TxnLogValue } from './transaction-log.js';

/**
 * Creates the coordinator, loads the __transaction_state partitions this broker leads (resuming
 * PREPARE_* transactions), registers the transaction APIs, and has the ReplicaManager verify
 * transactional writes against it.
 */
export async function startTransactionCoordinator(broker: BrokerContext, producerIds: ProducerIdAllocator, groups: GroupCoordinator): Promise<TransactionCoordinator> {
  const coordinator = new TransactionCoordinator(broker, producerIds, groups);
  await coordinator.start();
  registerTransactionHandlers(broker.dispatcher, broker, coordinator);
  groups.pendingTransactionalOffsets = (groupId, topic, partition) => coordinator.hasPendingOffset(groupId, topic, partition);
  broker.replicaManager.setTransactionVerifier((topic, partition, producerId, epoch) => coordinator.verifyTransactionalWrite(topic, partition, producerId, epoch));
  return coordinator;
}
