/**
 * `sluice topics` (kafka-topics.sh): create, list, describe, alter (partition count) and delete
 * topics, with Kafka's flags and output. Growing a keyed topic is checked first: see key-movement.
 */
import { ApiKey, KafkaError, ErrorCode } from '@sluice/protocol';
import type { Admin, ConfigEntry, TopicMetadata } from '@sluice/client';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { parseKeyValues } from '../tool/properties.js';
import { renderFields, renderTable, toJson } from '../tool/table.js';
import { analyseKeyMovement, sampleRecentRecords, type KeyMovement } from '../topics/key-movement.js';

const ACTIONS = ['create', 'list', 'describe', 'alter', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'create', kind: 'flag', help: 'Create a topic.' },
  { name: 'list', kind: 'flag', help: 'List topic names.' },
  { name: 'describe', kind: 'flag', help: 'Describe topics: partitions, leaders, replicas, ISR, overridden configs.' },
  { name: 'alter', kind: 'flag', help: 'Increase the partition count (checks keyed data first; see --force).' },
  { name: 'delete', kind: 'flag', help: 'Delete topics.' },
  { name: 'topic', kind: 'value', arg: '<name|regex>', help: 'The topic. For --list/--describe/--delete/--alter also a regex (commas separate alternatives).' },
  { name: 'partitions', kind: 'value', arg: '<n>', help: 'Partition count for --create (default: the broker’s num.partitions) or the new count for --alter.' },
  { name: 'replication-factor', kind: 'value', arg: '<n>', help: 'Replicas per partition for --create (default: the broker’s default.replication.factor).' },
  { name: 'replica-assignment', kind: 'value', arg: '<b:b,b:b>', help: 'Explicit replicas for --create: partitions separated by commas, broker ids of one partition by colons.' },
  { name: 'config', kind: 'list', arg: '<k=v>', help: 'A topic config for --create.' },
  { name: 'if-not-exists', kind: 'flag', help: 'With --create: succeed if the topic already exists.' },
  { name: 'if-exists', kind: 'flag', help: 'With --alter/--delete/--describe: succeed if no topic matches.' },
  { name: 'exclude-internal', kind: 'flag', help: 'Leave out internal topics (__consumer_offsets, …).' },
  { name: 'topics-with-overrides', kind: 'flag', help: 'With --describe: only topics with overridden configs.' },
  { name: 'under-replicated-partitions', kind: 'flag', help: 'With --describe: only partitions whose ISR is smaller than their replicas.' },
  { name: 'unavailable-partitions', kind: 'flag', help: 'With --describe: only partitions without an available leader.' },
  { name: 'at-min-isr-partitions', kind: 'flag', help: 'With --describe: only partitions whose ISR equals min.insync.replicas.' },
  { name: 'under-min-isr-partitions', kind: 'flag', help: 'With --describe: only partitions whose ISR is below min.insync.replicas.' },
  { name: 'force', kind: 'flag', help: 'With --alter: add partitions even though keyed records would change partition.' },
  { name: 'sample-records', kind: 'value', arg: '<n>', help: 'With --alter: newest records per partition to sample for keys.', defaultText: '1000' },
  jsonOption,
  helpOption,
];

export const topicsTool: Tool = {
  name: 'topics',
  summary: 'create, list, describe, alter and delete topics (kafka-topics.sh)',
  usage: 'sluice topics --bootstrap-server <host:port> (--create | --list | --describe | --alter | --delete) [--topic <name>] [options]',
  description:
    'Manages topics like kafka-topics.sh, with the same flags and output.\n' +
    '--alter --partitions N first samples recent records: when keyed records would move to other partitions\n' +
    '(breaking per-key order for consumers) it reports how many and where, and refuses without --force.',
  options,
  run: runTopics,
};

