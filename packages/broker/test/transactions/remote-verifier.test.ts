import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, buildRecordBatch } from '@sluice/protocol';
import { RawClient, type TestBroker } from '../helpers.js';
import { settle, startCluster, until } from '../replica/cluster.js';

/** KIP-890 across brokers: the partition leader asks the producer's transaction coordinator, which runs on another broker. */
test('a transactional write to a partition led by another broker than the coordinator is verified with the coordinator', async (t) => {
  const { brokers } = await startCluster(t, [1, 2], { 'transaction.state.log.num.partitions': 1, 'transaction.state.log.replication.factor': 1, 'transaction.state.log.min.isr': 1 });
  const clients: RawClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));
  const connect = async (b: TestBroker) => {
    const c = await RawClient.connect(b.broker.port);
    clients.push(c);
    return c;
  };
  const first = await connect(brokers[0]);
  let coordinatorId = -1;
  for (let i = 0; i < 150 && coordinatorId < 0; i++) {
    const found = await first.send(ApiKey.FindCoordinator, 4, { key: '', keyType: 1, coordinatorKeys: ['verified-tx'] });
    if (found.coordinators?.[0].errorCode === ErrorCode.NONE) coordinatorId = found.coordinators[0].nodeId;
    else await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(coordinatorId === 1 || coordinatorId === 2, `coordinator ${coordinatorId}`);
  const leaderId = coordinatorId === 1 ? 2 : 1;
  const coordinator = await connect(brokers[coordinatorId - 1]);
  const leader = await connect(brokers[leaderId - 1]);
  // The data partition lives only on the broker that is not the coordinator.
  const created = await coordinator.send(ApiKey.CreateTopics, 7, { topics: [{ name: 'verified-out', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [leaderId] }], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
  await settle(brokers);
  await until('the leader hosts verified-out-0', () => brokers[leaderId - 1].broker.context.replicaManager.getPartition('verified-out', 0)?.role === 'leader', 10_000);

  const init = await coordinator.send(ApiKey.InitProducerId, 4, { transactionalId: 'verified-tx', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  assert.equal(init.errorCode, ErrorCode.NONE);
  const pid = init.producerId!;
  const epoch = init.producerEpoch!;
  let sequence = 0;
  const produce = async (transactionalId: string | null, producerEpoch = epoch) => {
    const records = buildRecordBatch([{ value: Buffer.from(`r${sequence}`) }], { producerId: pid, producerEpoch, baseSequence: sequence, isTransactional: true });
    const r = await leader.send(ApiKey.Produce, 9, { transactionalId, acks: -1, timeoutMs: 5000, topicData: [{ name: 'verified-out', partitionData: [{ index: 0, records }] }] });
    const p = r.responses[0].partitionResponses[0];
    if (p.errorCode === ErrorCode.NONE) sequence++;
    return p.errorCode;
  };
  const addPartition = async () => {
    for (;;) {
      const r = await coordinator.send(ApiKey.AddPartitionsToTxn, 3, { v3AndBelowTransactionalId: 'verified-tx', v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{ name: 'verified-out', partitions: [0] }] });
      const code = r.resultsByTopicV3AndBelow?.[0].resultsByPartition[0].partitionErrorCode;
      // The previous transaction's markers may still be in flight: clients retry, as here.
      if (code === ErrorCode.CONCURRENT_TRANSACTIONS) await new Promise((r) => setTimeout(r, 20));
      else return assert.equal(code, ErrorCode.NONE);
    }
  };

  // Never added to the transaction: the coordinator on the other broker says so.
  assert.equal(await produce('verified-tx'), ErrorCode.INVALID_TXN_STATE, 'a write outside the transaction is refused');
  assert.equal(await produce('no-such-tx'), ErrorCode.INVALID_TXN_STATE, 'an unknown transactional id is refused');
  await addPartition();
  assert.equal(await produce('verified-tx'), ErrorCode.NONE, 'added: the write is verified and lands');
  assert.equal(await produce('verified-tx'), ErrorCode.NONE, 'later batches of the transaction need no new round trip');
  const end = await coordinator.send(ApiKey.EndTxn, 3, { transactionalId: 'verified-tx', producerId: pid, producerEpoch: epoch, committed: true });
  assert.equal(end.errorCode, ErrorCode.NONE);
  const log = brokers[leaderId - 1].broker.context.replicaManager.getPartition('verified-out', 0)!.log;
  await until('the commit marker', () => log.loadedTransactionState?.openTransactions().size === 0, 10_000);
  // The transaction is over: a write without adding the partition again would start a hanging one.
  assert.equal(await produce('verified-tx'), ErrorCode.INVALID_TXN_STATE, 'after the commit the partition must be added again');
  await addPartition();
  assert.equal(await produce('verified-tx'), ErrorCode.NONE);
  // A fenced epoch: a new instance bumps the epoch; the old one's writes are refused by the coordinator.
  let bumped = await coordinator.send(ApiKey.InitProducerId, 4, { transactionalId: 'verified-tx', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  // The open transaction is aborted first; the new instance retries until that is done.
  while (bumped.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS) {
    await new Promise((r) => setTimeout(r, 20));
    bumped = await coordinator.send(ApiKey.InitProducerId, 4, { transactionalId: 'verified-tx', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  }
  assert.equal(bumped.errorCode, ErrorCode.NONE);
  assert.ok(bumped.producerEpoch! > epoch);
  assert.notEqual(await produce('verified-tx'), ErrorCode.NONE, 'the fenced instance cannot write');
});
