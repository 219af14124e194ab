/**
 * InitProducerId 0–5 for idempotent producers. No transactional id: a fresh producer id with
 * epoch 0, or (v3+, KIP-360) the caller's own id with its epoch bumped when it passes the id and
 * epoch it holds; an epoch that would overflow gets a fresh id instead. With a transactional id
 * the transaction coordinator answers (new id, or epoch bump fencing older instances).
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import type { ProducerIdAllocator } from '../producers/producer-ids.js';
import type { TransactionCoordinator } from '../transactions/transaction-coordinator.js';
import { canCluster, canTopic, canTransactionalId, Op } from '../security/checks.js';
import { ResourceType as AclResourceType } from '../security/acls.js';

/** As Kafka: an epoch of Short.MAX_VALUE - 1 is exhausted, and the producer gets a new id instead. */
const EXHAUSTED_EPOCH = 32766;

export function initProducerIdHandler(broker: BrokerContext, producerIds: ProducerIdAllocator, transactions: () => TransactionCoordinator | null): ApiHandler<typeof ApiKey.InitProducerId> {
  return {
    apiKey: ApiKey.InitProducerId,
    minVersion: 0,
    maxVersion: 5,
    async handle(request, { header, connection }) {
      const fail = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
      // Kafka: Write on the transactional id; an idempotent producer IdempotentWrite on the cluster or Write on some topic.
      if (request.transactionalId !== null && !canTransactionalId(broker, connection, Op.WRITE, request.transactionalId)) return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      if (request.transactionalId === null && !canCluster(broker, connection, Op.IDEMPOTENT_WRITE) && !broker.authorizer.authorizeAny(connection, Op.WRITE, AclResourceType.TOPIC)) {
        return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      }
      if (request.transactionalId !== null) {
        const coordinator = transactions();
        if (!coordinator) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        const result = await coordinator.initProducerId(request.transactionalId, request.transactionTimeoutMs, request.producerId ?? -1n, request.producerEpoch ?? -1);
        // PRODUCER_FENCED is v4+; older clients know INVALID_PRODUCER_EPOCH.
        const errorCode = result.errorCode === ErrorCode.PRODUCER_FENCED && header.apiVersion < 4 ? ErrorCode.INVALID_PRODUCER_EPOCH : result.errorCode;
        return { throttleTimeMs: 0, errorCode, producerId: result.producerId, producerEpoch: result.producerEpoch };
      }
      const heldId = request.producerId ?? -1n;
      const heldEpoch = request.producerEpoch ?? -1;
      try {
        if (heldId === -1n && heldEpoch === -1) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: await producerIds.allocate(), producerEpoch: 0 };
        if (heldId < 0n || heldEpoch < 0) return fail(ErrorCode.INVALID_REQUEST);
        if (!(await producerIds.mayHaveIssued(heldId))) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
        if (heldEpoch >= EXHAUSTED_EPOCH) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: await producerIds.allocate(), producerEpoch: 0 };
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: heldId, producerEpoch: heldEpoch + 1 };
      } catch (err) {
        return fail(errorOf(err, broker.logger, 'allocating a producer id').code);
      }
    },
  };
}