async function runTopics(args: ParsedArgs, io: ToolIo): Promise<number> {
  const actions = args.present(ACTIONS);
  if (actions.length > 1) throw new UsageError(`choose one action, not ${actions.map((a) => `--${a}`).join(' and ')}`);
  let action: Action;
  if (actions.length === 1) action = actions[0] as Action;
  else if (args.has('topic')) {
    // Kafka demands an action; a bare --topic almost always means "show me this topic".
    io.stderr('sluice topics: no action given, describing the topic (add --describe to silence this)\n');
    action = 'describe';
  } else throw new UsageError('choose an action: --create, --list, --describe, --alter or --delete');
  checkOptionsFit(args, action);
  return withAdmin(args, io, async (admin) => {
    switch (action) {
      case 'create':
        return createTopic(admin, args, io);
      case 'list':
        return listTopics(admin, args, io);
      case 'describe':
        return describeTopics(admin, args, io);
      case 'alter':
        return alterTopic(admin, args, io);
      case 'delete':
        return deleteTopics(admin, args, io);
    }
  });
}

const ONLY_FOR: Record<string, Action[]> = {
  'replication-factor': ['create'],
  'replica-assignment': ['create'],
  config: ['create'],
  'if-not-exists': ['create'],
  'if-exists': ['alter', 'delete', 'describe'],
  'topics-with-overrides': ['describe'],
  'under-replicated-partitions': ['describe'],
  'unavailable-partitions': ['describe'],
  'at-min-isr-partitions': ['describe'],
  'under-min-isr-partitions': ['describe'],
  force: ['alter'],
  'sample-records': ['alter'],
  partitions: ['create', 'alter'],
};

function checkOptionsFit(args: ParsedArgs, action: Action): void {
  for (const [option, actions] of Object.entries(ONLY_FOR)) {
    if (args.has(option) && !actions.includes(action)) {
      throw new UsageError(`--${option} does not apply to --${action} (only to ${actions.map((a) => `--${a}`).join(', ')})`);
    }
  }
  if ((action === 'create' || action === 'alter' || action === 'delete') && !args.has('topic')) throw new UsageError(`--${action} needs --topic`);
  if (action === 'alter' && !args.has('partitions')) throw new UsageError('--alter needs --partitions <n> (the new, larger count)', 'configs are altered with `sluice configs --alter`');
}

