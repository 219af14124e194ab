/** The broker's own APIs. Consumer-group APIs are registered by the group coordinator. */
import type { BrokerContext } from '../broker-context.js';
import { alterConfigsHandler } from './alter-configs.js';
import { apiVersionsHandler } from './api-versions.js';
import { createPartitionsHandler } from './create-partitions.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteRecordsHandler } from './delete-records.js';
import { electLeadersHandler } from './elect-leaders.js';
import { alterPartitionReassignmentsHandler } from './alter-partition-reassignments.js';
import { listPartitionReassignmentsHandler } from './list-partition-reassignments.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { describeClusterHandler } from './describe-cluster.js';
import { describeConfigsHandler } from './describe-configs.js';
import { describeLogDirsHandler } from './describe-log-dirs.js';
import { alterReplicaLogDirsHandler } from './alter-replica-log-dirs.js';
import { describeTopicPartitionsHandler } from './describe-topic-partitions.js';
import { fetchHandler } from './fetch.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { produceHandler } from './produce.js';
import type { ProducerIdAllocator } from '../producers/producer-ids.js';
import type { TransactionCoordinator } from '../transactions/transaction-coordinator.js';
import { describeProducersHandler } from './describe-producers.js';
import { createAclsHandler, deleteAclsHandler, describeAclsHandler } from './acls.js';
import { alterClientQuotasHandler, describeClientQuotasHandler } from './client-quotas.js';

/** The idempotent-producer machinery of InitProducerId (the producer state lives in each log). */
export interface Idempotence {
  producerIds: ProducerIdAllocator;
  /** Set once the transaction coordinator has started (InitProducerId with a transactional id). */
  transactions: TransactionCoordinator | null;
}

export function registerCoreHandlers(broker: BrokerContext, idempotence: Idempotence): void {
  const d = broker.dispatcher;
  d.register(produceHandler(broker));
  d.register(initProducerIdHandler(broker, idempotence.producerIds, () => idempotence.transactions));
  d.register(describeProducersHandler(broker, () => idempotence.transactions));
  d.register(fetchHandler(broker));
  d.register(listOffsetsHandler(broker));
  d.register(metadataHandler(broker));
  d.register(apiVersionsHandler(broker));
  d.register(createTopicsHandler(broker));
  d.register(deleteTopicsHandler(broker));
  d.register(deleteRecordsHandler(broker));
  d.register(electLeadersHandler(broker));
  d.register(alterPartitionReassignmentsHandler(broker));
  d.register(listPartitionReassignmentsHandler(broker));
  d.register(offsetForLeaderEpochHandler(broker));
  d.register(describeConfigsHandler(broker));
  d.register(alterConfigsHandler(broker));
  d.register(describeLogDirsHandler(broker));
  d.register(alterReplicaLogDirsHandler(broker));
  d.register(createPartitionsHandler(broker));
  d.register(incrementalAlterConfigsHandler(broker));
  d.register(describeClusterHandler(broker));
  d.register(describeTopicPartitionsHandler(broker));
  d.register(createAclsHandler(broker));
  d.register(describeAclsHandler(broker));
  d.register(deleteAclsHandler(broker));
  d.register(describeClientQuotasHandler(broker));
  d.register(alterClientQuotasHandler(broker));
}
