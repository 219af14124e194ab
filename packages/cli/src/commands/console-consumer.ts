/**
 * `sluice console-consumer` (kafka-console-consumer.sh): prints records of topics (or a topic
 * regex) with Kafka's formatter properties or as JSON lines, in a consumer group or from
 * explicit partitions, until --max-messages, --timeout-ms or Ctrl-C.
 */
import { Consumer, type ConsumerRecord } from '@sluice/client';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { consumerOptions } from '../tool/client-config.js';
import { bootstrapServers, clientProperties, connectionFailure } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { parseKeyValues } from '../tool/properties.js';
import { toJsonLine } from '../tool/table.js';
import { ProtocolError } from '@sluice/protocol';
import { decodeOffsetCommitValue, decodeOffsetsKey } from '../dump/offsets-records.js';

const options: OptionSpec[] = [
  bootstrapOption,
  { name: 'topic', kind: 'value', arg: '<topic>', help: 'The topic to read.' },
  { name: 'include', kind: 'value', arg: '<regex>', help: 'Read every topic matching this regex (instead of --topic).', aliases: ['whitelist'] },
  { name: 'group', kind: 'value', arg: '<group>', help: 'Consumer group to join; its committed offsets are used and updated.' },
  { name: 'from-beginning', kind: 'flag', help: 'Start at the earliest offset when there is no committed offset.' },
  { name: 'partition', kind: 'value', arg: '<n>', help: 'Read only this partition (no group membership).' },
  { name: 'offset', kind: 'value', arg: '<earliest|latest|n>', help: 'With --partition: where to start.', defaultText: 'latest' },
  { name: 'max-messages', kind: 'value', arg: '<n>', help: 'Exit after this many records.' },
  { name: 'timeout-ms', kind: 'value', arg: '<ms>', help: 'Exit when no record arrives for this long.' },
  { name: 'isolation-level', kind: 'value', arg: '<read_committed|read_uncommitted>', help: 'read_committed hides aborted transactions.', defaultText: 'read_uncommitted' },
  { name: 'consumer.config', kind: 'value', arg: '<file>', help: 'Consumer properties file.', aliases: ['command-config'] },
  { name: 'consumer-property', kind: 'list', arg: '<k=v>', help: 'A consumer property, overriding --consumer.config.' },
  {
    name: 'property',
    kind: 'list',
    arg: '<k=v>',
    help: 'Output: print.key, print.value, print.timestamp, print.partition, print.offset, print.headers, key.separator, line.separator, headers.separator, null.literal.',
  },
  {
    name: 'formatter',
    kind: 'value',
    arg: '<class>',
    help: 'kafka.tools.DefaultMessageFormatter (default), or …OffsetsMessageFormatter to read __consumer_offsets commits.',
  },
  { name: 'skip-message-on-error', kind: 'flag', help: 'Accepted for compatibility: records are printed as bytes, so formatting cannot fail.' },
  jsonOption,
  helpOption,
];

export const consoleConsumerTool: Tool = {
  name: 'console-consumer',
  summary: 'print records of topics (kafka-console-consumer.sh)',
  usage: 'sluice console-consumer --bootstrap-server <host:port> (--topic <topic> | --include <regex>) [--from-beginning] [--group <g>] [--max-messages <n>]',
  description:
    'Prints records as they arrive, one per line (or one JSON object per line with --json). Without --group a\n' +
    'throw-away group console-consumer-<n> is used and nothing is committed. Ends on --max-messages, --timeout-ms or\n' +
    'Ctrl-C, then prints "Processed a total of N messages" on stderr.',
  options,
  run: runConsoleConsumer,
};

export interface OutputFormat {
  printKey: boolean;
  printValue: boolean;
  printTimestamp: boolean;
  printPartition: boolean;
  printOffset: boolean;
  printHeaders: boolean;
  keySeparator: string;
  lineSeparator: string;
  headersSeparator: string;
  nullLiteral: string;
}