/** Topics matching --topic: the exact name when it exists, else a full-match regex (commas = alternatives). */
async function matchingTopics(admin: Admin, args: ParsedArgs, includeInternal: boolean): Promise<string[]> {
  const all = await admin.listTopics({ includeInternal: true });
  const internal = new Set(includeInternal ? [] : all.filter((t) => admin.cluster.topic(t)?.isInternal));
  const visible = all.filter((t) => !internal.has(t));
  const pattern = args.value('topic');
  if (pattern === undefined) return visible;
  if (all.includes(pattern)) return internal.has(pattern) ? [] : [pattern];
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${pattern.split(',').join('|')})$`);
  } catch {
    return [];
  }
  return visible.filter((t) => regex.test(t));
}

/**
 * Topics --alter/--delete may change: a regex never reaches internal topics, and naming one
 * exactly is refused (their layout belongs to the brokers, as in Kafka).
 */
async function writableTopics(admin: Admin, args: ParsedArgs, verb: string): Promise<string[]> {
  const topics = await matchingTopics(admin, args, false);
  const named = args.value('topic');
  if (topics.length === 0 && named !== undefined && admin.cluster.topic(named)?.isInternal) {
    throw new ToolError(`Topic ${named} is an internal topic and cannot be ${verb}`, ExitCode.failed);
  }
  return topics;
}

function noSuchTopic(pattern: string | undefined): ToolError {
  return new ToolError(`Topic '${pattern ?? ''}' does not exist as expected`, ExitCode.failed, 'list the topics with `sluice topics --list`');
}

async function createTopic(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const topic = args.required('topic');
  const partitions = args.int('partitions', { min: 1 });
  const replicationFactor = args.int('replication-factor', { min: 1, max: 32767 });
  const configs = Object.fromEntries(parseKeyValues(args.list('config'), 'config'));
  const assignmentText = args.value('replica-assignment');
  if (assignmentText !== undefined && (partitions !== undefined || replicationFactor !== undefined)) {
    throw new UsageError('--replica-assignment already fixes the partitions and replication factor: drop --partitions/--replication-factor');
  }
  let created: boolean;
  if (assignmentText !== undefined) {
    const assignments = parseReplicaAssignment(assignmentText);
    created = await createWithAssignment(admin, topic, assignments, configs, args.has('if-not-exists'));
  } else {
    const brokers = admin.cluster.brokers().length;
    if (replicationFactor !== undefined && replicationFactor > brokers) {
      throw new ToolError(
        `Replication factor: ${replicationFactor} larger than available brokers: ${brokers}.`,
        ExitCode.failed,
        `use --replication-factor ${brokers} or less on this cluster`,
      );
    }
    [created] = await admin.createTopics([{ topic, numPartitions: partitions, replicationFactor, configs }], { ignoreExisting: args.has('if-not-exists') });
  }
  io.stdout(created ? `Created topic ${topic}.\n` : `Topic ${topic} already exists.\n`);
  return ExitCode.ok;
}

function parseReplicaAssignment(text: string): Array<{ partitionIndex: number; brokerIds: number[] }> {
  const out = text.split(',').map((part, partitionIndex) => {
    const ids = part.split(':').map((s) => s.trim());
    if (ids.some((s) => !/^\d+$/.test(s))) throw new UsageError(`--replica-assignment partition ${partitionIndex} "${part}" is not broker ids separated by ":"`);
    const brokerIds = ids.map(Number);
    if (new Set(brokerIds).size !== brokerIds.length) throw new UsageError(`--replica-assignment partition ${partitionIndex} lists a broker twice`);
    return { partitionIndex, brokerIds };
  });
  const rf = out[0].brokerIds.length;
  if (out.some((p) => p.brokerIds.length !== rf)) throw new UsageError('--replica-assignment gives partitions different replica counts');
  return out;
}

/** CreateTopics with explicit assignments, sent on the client's connection (Admin has no such option). */
async function createWithAssignment(
  admin: Admin,
  topic: string,
  assignments: Array<{ partitionIndex: number; brokerIds: number[] }>,
  configs: Record<string, string>,
  ignoreExisting: boolean,
): Promise<boolean> {
  const known = new Set(admin.cluster.brokers().map((b) => b.nodeId));
  const unknown = assignments.flatMap((a) => a.brokerIds).find((id) => !known.has(id));
  if (unknown !== undefined) {
    throw new ToolError(`--replica-assignment names broker ${unknown}, which is not in the cluster (brokers: ${[...known].join(', ')})`, ExitCode.failed);
  }
  const response = await admin.cluster.withRetry(async () => {
    const c = await admin.cluster.anyConnection();
    return c.request(ApiKey.CreateTopics, {
      topics: [{ name: topic, numPartitions: -1, replicationFactor: -1, assignments, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
  });
  const result = response.topics.find((t) => t.name === topic);
  if (!result) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no result for topic ${topic}`);
  if (result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && ignoreExisting) return false;
  if (result.errorCode !== 0) throw new KafkaError(result.errorCode, result.errorMessage ?? topic);
  await admin.cluster.ensureTopics([topic]);
  return true;
}

async function listTopics(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const topics = await matchingTopics(admin, args, !args.has('exclude-internal'));
  io.stdout(args.has('json') ? toJson(topics) : topics.map((t) => `${t}\n`).join(''));
  return ExitCode.ok;
}

interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

interface TopicView {
  topic: string;
  topicId: string | null;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
  partitions: PartitionView[];
}

