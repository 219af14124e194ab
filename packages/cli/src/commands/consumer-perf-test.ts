/**
 * `sluice consumer-perf-test` (kafka-consumer-perf-test.sh): consumes --messages records in a
 * group and prints Kafka's CSV summary (MB and records per second overall and excluding the
 * rebalance), with --show-detailed-stats lines per reporting interval.
 */
import { Consumer } from '@sluice/client';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { helpOption, jsonOption, type Tool } from '../tool/command.js';
import { consumerOptions } from '../tool/client-config.js';
import { bootstrapServers, clientProperties, connectionFailure } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { Progress } from '../tool/progress.js';
import { toJson } from '../tool/table.js';

const options: OptionSpec[] = [
  { name: 'bootstrap-server', kind: 'value', arg: '<host:port>', help: 'REQUIRED: broker(s) to connect to.', aliases: ['broker-list'] },
  { name: 'topic', kind: 'value', arg: '<topic>', help: 'REQUIRED: topic to consume.' },
  { name: 'messages', kind: 'value', arg: '<n>', help: 'REQUIRED: how many records to consume.' },
  { name: 'group', kind: 'value', arg: '<group>', help: 'Consumer group.', defaultText: 'perf-consumer-<random>' },
  { name: 'from-latest', kind: 'flag', help: 'Start at the end when the group has no committed offsets (default: the beginning).' },
  { name: 'fetch-size', kind: 'value', arg: '<bytes>', help: 'Bytes fetched per partition per request.', defaultText: '1048576' },
  { name: 'timeout', kind: 'value', arg: '<ms>', help: 'Give up when no record arrives for this long.', defaultText: '10000' },
  { name: 'reporting-interval', kind: 'value', arg: '<ms>', help: 'Interval of --show-detailed-stats lines and progress.', defaultText: '5000' },
  { name: 'show-detailed-stats', kind: 'flag', help: 'Print a CSV line per reporting interval.' },
  { name: 'hide-header', kind: 'flag', help: 'Leave out the CSV header.' },
  { name: 'date-format', kind: 'value', arg: '<pattern>', help: 'Java-style date pattern for the time columns.', defaultText: 'yyyy-MM-dd HH:mm:ss:SSS' },
  { name: 'threads', kind: 'value', arg: '<n>', help: 'Accepted for compatibility (one consumer is used, as in Kafka 3).' },
  { name: 'consumer.config', kind: 'value', arg: '<file>', help: 'Consumer properties file.', aliases: ['command-config'] },
  jsonOption,
  helpOption,
];

export const consumerPerfTestTool: Tool = {
  name: 'consumer-perf-test',
  summary: 'measure consume throughput (kafka-consumer-perf-test.sh)',
  usage: 'sluice consumer-perf-test --bootstrap-server <host:port> --topic <t> --messages <n> [--group <g>] [--show-detailed-stats]',
  description:
    'Consumes --messages records and prints Kafka’s CSV: start.time, end.time, data.consumed.in.MB, MB.sec,\n' +
    'data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec. Progress goes\n' +
    'to stderr while it runs.',
  options,
  run: runConsumerPerfTest,
};

/** Formats a time with a Java SimpleDateFormat-style pattern (the letters Kafka's default uses), local time. */
export function formatDate(ms: number, pattern: string): string {
  const d = new Date(ms);
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const fields: Record<string, string> = {
    yyyy: pad(d.getFullYear(), 4),
    MM: pad(d.getMonth() + 1, 2),
    dd: pad(d.getDate(), 2),
    HH: pad(d.getHours(), 2),
    mm: pad(d.getMinutes(), 2),
    ss: pad(d.getSeconds(), 2),
    SSS: pad(d.getMilliseconds(), 3),
  };
  return pattern.replace(/yyyy|MM|dd|HH|mm|ss|SSS/g, (m) => fields[m]);
}

const HEADER_TOTAL = 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';
const HEADER_DETAILED = 'time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';

