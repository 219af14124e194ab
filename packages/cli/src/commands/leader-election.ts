/**
 * `sluice leader-election` (kafka-leader-election.sh): preferred or unclean leader election for
 * one partition, the partitions of a JSON file ({"partitions":[{"topic":"t","partition":0}]}), or
 * every partition, with Kafka's report lines.
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode, errorForCode } from '@sluice/protocol';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { toJson } from '../tool/table.js';

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'election-type', kind: 'value', arg: '<PREFERRED|UNCLEAN>', help: 'REQUIRED: PREFERRED moves leadership to the first replica; UNCLEAN elects any live replica for a partition without a leader (data it lacks is lost).' },
  { name: 'topic', kind: 'value', arg: '<topic>', help: 'The topic of the partition to elect (with --partition).' },
  { name: 'partition', kind: 'value', arg: '<n>', help: 'The partition to elect (with --topic).' },
  { name: 'all-topic-partitions', kind: 'flag', help: 'Elect for every partition.' },
  { name: 'path-to-json-file', kind: 'value', arg: '<file>', help: 'The partitions to elect: {"partitions":[{"topic":"t","partition":0}]}' },
  jsonOption,
  helpOption,
];

export const leaderElectionTool: Tool = {
  name: 'leader-election',
  summary: 'elect preferred or unclean leaders (kafka-leader-election.sh)',
  usage: 'sluice leader-election --bootstrap-server <host:port> --election-type PREFERRED|UNCLEAN (--topic T --partition P | --all-topic-partitions | --path-to-json-file F)',
  description: 'Asks the cluster to elect leaders. Exactly one of --topic/--partition, --all-topic-partitions and --path-to-json-file names the partitions.',
  options,
  run: runLeaderElection,
};

function parsePartitionsJson(text: string, file: string): Array<{ topic: string; partition: number }> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const list = (doc as { partitions?: unknown }).partitions;
  if (!Array.isArray(list) || list.length === 0) throw new UsageError(`${file} needs a non-empty "partitions" array`);
  const seen = new Set<string>();
  return list.map((p: unknown, i) => {
    const { topic, partition } = (p ?? {}) as { topic?: unknown; partition?: unknown };
    if (typeof topic !== 'string' || !topic) throw new UsageError(`${file}: partitions[${i}] needs a "topic" string`);
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) throw new UsageError(`${file}: partitions[${i}] needs a "partition" number`);
    if (seen.has(`${topic}-${partition}`)) throw new UsageError(`${file}: ${topic}-${partition} is listed twice`);
    seen.add(`${topic}-${partition}`);
    return { topic, partition };
  });
}

async function runLeaderElection(args: ParsedArgs, io: ToolIo): Promise<number> {
  const type = args.value('election-type')?.toUpperCase();
  if (type !== 'PREFERRED' && type !== 'UNCLEAN') throw new UsageError(args.has('election-type') ? `--election-type must be PREFERRED or UNCLEAN, not "${args.value('election-type')}"` : 'missing required option --election-type');
  const chosen = ['topic', 'all-topic-partitions', 'path-to-json-file'].filter((o) => args.has(o));
  if (chosen.length !== 1) throw new UsageError('exactly one of --topic/--partition, --all-topic-partitions and --path-to-json-file is required');
  let partitions: Array<{ topic: string; partition: number }> | null = null;
  if (args.has('topic')) {
    const partition = args.int('partition', { min: 0 });
    if (partition === undefined) throw new UsageError('--topic needs --partition');
    partitions = [{ topic: args.value('topic')!, partition }];
  } else if (args.has('path-to-json-file')) {
    const file = args.value('path-to-json-file')!;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --path-to-json-file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    partitions = parsePartitionsJson(text, file);
  } else if (args.has('partition')) {
    throw new UsageError('--partition needs --topic');
  }
  return withAdmin(args, io, async (admin) => {
    const results = await admin.electLeaders(type === 'PREFERRED' ? 'preferred' : 'unclean', partitions);
    const name = (r: { topic: string; partition: number }) => `${r.topic}-${r.partition}`;
    const ok = results.filter((r) => r.errorCode === 0);
    const notNeeded = results.filter((r) => r.errorCode === ErrorCode.ELECTION_NOT_NEEDED);
    const failed = results.filter((r) => r.errorCode !== 0 && r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED);
    if (args.has('json')) {
      io.stdout(toJson(results.map((r) => ({ ...r, error: r.errorCode === 0 ? null : errorForCode(r.errorCode).name }))));
    } else {
      if (ok.length) io.stdout(`Successfully completed leader election (${type}) for partitions ${ok.map(name).join(', ')}\n`);
      if (notNeeded.length) io.stdout(`Valid replica already elected for partitions ${notNeeded.map(name).join(', ')}\n`);
      if (!results.length) io.stdout(`No partition needed a leader election (${type})\n`);
      for (const r of failed) io.stdout(`Error completing leader election (${type}) for partition: ${name(r)}: ${errorForCode(r.errorCode).name}: ${r.errorMessage ?? ''}\n`);
    }
    return failed.length ? ExitCode.failed : ExitCode.ok;
  });
}