const FORMAT_KEYS = new Set(['print.key', 'print.value', 'print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'key.separator', 'line.separator', 'headers.separator', 'null.literal']);

export function outputFormat(props: Map<string, string>): OutputFormat {
  for (const k of props.keys()) if (!FORMAT_KEYS.has(k)) throw new UsageError(`unknown --property ${k}`, `output properties are ${[...FORMAT_KEYS].join(', ')}`);
  const flag = (k: string, dflt: boolean): boolean => {
    const v = props.get(k);
    if (v === undefined) return dflt;
    if (!/^(true|false)$/i.test(v)) throw new UsageError(`--property ${k} must be true or false`);
    return v.toLowerCase() === 'true';
  };
  const unescape = (s: string): string => s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return {
    printKey: flag('print.key', false),
    printValue: flag('print.value', true),
    printTimestamp: flag('print.timestamp', false),
    printPartition: flag('print.partition', false),
    printOffset: flag('print.offset', false),
    printHeaders: flag('print.headers', false),
    keySeparator: unescape(props.get('key.separator') ?? '\t'),
    lineSeparator: unescape(props.get('line.separator') ?? '\n'),
    headersSeparator: unescape(props.get('headers.separator') ?? ','),
    nullLiteral: props.get('null.literal') ?? 'null',
  };
}

/** One record in Kafka's DefaultMessageFormatter layout. */
export function formatRecord(r: ConsumerRecord, f: OutputFormat, timestampType = 'CreateTime'): string {
  const parts: string[] = [];
  const text = (b: Buffer | null): string => (b === null ? f.nullLiteral : b.toString('utf8'));
  if (f.printTimestamp) parts.push(r.timestamp >= 0n ? `${timestampType}:${r.timestamp}` : 'NO_TIMESTAMP');
  if (f.printPartition) parts.push(`Partition:${r.partition}`);
  if (f.printOffset) parts.push(`Offset:${r.offset}`);
  if (f.printHeaders) parts.push(r.headers.length ? r.headers.map((h) => `${h.key}:${text(h.value)}`).join(f.headersSeparator) : 'NO_HEADERS');
  if (f.printKey) parts.push(text(r.key));
  if (f.printValue) parts.push(text(r.value));
  return parts.join(f.keySeparator) + f.lineSeparator;
}

/**
 * Kafka's OffsetsMessageFormatter for __consumer_offsets: one line per offset commit,
 * `[group,topic,partition]::OffsetAndMetadata(...)`; group metadata records are skipped, as there.
 */
export function formatOffsetsRecord(r: ConsumerRecord): string {
  if (r.key === null) return '';
  try {
    const key = decodeOffsetsKey(r.key);
    if (key.type !== 'offset_commit') return '';
    const head = `[${key.group},${key.topic},${key.partition}]::`;
    if (r.value === null) return `${head}null\n`;
    const v = decodeOffsetCommitValue(r.value);
    const epoch = v.leaderEpoch >= 0 ? `Optional[${v.leaderEpoch}]` : 'Optional.empty';
    const expire = v.expireTimestamp >= 0n ? `Some(${v.expireTimestamp})` : 'None';
    return `${head}OffsetAndMetadata(offset=${v.offset}, leaderEpoch=${epoch}, metadata=${v.metadata}, commitTimestamp=${v.commitTimestamp}, expireTimestamp=${expire})\n`;
  } catch (err) {
    if (err instanceof ProtocolError) return `undecodable record at offset ${r.offset}: ${err.message}\n`;
    throw err;
  }
}

function recordJson(r: ConsumerRecord): string {
  const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));
  return (
    toJsonLine({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      headers: Object.fromEntries(r.headers.map((h) => [h.key, text(h.value)])),
      key: text(r.key),
      value: text(r.value),
    }) + '\n'
  );
}