async function runConsumerPerfTest(args: ParsedArgs, io: ToolIo): Promise<number> {
  const topic = args.required('topic');
  const messages = args.int('messages', { min: 1 });
  if (messages === undefined) throw new UsageError('missing required option --messages');
  const timeoutMs = args.int('timeout', { min: 1 }) ?? 10_000;
  const interval = args.int('reporting-interval', { min: 100 }) ?? 5000;
  const datePattern = args.value('date-format') ?? 'yyyy-MM-dd HH:mm:ss:SSS';
  const brokers = bootstrapServers(args, io);
  const props = await clientProperties(args, 'consumer.config');
  props.set('group.id', args.value('group') ?? props.get('group.id') ?? `perf-consumer-${Math.floor(Math.random() * 100_000)}`);
  if (!props.has('auto.offset.reset')) props.set('auto.offset.reset', args.has('from-latest') ? 'latest' : 'earliest');
  if (args.has('fetch-size')) props.set('max.partition.fetch.bytes', args.value('fetch-size')!);
  const { options, ignored } = consumerOptions(brokers, props, 'perf-consumer');
  for (const k of ignored) io.stderr(`sluice consumer-perf-test: ignoring property ${k} (not used by this client)\n`);

  let joinStart = 0;
  let assignedAt = 0;
  const consumer = new Consumer({
    ...options,
    rebalanceListener: {
      onPartitionsAssigned: () => {
        if (assignedAt === 0) assignedAt = Date.now();
      },
    },
  });
  const progress = new Progress(io, interval);
  let count = 0;
  let bytes = 0;
  let timedOut = false;
  const startMs = Date.now();
  let lastMs = startMs;
  const detailed = args.has('show-detailed-stats');
  if (!args.has('hide-header') && !args.has('json')) io.stdout((detailed ? HEADER_DETAILED : HEADER_TOTAL) + '\n');
  try {
    try {
      await consumer.connect();
      await consumer.cluster.refreshMetadata({ extra: [topic] });
      if (!consumer.cluster.topic(topic)) throw new ToolError(`Topic '${topic}' does not exist`, ExitCode.failed, 'list the topics with `sluice topics --list`');
      joinStart = Date.now();
      await consumer.subscribe(topic);
    } catch (err) {
      throw connectionFailure(err, brokers);
    }
    let windowStart = Date.now();
    let windowCount = 0;
    let windowBytes = 0;
    let interruptedFlag = false;
    const interrupted = io.interrupted().then(() => {
      interruptedFlag = true;
      return 'interrupt' as const;
    });
    while (count < messages && !interruptedFlag) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const batch = await Promise.race([consumer.poll(messages - count), timeout, interrupted]);
      clearTimeout(timer);
      if (batch === 'timeout') {
        timedOut = true;
        break;
      }
      if (batch === 'interrupt' || batch === null) break;
      lastMs = Date.now();
      for (const r of batch.records) {
        const size = (r.value?.length ?? 0) + (r.key?.length ?? 0);
        bytes += size;
        windowBytes += size;
      }
      count += batch.records.length;
      windowCount += batch.records.length;
      const now = Date.now();
      if (detailed && now - windowStart >= interval) {
        const secs = (now - windowStart) / 1000;
        const rebalance = assignedAt ? assignedAt - joinStart : 0;
        io.stdout(
          `${formatDate(now, datePattern)}, 0, ${(bytes / 1048576).toFixed(4)}, ${(windowBytes / 1048576 / secs).toFixed(4)}, ${count}, ${(windowCount / secs).toFixed(4)}, ` +
            `${rebalance}, ${now - windowStart}, ${(windowBytes / 1048576 / secs).toFixed(4)}, ${(windowCount / secs).toFixed(4)}\n`,
        );
        windowStart = now;
        windowCount = windowBytes = 0;
      }
      progress.update(`consumed ${count} of ${messages} records (${(bytes / 1048576).toFixed(1)} MB)`);
    }
  } finally {
    progress.done();
    await consumer.close().catch(() => undefined);
  }
  if (timedOut) io.stderr(`WARNING: Exiting before consuming the expected number of messages: timeout (${timeoutMs} ms) exceeded. You can use the --timeout option to increase the timeout.\n`);
  const endMs = lastMs;
  const totalSecs = Math.max(endMs - startMs, 1) / 1000;
  const rebalanceMs = assignedAt ? assignedAt - joinStart : 0;
  const fetchMs = Math.max(endMs - startMs - rebalanceMs, 1);
  const mb = bytes / 1048576;
  const figures = {
    startTime: formatDate(startMs, datePattern),
    endTime: formatDate(endMs, datePattern),
    dataConsumedMB: mb,
    mbPerSec: mb / totalSecs,
    records: count,
    recordsPerSec: count / totalSecs,
    rebalanceTimeMs: rebalanceMs,
    fetchTimeMs: fetchMs,
    fetchMBPerSec: mb / (fetchMs / 1000),
    fetchRecordsPerSec: count / (fetchMs / 1000),
  };
  if (args.has('json')) io.stdout(toJson(figures));
  else if (!detailed) {
    io.stdout(
      `${figures.startTime}, ${figures.endTime}, ${mb.toFixed(4)}, ${figures.mbPerSec.toFixed(4)}, ${count}, ${figures.recordsPerSec.toFixed(4)}, ` +
        `${rebalanceMs}, ${fetchMs}, ${figures.fetchMBPerSec.toFixed(4)}, ${figures.fetchRecordsPerSec.toFixed(4)}\n`,
    );
  }
  return timedOut ? ExitCode.failed : ExitCode.ok;
}
