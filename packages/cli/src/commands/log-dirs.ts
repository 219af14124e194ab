/**
 * `sluice log-dirs` (kafka-log-dirs.sh): each broker's log directories and the size and offset lag
 * of every replica in them. A table by default; --json prints Kafka's document
 * ({"version":1,"brokers":[{"broker":1,"logDirs":[{"logDir":…,"error":null,"partitions":[…]}]}]}).
 */
import { errorForCode } from '@sluice/protocol';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { renderTable, toJson } from '../tool/table.js';

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'describe', kind: 'flag', help: 'Describe the log directories (the only action).' },
  { name: 'broker-list', kind: 'value', arg: '<1,2,3>', help: 'The brokers to ask (default: all).' },
  { name: 'topic-list', kind: 'value', arg: '<t1,t2>', help: 'Only these topics (default: all).' },
  jsonOption,
  helpOption,
];

// --broker-list is this tool's own flag here, not an alias of --bootstrap-server.
const bootstrapWithoutBrokerList: OptionSpec = { ...bootstrapOption, aliases: (bootstrapOption.aliases ?? []).filter((a) => a !== 'broker-list') };

export const logDirsTool: Tool = {
  name: 'log-dirs',
  summary: 'log directories and replica sizes per broker (kafka-log-dirs.sh)',
  usage: 'sluice log-dirs --bootstrap-server <host:port> --describe [--broker-list 1,2] [--topic-list t1,t2]',
  description: 'Shows, for each broker, its log directories and the replicas in them with their size in bytes and offset lag (how far a replica is behind its partition\'s high watermark).',
  options: options.map((o) => (o.name === 'bootstrap-server' ? bootstrapWithoutBrokerList : o)),
  run: runLogDirs,
};

async function runLogDirs(args: ParsedArgs, io: ToolIo): Promise<number> {
  if (!args.has('describe')) throw new UsageError('--describe is required');
  const list = (name: string) => args.value(name)?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
  const brokerList = list('broker-list');
  if (brokerList && !brokerList.every((b) => /^\d+$/.test(b))) throw new UsageError(`--broker-list must be comma-separated broker ids, not "${args.value('broker-list')}"`);
  const topics = list('topic-list');
  return withAdmin(args, io, async (admin) => {
    const live = (await admin.describeCluster()).brokers.map((b) => b.nodeId);
    const ids = brokerList ? brokerList.map(Number) : live.sort((a, b) => a - b);
    const unknown = ids.filter((id) => !live.includes(id));
    if (unknown.length) throw new ToolError(`broker(s) ${unknown.join(',')} are not in the cluster (live: ${live.join(',')})`, ExitCode.failed);
    if (!args.has('json')) io.stdout(`Querying brokers for log directories information\n`);
    const dirs = (await admin.describeLogDirs(ids)).map((d) => ({ ...d, partitions: d.partitions.filter((p) => !topics || topics.includes(p.topic)).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition) }));
    if (args.has('json')) {
      io.stdout(toJson({
        version: 1,
        brokers: ids.map((broker) => ({
          broker,
          logDirs: dirs.filter((d) => d.broker === broker).map((d) => ({
            logDir: d.logDir,
            error: d.errorCode ? errorForCode(d.errorCode).name : null,
            partitions: d.partitions.map((p) => ({ partition: `${p.topic}-${p.partition}`, size: Number(p.size), offsetLag: Number(p.offsetLag), isFuture: false })),
          })),
        })),
      }));
      return ExitCode.ok;
    }
    io.stdout(`Received log directory information from brokers ${ids.join(',')}\n`);
    const rows = dirs.flatMap((d) =>
      d.errorCode
        ? [[String(d.broker), d.logDir, errorForCode(d.errorCode).name, '-', '-']]
        : d.partitions.length
          ? d.partitions.map((p) => [String(d.broker), d.logDir, `${p.topic}-${p.partition}`, String(p.size), String(p.offsetLag)])
          : [[String(d.broker), d.logDir, '(no replicas)', '-', '-']],
    );
    io.stdout(renderTable(['BROKER', 'LOG DIR', 'PARTITION', 'SIZE', 'OFFSET LAG'], rows));
    return ExitCode.ok;
  });
}