async function describeTopics(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const topics = await matchingTopics(admin, args, !args.has('exclude-internal'));
  if (topics.length === 0 && args.has('topic')) {
    if (args.has('if-exists')) return ExitCode.ok;
    throw noSuchTopic(args.value('topic'));
  }
  const metadata = topics.map((t) => admin.cluster.topic(t)).filter((t): t is TopicMetadata => t !== undefined);
  const configs = metadata.length ? await admin.describeConfigs(metadata.map((t) => ({ type: 'topic' as const, name: t.name }))) : [];
  const liveBrokers = new Set(admin.cluster.brokers().map((b) => b.nodeId));
  const filters = {
    underReplicated: args.has('under-replicated-partitions'),
    unavailable: args.has('unavailable-partitions'),
    atMinIsr: args.has('at-min-isr-partitions'),
    underMinIsr: args.has('under-min-isr-partitions'),
  };
  const filtering = Object.values(filters).some(Boolean);
  const views: TopicView[] = [];
  for (const t of metadata) {
    const entries = configs.find((c) => c.name === t.name)?.configs ?? [];
    const overrides = Object.fromEntries(entries.filter(isTopicOverride).map((e) => [e.name, e.value ?? '']));
    if (args.has('topics-with-overrides') && Object.keys(overrides).length === 0) continue;
    const minIsr = Number(entries.find((e) => e.name === 'min.insync.replicas')?.value ?? '1');
    const partitions = [...t.partitions]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas, isr: p.isr }))
      .filter((p) => {
        if (!filtering) return true;
        const unavailable = p.leader < 0 || !liveBrokers.has(p.leader);
        return (
          (filters.underReplicated && p.isr.length < p.replicas.length) ||
          (filters.unavailable && unavailable) ||
          (filters.atMinIsr && p.isr.length === minIsr) ||
          (filters.underMinIsr && p.isr.length < minIsr)
        );
      });
    if (filtering && partitions.length === 0) continue;
    views.push({
      topic: t.name,
      topicId: t.topicId ?? null,
      partitionCount: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
      configs: overrides,
      partitions,
    });
  }
  if (args.has('json')) {
    io.stdout(toJson(views));
    return ExitCode.ok;
  }
  const lines: string[] = [];
  for (const v of views) {
    // Kafka's shape: a topic line, then one tab-indented line per partition; partition filters and
    // --topics-with-overrides print only the lines they are about.
    if (!filtering) {
      lines.push(
        renderFields([
          ['Topic', v.topic],
          ['TopicId', v.topicId],
          ['PartitionCount', v.partitionCount],
          ['ReplicationFactor', v.replicationFactor],
          ['Configs', Object.entries(v.configs).map(([k, val]) => `${k}=${val}`).join(',')],
        ]),
      );
    }
    if (args.has('topics-with-overrides')) continue;
    for (const p of v.partitions) {
      lines.push(
        renderFields(
          [
            ['Topic', v.topic],
            ['Partition', p.partition],
            ['Leader', p.leader < 0 ? 'none' : p.leader],
            ['Replicas', p.replicas.join(',')],
            ['Isr', p.isr.join(',')],
          ],
          '\t',
        ),
      );
    }
  }
  io.stdout(lines.map((l) => `${l}\n`).join(''));
  return ExitCode.ok;
}

/** Config set on the topic itself (DescribeConfigs source DYNAMIC_TOPIC_CONFIG). */
function isTopicOverride(e: ConfigEntry): boolean {
  return e.source === 1 || (e.source === -1 && !e.isDefault);
}