async function runConsoleConsumer(args: ParsedArgs, io: ToolIo): Promise<number> {
  const topic = args.value('topic');
  const include = args.value('include');
  if ((topic === undefined) === (include === undefined)) throw new UsageError('give exactly one of --topic or --include');
  const partition = args.int('partition', { min: 0 });
  if (partition !== undefined && topic === undefined) throw new UsageError('--partition needs --topic');
  if (args.has('offset') && partition === undefined) throw new UsageError('--offset needs --partition', 'with a group, reset offsets with `sluice consumer-groups --reset-offsets`');
  const offsetSpec = args.value('offset') ?? (args.has('from-beginning') ? 'earliest' : 'latest');
  if (!/^(earliest|latest|\d+)$/.test(offsetSpec)) throw new UsageError(`--offset must be earliest, latest or an offset, not "${offsetSpec}"`);
  const maxMessages = args.int('max-messages', { min: 1 });
  const timeoutMs = args.int('timeout-ms', { min: 1 });
  let includeRegex: RegExp | undefined;
  if (include !== undefined) {
    try {
      includeRegex = new RegExp(`^(?:${include})$`);
    } catch (err) {
      throw new UsageError(`--include is not a valid regex: ${(err as Error).message}`);
    }
  }
  const format = outputFormat(parseKeyValues(args.list('property'), 'property'));
  const formatter = args.value('formatter') ?? 'kafka.tools.DefaultMessageFormatter';
  const offsetsFormatter = /OffsetsMessageFormatter$/.test(formatter);
  if (!offsetsFormatter && !/DefaultMessageFormatter$/.test(formatter)) {
    throw new UsageError(`--formatter ${formatter} is not available`, 'use kafka.tools.DefaultMessageFormatter or kafka.coordinator.group.GroupMetadataManager$OffsetsMessageFormatter');
  }
  const brokers = bootstrapServers(args, io);
  const props = await clientProperties(args, 'consumer.config', parseKeyValues(args.list('consumer-property'), 'consumer-property'));
  if (args.has('group')) props.set('group.id', args.value('group')!);
  if (args.has('isolation-level')) props.set('isolation.level', args.value('isolation-level')!);
  const explicitGroup = props.has('group.id');
  if (partition === undefined && !explicitGroup) {
    // Kafka's console consumer does the same: a throw-away group that commits nothing.
    props.set('group.id', `console-consumer-${Math.floor(Math.random() * 100_000)}`);
    props.set('enable.auto.commit', 'false');
  }
  if (!props.has('auto.offset.reset')) props.set('auto.offset.reset', args.has('from-beginning') ? 'earliest' : 'latest');
  const { options, ignored } = consumerOptions(brokers, props, 'console-consumer');
  if (partition !== undefined && !explicitGroup) delete options.groupId;
  for (const k of ignored) io.stderr(`sluice console-consumer: ignoring property ${k} (not used by this client)\n`);

  const consumer = new Consumer(options);
  let processed = 0;
  let stopReason: 'max' | 'timeout' | 'interrupt' | 'end' = 'end';
  try {
    try {
      await consumer.connect();
      if (topic !== undefined) {
        await consumer.cluster.refreshMetadata({ extra: [topic] });
        const meta = consumer.cluster.topic(topic);
        if (!meta) throw new ToolError(`Topic '${topic}' does not exist`, ExitCode.failed, 'list the topics with `sluice topics --list`');
        if (partition !== undefined) {
          if (partition >= meta.partitions.length) throw new ToolError(`topic ${topic} has no partition ${partition} (it has ${meta.partitions.length})`, ExitCode.failed);
          await consumer.assign([{ topic, partition }]);
          if (offsetSpec === 'earliest') await consumer.seekToBeginning();
          else if (offsetSpec === 'latest') await consumer.seekToEnd();
          else consumer.seek({ topic, partition }, BigInt(offsetSpec));
        } else await consumer.subscribe(topic);
      } else await consumer.subscribe(includeRegex!);
    } catch (err) {
      throw connectionFailure(err, brokers);
    }
    const interrupted = io.interrupted().then(() => 'interrupt' as const);
    for (;;) {
      const remaining = maxMessages === undefined ? Infinity : maxMessages - processed;
      if (remaining <= 0) {
        stopReason = 'max';
        break;
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = timeoutMs === undefined ? new Promise<never>(() => {}) : new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const next = await Promise.race([consumer.poll(remaining), timedOut, interrupted]);
      clearTimeout(timer);
      if (next === 'timeout' || next === 'interrupt') {
        stopReason = next;
        break;
      }
      if (next === null) break;
      let out = '';
      for (const r of next.records) out += offsetsFormatter ? formatOffsetsRecord(r) : args.has('json') ? recordJson(r) : formatRecord(r, format);
      io.stdout(out);
      processed += next.records.length;
    }
  } finally {
    await consumer.close().catch(() => undefined);
  }
  if (stopReason === 'timeout') io.stderr(`No message arrived within ${timeoutMs} ms: stopping.\n`);
  io.stderr(`Processed a total of ${processed} messages\n`);
  return ExitCode.ok;
}
