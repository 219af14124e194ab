/**
 * `sluice console-producer` (kafka-console-producer.sh): one record per stdin line, optionally
 * with a key and headers parsed out of the line, sent with a pipelined @sluice/client producer.
 */
import { createInterface } from 'node:readline';
import { Producer, type ProducerRecord } from '@sluice/client';
import type { RecordHeader } from '@sluice/protocol';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, helpOption, type Tool } from '../tool/command.js';
import { acksOf, compressionOf, producerOptions } from '../tool/client-config.js';
import { bootstrapServers, clientProperties, connectionFailure } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { parseKeyValues } from '../tool/properties.js';

const options: OptionSpec[] = [
  bootstrapOption,
  { name: 'topic', kind: 'value', arg: '<topic>', help: 'REQUIRED: the topic to write to.' },
  { name: 'producer.config', kind: 'value', arg: '<file>', help: 'Producer properties file (acks, linger.ms, compression.type, security…).', aliases: ['command-config'] },
  { name: 'producer-property', kind: 'list', arg: '<k=v>', help: 'A producer property, overriding --producer.config.' },
  { name: 'property', kind: 'list', arg: '<k=v>', help: 'Line parsing: parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, null.marker, ignore.error.' },
  { name: 'compression-codec', kind: 'value', arg: '<none|gzip|snappy|lz4|zstd>', help: 'Compression of produced batches.' },
  { name: 'request-required-acks', kind: 'value', arg: '<0|1|-1|all>', help: 'Acknowledgements to wait for.', defaultText: '-1' },
  { name: 'partition', kind: 'value', arg: '<n>', help: 'Write every record to this partition instead of using the partitioner.' },
  { name: 'sync', kind: 'flag', help: 'Wait for each record to be acknowledged before reading the next line.' },
  { name: 'linger-ms', kind: 'value', arg: '<ms>', help: 'How long to wait to fill batches.', aliases: ['timeout'], defaultText: '5' },
  { name: 'batch-size', kind: 'value', arg: '<bytes>', help: 'Largest batch per partition.' },
  { name: 'max-block-ms', kind: 'value', arg: '<ms>', help: 'How long a send may wait for buffer space.' },
  { name: 'request-timeout-ms', kind: 'value', arg: '<ms>', help: 'How long to wait for a response.' },
  helpOption,
];

export const consoleProducerTool: Tool = {
  name: 'console-producer',
  summary: 'write stdin lines as records (kafka-console-producer.sh)',
  usage: 'sluice console-producer --bootstrap-server <host:port> --topic <topic> [--property parse.key=true --property key.separator=:]',
  description:
    'Reads lines from stdin and produces one record per line. With parse.key=true a line is key<key.separator>value;\n' +
    'with parse.headers=true it starts with h1:v1,h2:v2<headers.delimiter>. Failed sends are reported on stderr and\n' +
    'make the exit code 1 (ignore.error=false stops at the first failure).',
  options,
  run: runConsoleProducer,
};

export interface LineFormat {
  parseKey: boolean;
  keySeparator: string;
  parseHeaders: boolean;
  headersDelimiter: string;
  headersSeparator: string;
  headersKeySeparator: string;
  nullMarker: string | null;
  ignoreError: boolean;
}

const READER_KEYS = new Set(['parse.key', 'key.separator', 'parse.headers', 'headers.delimiter', 'headers.separator', 'headers.key.separator', 'null.marker', 'ignore.error']);

export function lineFormat(props: Map<string, string>): LineFormat {
  for (const k of props.keys()) if (!READER_KEYS.has(k)) throw new UsageError(`unknown --property ${k}`, `line parsing properties are ${[...READER_KEYS].join(', ')}`);
  const flag = (k: string, dflt: boolean): boolean => {
    const v = props.get(k);
    if (v === undefined) return dflt;
    if (!/^(true|false)$/i.test(v)) throw new UsageError(`--property ${k} must be true or false`);
    return v.toLowerCase() === 'true';
  };
  const sep = (k: string, dflt: string): string => {
    const v = props.get(k) ?? dflt;
    if (v === '') throw new UsageError(`--property ${k} must not be empty`);
    return v.replace(/\\t/g, '\t');
  };
  return {
    parseKey: flag('parse.key', false),
    keySeparator: sep('key.separator', '\t'),
    parseHeaders: flag('parse.headers', false),
    headersDelimiter: sep('headers.delimiter', '\t'),
    headersSeparator: sep('headers.separator', ','),
    headersKeySeparator: sep('headers.key.separator', ':'),
    nullMarker: props.get('null.marker') ?? null,
    ignoreError: flag('ignore.error', true),
  };
}