async function alterTopic(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const target = args.int('partitions', { min: 1 })!;
  const topics = await writableTopics(admin, args, 'altered');
  if (topics.length === 0) {
    if (args.has('if-exists')) return ExitCode.ok;
    throw noSuchTopic(args.value('topic'));
  }
  const perPartition = args.int('sample-records', { min: 0, max: 1_000_000 }) ?? 1000;
  const analyses: KeyMovement[] = [];
  for (const topic of topics) {
    const current = admin.cluster.topic(topic)?.partitions.length ?? 0;
    if (target <= current) {
      throw new ToolError(
        `The number of partitions for a topic can only be increased. Topic ${topic} currently has ${current} partitions, ${target} would not be an increase.`,
        ExitCode.failed,
        'to have fewer partitions, create a new topic and migrate to it',
      );
    }
    const sample = perPartition > 0 ? await sampleRecentRecords(admin, topic, current, perPartition) : [];
    analyses.push(analyseKeyMovement(topic, sample, current, target));
  }
  const risky = analyses.filter((a) => a.movingKeys > 0);
  if (args.has('json') && risky.length > 0 && !args.has('force')) {
    io.stdout(toJson({ refused: true, analyses }));
  }
  for (const a of analyses) if (!args.has('json')) io.stdout(describeMovement(a));
  if (risky.length > 0 && !args.has('force')) {
    const example = risky[0];
    throw new ToolError(
      `refusing to add partitions: ${risky.map((a) => `${a.movingKeys} of ${a.distinctKeys} sampled keys of ${a.topic}`).join(', ')} would move to another partition`,
      ExitCode.refused,
      `consumers relying on per-key order would see keys jump partitions. Safer: create a new topic with the partitions you need ` +
        `(sluice topics --create --topic ${example.topic}-v2 --partitions ${target}), move producers to it, let consumers drain ` +
        `${example.topic}, then switch them. To add partitions anyway, repeat with --force.`,
    );
  }
  await admin.createPartitions(analyses.map((a) => ({ topic: a.topic, count: target })));
  for (const a of analyses) {
    if (args.has('json')) io.stdout(toJson({ topic: a.topic, from: a.fromPartitions, to: target, analysis: a }));
    else io.stdout(`Increased the partition count of ${a.topic} from ${a.fromPartitions} to ${target}.\n`);
  }
  return ExitCode.ok;
}

function describeMovement(a: KeyMovement): string {
  const lines: string[] = [];
  if (a.sampledRecords === 0) {
    lines.push(`${a.topic}: no records to sample, no keys can move.`);
    return lines.join('\n') + '\n';
  }
  if (a.distinctKeys === 0) {
    lines.push(`${a.topic}: sampled ${a.sampledRecords} recent records, none keyed: adding partitions moves no keys.`);
    return lines.join('\n') + '\n';
  }
  const share = ((100 * a.movingKeys) / a.distinctKeys).toFixed(1);
  lines.push(
    `${a.topic}: sampled ${a.sampledRecords} recent records (${a.keyedRecords} keyed, ${a.distinctKeys} distinct keys).`,
    `Going from ${a.fromPartitions} to ${a.toPartitions} partitions moves ${a.movingKeys} of ${a.distinctKeys} keys (${share}%) to another partition:`,
  );
  if (a.moves.length > 0) {
    const shown = a.moves.slice(0, 20);
    lines.push(
      renderTable(
        ['FROM-PARTITION', 'TO-PARTITION', 'KEYS'],
        shown.map((m) => [m.from, m.to, m.keys]),
      ).trimEnd(),
    );
    if (a.moves.length > shown.length) lines.push(`… and ${a.moves.length - shown.length} more partition pairs`);
    lines.push(`e.g. ${a.examples.map((e) => `key ${e.key}: ${e.from} -> ${e.to}`).join('; ')}`);
  }
  if (a.keysNotOnDefaultPartition > 0) {
    lines.push(`note: ${a.keysNotOnDefaultPartition} keys are not where the default (murmur2) partitioner puts them; a custom partitioner may move them differently.`);
  }
  return lines.join('\n') + '\n';
}

async function deleteTopics(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const topics = await writableTopics(admin, args, 'deleted');
  if (topics.length === 0) {
    if (args.has('if-exists')) return ExitCode.ok;
    throw noSuchTopic(args.value('topic'));
  }
  await admin.deleteTopics(topics);
  for (const t of topics) io.stdout(`Deleted topic ${t}.\n`);
  return ExitCode.ok;
}

