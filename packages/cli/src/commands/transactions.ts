/**
 * `sluice transactions` (kafka-transactions.sh): list transactions, describe one, describe a
 * partition's active producers, find hanging transactions (open on a partition longer than
 * transaction.max.timeout.ms, or unknown to their coordinator), and abort one by writing its abort
 * marker (WriteTxnMarkers to the partition leader). The action is Kafka's subcommand
 * (`list`, `describe`, …) or the same name as a flag (`--list`, `--describe`, …).
 */
import { ErrorCode, KafkaError, ApiKey } from '@sluice/protocol';
import type { Admin } from '@sluice/client';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { renderTable, toJson } from '../tool/table.js';

const ACTIONS = ['list', 'describe', 'describe-producers', 'find-hanging', 'abort'] as const;
type Action = (typeof ACTIONS)[number];

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'list', kind: 'flag', help: 'List the transactions every broker coordinates.' },
  { name: 'describe', kind: 'flag', help: 'Describe one transaction (--transactional-id).' },
  { name: 'describe-producers', kind: 'flag', help: "A partition's active producers (--topic, --partition)." },
  { name: 'find-hanging', kind: 'flag', help: 'Open transactions older than --max-transaction-timeout minutes, on --broker-id or --topic.' },
  { name: 'abort', kind: 'flag', help: 'Abort a hanging transaction of a partition (--topic, --partition, and --start-offset or --producer-id/--producer-epoch/--coordinator-epoch).' },
  { name: 'transactional-id', kind: 'value', arg: '<id>', help: 'The transactional id (describe).' },
  { name: 'topic', kind: 'value', arg: '<name>', help: 'Topic (describe-producers, find-hanging, abort).' },
  { name: 'partition', kind: 'value', arg: '<n>', help: 'Partition (describe-producers, find-hanging, abort).' },
  { name: 'broker-id', kind: 'value', arg: '<id>', help: 'Broker whose partitions find-hanging looks at.' },
  { name: 'max-transaction-timeout', kind: 'value', arg: '<minutes>', help: 'find-hanging: older open transactions hang.', defaultText: '15' },
  { name: 'start-offset', kind: 'value', arg: '<offset>', help: 'abort: the first offset of the transaction to abort.' },
  { name: 'producer-id', kind: 'value', arg: '<id>', help: 'abort: producer id.' },
  { name: 'producer-epoch', kind: 'value', arg: '<epoch>', help: 'abort: producer epoch.' },
  { name: 'coordinator-epoch', kind: 'value', arg: '<epoch>', help: 'abort: coordinator epoch.' },
  jsonOption,
  helpOption,
];

export const transactionsTool: Tool = {
  name: 'transactions',
  summary: 'list, describe, find hanging and abort transactions (kafka-transactions.sh)',
  usage: 'sluice transactions --bootstrap-server <host:port> list | describe --transactional-id <id> | describe-producers --topic <t> --partition <p> | find-hanging --broker-id <n> | abort --topic <t> --partition <p> --start-offset <o>',
  description: 'Kafka-transactions.sh: each action is a subcommand or the same-named flag. Tables by default, --json for machine-readable output.',
  options,
  positionals: true,
  run: runTransactions,
};

function actionOf(args: ParsedArgs): Action {
  const chosen = new Set<Action>();
  for (const a of ACTIONS) if (args.has(a)) chosen.add(a);
  for (const p of args.positionals) {
    if (!(ACTIONS as readonly string[]).includes(p)) throw new UsageError(`unknown action "${p}" (one of ${ACTIONS.join(', ')})`);
    chosen.add(p as Action);
  }
  if (chosen.size !== 1) throw new UsageError(`give exactly one action: ${ACTIONS.join(', ')}`);
  return [...chosen][0];
}

function intArg(args: ParsedArgs, name: string): number {
  const raw = args.value(name);
  if (raw === undefined || !/^-?\d+$/.test(raw)) throw new UsageError(`--${name} <number> is required`);
  return Number(raw);
}