/** Splits one input line into headers, key and value, as Kafka's LineMessageReader does. */
export function parseLine(line: string, f: LineFormat, lineNumber: number): { key: Buffer | null; value: Buffer | null; headers?: RecordHeader[] } {
  let rest = line;
  let headers: RecordHeader[] | undefined;
  if (f.parseHeaders) {
    const at = rest.indexOf(f.headersDelimiter);
    if (at < 0) throw new UsageError(`line ${lineNumber}: no headers delimiter ${JSON.stringify(f.headersDelimiter)} found`);
    const text = rest.slice(0, at);
    rest = rest.slice(at + f.headersDelimiter.length);
    headers = text === '' ? [] : text.split(f.headersSeparator).map((h) => {
      const k = h.indexOf(f.headersKeySeparator);
      if (k < 0) return { key: h, value: null };
      const value = h.slice(k + f.headersKeySeparator.length);
      return { key: h.slice(0, k), value: f.nullMarker !== null && value === f.nullMarker ? null : Buffer.from(value) };
    });
  }
  let key: string | null = null;
  if (f.parseKey) {
    const at = rest.indexOf(f.keySeparator);
    if (at < 0) throw new UsageError(`line ${lineNumber}: no key separator ${JSON.stringify(f.keySeparator)} found`, 'with parse.key=true every line is key<separator>value');
    key = rest.slice(0, at);
    rest = rest.slice(at + f.keySeparator.length);
  }
  const toBuf = (s: string | null): Buffer | null => (s === null || (f.nullMarker !== null && s === f.nullMarker) ? null : Buffer.from(s));
  const out: { key: Buffer | null; value: Buffer | null; headers?: RecordHeader[] } = { key: toBuf(key), value: toBuf(rest) };
  if (headers) out.headers = headers;
  return out;
}

/** Sends still waiting for acknowledgement before reading more input (memory bound). */
const MAX_PENDING = 10_000;

async function runConsoleProducer(args: ParsedArgs, io: ToolIo): Promise<number> {
  const topic = args.required('topic');
  const format = lineFormat(parseKeyValues(args.list('property'), 'property'));
  const brokers = bootstrapServers(args, io);
  const overrides = parseKeyValues(args.list('producer-property'), 'producer-property');
  // Kafka's console producer flags, applied unless a property sets the same thing explicitly.
  const flagProps: Array<[string, string, string]> = [
    ['compression-codec', 'compression.type', ''],
    ['request-required-acks', 'acks', ''],
    ['linger-ms', 'linger.ms', ''],
    ['batch-size', 'batch.size', ''],
    ['max-block-ms', 'max.block.ms', ''],
    ['request-timeout-ms', 'request.timeout.ms', ''],
  ];
  const props = await clientProperties(args, 'producer.config');
  for (const [flag, key] of flagProps) {
    const v = args.value(flag);
    if (v !== undefined) props.set(key, v);
  }
  for (const [k, v] of overrides) props.set(k, v);
  if (!props.has('acks')) props.set('acks', '-1');
  if (props.has('compression.type')) compressionOf(props.get('compression.type')!);
  acksOf(props.get('acks')!);
  const partition = args.int('partition', { min: 0 });
  const { options, ignored } = producerOptions(brokers, props, 'console-producer');
  for (const k of ignored) io.stderr(`sluice console-producer: ignoring property ${k} (not used by this client)\n`);

  const producer = new Producer(options);
  const pending = new Set<Promise<void>>();
  let failures = 0;
  let firstFailure: unknown = null;
  let lineNumber = 0;
  const onFailure = (err: unknown): void => {
    failures++;
    firstFailure ??= err;
    const mapped = connectionFailure(err, brokers);
    io.stderr(`sluice console-producer: send failed: ${mapped instanceof Error ? mapped.message : String(mapped)}\n`);
  };
  try {
    try {
      await producer.connect();
      const known = await producer.cluster.refreshMetadata({ extra: [topic] }).then(() => producer.cluster.topic(topic));
      if (!known) throw new ToolError(`Topic '${topic}' does not exist`, ExitCode.failed, `create it with \`sluice topics --create --topic ${topic}\``);
      if (partition !== undefined && partition >= known.partitions.length) {
        throw new ToolError(`topic ${topic} has no partition ${partition} (it has ${known.partitions.length})`, ExitCode.failed);
      }
    } catch (err) {
      throw connectionFailure(err, brokers);
    }
    const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
    // Ctrl-C stops reading; what was already read is still sent before exiting.
    void io.interrupted().then(() => lines.close());
    for await (const line of lines) {
      lineNumber++;
      if (failures > 0 && !format.ignoreError) break;
      const parsed = parseLine(line, format, lineNumber);
      const record: ProducerRecord = { topic, key: parsed.key, value: parsed.value };
      if (parsed.headers) record.headers = parsed.headers;
      if (partition !== undefined) record.partition = partition;
      const sent: Promise<void> = producer.send(record).then(
        () => void pending.delete(sent),
        (err: unknown) => {
          pending.delete(sent);
          onFailure(err);
        },
      );
      pending.add(sent);
      if (args.has('sync')) await sent;
      else if (pending.size >= MAX_PENDING) await Promise.race(pending);
    }
    await Promise.all(pending);
  } finally {
    await producer.close().catch(() => undefined);
  }
  if (failures > 0) {
    const mapped = connectionFailure(firstFailure, brokers);
    const code = mapped instanceof ToolError ? mapped.exitCode : ExitCode.failed;
    io.stderr(`sluice console-producer: ${failures} record(s) were not written\n`);
    return code;
  }
  return ExitCode.ok;
}