async function runTransactions(args: ParsedArgs, io: ToolIo): Promise<number> {
  const action = actionOf(args);
  const json = args.has('json');
  return withAdmin(args, io, async (admin) => {
    switch (action) {
      case 'list': {
        const rows = await listAll(admin);
        if (json) io.stdout(toJson(rows));
        else io.stdout(renderTable(['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'], rows.map((r) => [r.transactionalId, r.coordinator, r.producerId, r.state])));
        return ExitCode.ok;
      }
      case 'describe': {
        const id = args.value('transactional-id');
        if (id === undefined) throw new UsageError('describe needs --transactional-id');
        const c = await admin.cluster.coordinatorFor(id, 1);
        const r = await c.request(ApiKey.DescribeTransactions, { transactionalIds: [id] });
        const s = r.transactionStates[0];
        if (!s || s.errorCode === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND) throw new ToolError(`Transactional id ${id} was not found`, ExitCode.failed);
        if (s.errorCode !== 0) throw new KafkaError(s.errorCode, `DescribeTransactions ${id}`);
        const row = {
          coordinatorId: admin.cluster.brokers().find((b) => b.host === c.address.split(':')[0])?.nodeId ?? -1,
          transactionalId: id,
          producerId: s.producerId.toString(),
          producerEpoch: s.producerEpoch,
          transactionState: s.transactionState,
          transactionTimeoutMs: s.transactionTimeoutMs,
          currentTransactionStartTimeMs: s.transactionStartTimeMs >= 0n ? Number(s.transactionStartTimeMs) : null,
          transactionDurationMs: s.transactionStartTimeMs >= 0n ? Date.now() - Number(s.transactionStartTimeMs) : null,
          topicPartitions: s.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`)),
        };
        if (json) io.stdout(toJson(row));
        else
          io.stdout(
            renderTable(
              ['CoordinatorId', 'TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'TransactionTimeoutMs', 'CurrentTransactionStartTimeMs', 'TransactionDurationMs', 'TopicPartitions'],
              [[row.coordinatorId, id, row.producerId, row.producerEpoch, row.transactionState, row.transactionTimeoutMs, row.currentTransactionStartTimeMs ?? 'None', row.transactionDurationMs ?? 'None', row.topicPartitions.join(',')]],
            ),
          );
        return ExitCode.ok;
      }
      case 'describe-producers': {
        const topic = args.value('topic');
        if (topic === undefined) throw new UsageError('describe-producers needs --topic and --partition');
        const producers = await describeProducers(admin, topic, intArg(args, 'partition'));
        if (json) io.stdout(toJson(producers));
        else
          io.stdout(
            renderTable(
              ['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'],
              producers.map((p) => [p.producerId, p.producerEpoch, p.coordinatorEpoch, p.lastSequence, p.lastTimestamp, p.currentTransactionStartOffset < 0 ? 'None' : p.currentTransactionStartOffset]),
            ),
          );
        return ExitCode.ok;
      }
      case 'find-hanging': {
        const maxMs = Number(args.value('max-transaction-timeout') ?? '15') * 60_000;
        await admin.cluster.refreshMetadata();
        const topics = await admin.listTopics({ includeInternal: false });
        const brokerId = args.value('broker-id');
        const wantedTopic = args.value('topic');
        if (brokerId === undefined && wantedTopic === undefined) throw new UsageError('find-hanging needs --broker-id or --topic');
        const known = new Map((await listAll(admin)).map((t) => [t.producerId, t]));
        const hanging: Array<{ topic: string; partition: number; producerId: string; producerEpoch: number; coordinatorEpoch: number; startOffset: string; lastTimestamp: number; durationMinutes: number; reason: string }> = [];
        for (const topic of wantedTopic !== undefined ? [wantedTopic] : topics) {
          const count = admin.cluster.topic(topic)?.partitions.length ?? 0;
          for (let partition = 0; partition < count; partition++) {
            if (args.has('partition') && partition !== intArg(args, 'partition')) continue;
            if (brokerId !== undefined && admin.cluster.leaderOf(topic, partition) !== Number(brokerId)) continue;
            for (const p of await describeProducers(admin, topic, partition)) {
              if (p.currentTransactionStartOffset < 0) continue;
              const age = p.lastTimestamp >= 0 ? Date.now() - p.lastTimestamp : Infinity;
              const coordinated = known.get(p.producerId);
              const reason = coordinated === undefined ? 'unknown to its coordinator' : coordinated.state !== 'Ongoing' ? `coordinator state ${coordinated.state}` : age > maxMs ? 'open past the maximum transaction timeout' : '';
              if (reason === '') continue;
              hanging.push({ topic, partition, producerId: p.producerId, producerEpoch: p.producerEpoch, coordinatorEpoch: p.coordinatorEpoch, startOffset: String(p.currentTransactionStartOffset), lastTimestamp: p.lastTimestamp, durationMinutes: Number.isFinite(age) ? Math.floor(age / 60_000) : -1, reason });
            }
          }
        }
        if (json) io.stdout(toJson(hanging));
        else io.stdout(renderTable(['Topic', 'Partition', 'ProducerId', 'ProducerEpoch', 'CoordinatorEpoch', 'StartOffset', 'LastTimestamp', 'Duration(min)', 'Reason'], hanging.map((h) => [h.topic, h.partition, h.producerId, h.producerEpoch, h.coordinatorEpoch, h.startOffset, h.lastTimestamp, h.durationMinutes, h.reason])));
        return ExitCode.ok;
      }
      case 'abort': {
        const topic = args.value('topic');
        if (topic === undefined) throw new UsageError('abort needs --topic and --partition');
        const partition = intArg(args, 'partition');
        let producerId: bigint;
        let producerEpoch: number;
        let coordinatorEpoch: number;
        if (args.has('start-offset')) {
          const start = BigInt(intArg(args, 'start-offset'));
          const p = (await describeProducers(admin, topic, partition)).find((x) => BigInt(x.currentTransactionStartOffset) === start);
          if (!p) throw new ToolError(`No open transaction starts at offset ${start} of ${topic}-${partition}`, ExitCode.failed);
          producerId = BigInt(p.producerId);
          producerEpoch = p.producerEpoch;
          coordinatorEpoch = Math.max(0, p.coordinatorEpoch);
        } else {
          producerId = BigInt(intArg(args, 'producer-id'));
          producerEpoch = intArg(args, 'producer-epoch');
          coordinatorEpoch = intArg(args, 'coordinator-epoch');
        }
        await admin.cluster.ensureTopics([topic]);
        const c = await admin.cluster.connectionTo(admin.cluster.leaderOf(topic, partition));
        const r = await c.request(ApiKey.WriteTxnMarkers, {
          markers: [{ producerId, producerEpoch, transactionResult: false, topics: [{ name: topic, partitionIndexes: [partition] }], coordinatorEpoch }],
        });
        const code = r.markers[0]?.topics[0]?.partitions[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        if (code !== 0) throw new KafkaError(code, `WriteTxnMarkers ${topic}-${partition}`);
        if (json) io.stdout(toJson({ topic, partition, producerId: producerId.toString(), producerEpoch, aborted: true }));
        else io.stdout(`Aborted the transaction of producer ${producerId} (epoch ${producerEpoch}) on ${topic}-${partition}\n`);
        return ExitCode.ok;
      }
    }
  });
}

async function listAll(admin: Admin): Promise<Array<{ transactionalId: string; coordinator: number; producerId: string; state: string }>> {
  await admin.cluster.refreshMetadata();
  const rows: Array<{ transactionalId: string; coordinator: number; producerId: string; state: string }> = [];
  for (const b of admin.cluster.brokers()) {
    const c = await admin.cluster.connectionTo(b.nodeId);
    const r = await c.request(ApiKey.ListTransactions, { stateFilters: [], producerIdFilters: [], durationFilter: -1n });
    if (r.errorCode !== 0) throw new KafkaError(r.errorCode, `ListTransactions on broker ${b.nodeId}`);
    for (const t of r.transactionStates) rows.push({ transactionalId: t.transactionalId, coordinator: b.nodeId, producerId: t.producerId.toString(), state: t.transactionState });
  }
  return rows.sort((a, b) => a.transactionalId.localeCompare(b.transactionalId));
}

async function describeProducers(admin: Admin, topic: string, partition: number) {
  await admin.cluster.ensureTopics([topic]);
  const leader = admin.cluster.leaderOf(topic, partition);
  if (leader < 0) throw new ToolError(`${topic}-${partition} has no leader (or does not exist)`, ExitCode.failed);
  const c = await admin.cluster.connectionTo(leader);
  const r = await c.request(ApiKey.DescribeProducers, { topics: [{ name: topic, partitionIndexes: [partition] }] });
  const p = r.topics[0]?.partitions[0];
  if (!p) throw new ToolError(`no answer for ${topic}-${partition}`, ExitCode.failed);
  if (p.errorCode !== 0) throw new KafkaError(p.errorCode, p.errorMessage ?? `DescribeProducers ${topic}-${partition}`);
  return p.activeProducers.map((x) => ({
    producerId: x.producerId.toString(),
    producerEpoch: x.producerEpoch,
    coordinatorEpoch: x.coordinatorEpoch,
    lastSequence: x.lastSequence,
    lastTimestamp: Number(x.lastTimestamp),
    currentTransactionStartOffset: Number(x.currentTxnStartOffset),
  }));
}
