/**
 * `sluice get-offsets` (kafka-get-offsets.sh): partition offsets by time — latest (-1), earliest
 * (-2), the record with the largest timestamp (-3), or the first record at or after a timestamp.
 */
import type { Admin } from '@sluice/client';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { toJson } from '../tool/table.js';

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'topic', kind: 'value', arg: '<name|regex>', help: 'Topics to query (a name or regex; default all).' },
  { name: 'partitions', kind: 'value', arg: '<p,p>', help: 'Comma-separated partitions (default all).' },
  { name: 'topic-partitions', kind: 'value', arg: '<t:p,t:p-q>', help: 'Topic/partition list, e.g. orders:0-2,users:1 (instead of --topic/--partitions).' },
  { name: 'time', kind: 'value', arg: '<ms|-1|-2|-3|latest|earliest|max-timestamp>', help: 'Which offset: by timestamp in ms, or a special value.', defaultText: 'latest' },
  { name: 'isolation-level', kind: 'value', arg: '<read_uncommitted|read_committed>', help: 'read_committed stops at the last stable offset.', defaultText: 'read_uncommitted' },
  { name: 'exclude-internal-topics', kind: 'flag', help: 'Leave out internal topics.' },
  jsonOption,
  helpOption,
];

export const getOffsetsTool: Tool = {
  name: 'get-offsets',
  summary: 'partition offsets by time: latest, earliest, or at a timestamp (kafka-get-offsets.sh)',
  usage: 'sluice get-offsets --bootstrap-server <host:port> [--topic <name>] [--partitions <p,p>] [--time <ms|-1|-2|-3>]',
  description: 'Prints topic:partition:offset lines, as kafka-get-offsets.sh does. An empty offset means no record at or after the timestamp.',
  options,
  run: runGetOffsets,
};

export function parseTimeSpec(raw: string): bigint {
  const t = raw.trim().toLowerCase();
  if (t === 'latest') return -1n;
  if (t === 'earliest') return -2n;
  if (t === 'max-timestamp') return -3n;
  if (!/^-?\d+$/.test(t)) throw new UsageError(`--time must be a timestamp in ms, -1 (latest), -2 (earliest) or -3 (max-timestamp), not "${raw}"`);
  const v = BigInt(t);
  if (v < -3n) throw new UsageError(`--time ${raw} is not supported (use -1, -2, -3 or a timestamp)`);
  return v;
}

function parsePartitionList(text: string, what: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) throw new UsageError(`${what}: "${part}" is not a partition number or range`);
    const lo = Number(range[1]);
    const hi = range[2] === undefined ? lo : Number(range[2]);
    if (hi < lo) throw new UsageError(`${what}: range ${part} is backwards`);
    for (let p = lo; p <= hi; p++) out.push(p);
  }
  return out;
}

/** topic → partitions wanted (null: all), from --topic-partitions or --topic/--partitions. */
async function selection(admin: Admin, args: ParsedArgs): Promise<Map<string, number[] | null>> {
  const all = await admin.listTopics({ includeInternal: !args.has('exclude-internal-topics') });
  const out = new Map<string, number[] | null>();
  const tp = args.value('topic-partitions');
  if (tp !== undefined) {
    if (args.has('topic') || args.has('partitions')) throw new UsageError('--topic-partitions replaces --topic and --partitions');
    for (const entry of tp.split(',').reduce<string[]>((acc, s) => {
      // "t:0-2,3" style continuations belong to the previous topic.
      if (/^\d+(-\d+)?$/.test(s.trim()) && acc.length) acc[acc.length - 1] += `,${s}`;
      else acc.push(s);
      return acc;
    }, [])) {
      const colon = entry.lastIndexOf(':');
      const topic = colon < 0 ? entry.trim() : entry.slice(0, colon).trim();
      const parts = colon < 0 ? null : parsePartitionList(entry.slice(colon + 1), '--topic-partitions');
      for (const t of matchTopic(all, topic)) out.set(t, parts);
    }
    return out;
  }
  const partitions = args.has('partitions') ? parsePartitionList(args.value('partitions')!, '--partitions') : null;
  const pattern = args.value('topic');
  for (const t of pattern === undefined ? all : matchTopic(all, pattern)) out.set(t, partitions);
  return out;
}

function matchTopic(all: string[], pattern: string): string[] {
  if (all.includes(pattern)) return [pattern];
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${pattern})$`);
  } catch {
    return [];
  }
  const found = all.filter((t) => regex.test(t));
  if (found.length === 0) throw new ToolError(`Topic '${pattern}' does not exist`, ExitCode.failed, 'list the topics with `sluice topics --list`');
  return found;
}

async function runGetOffsets(args: ParsedArgs, io: ToolIo): Promise<number> {
  const time = parseTimeSpec(args.value('time') ?? '-1');
  const isolation = args.value('isolation-level') ?? 'read_uncommitted';
  if (isolation !== 'read_uncommitted' && isolation !== 'read_committed') throw new UsageError('--isolation-level is read_uncommitted or read_committed');
  return withAdmin(args, io, async (admin) => {
    const wanted = await selection(admin, args);
    const rows: Array<{ topic: string; partition: number; offset: bigint | null }> = [];
    for (const [topic, parts] of wanted) {
      const count = admin.cluster.topic(topic)?.partitions.length ?? 0;
      const missing = parts?.find((p) => p >= count);
      if (missing !== undefined) throw new ToolError(`topic ${topic} has no partition ${missing} (it has ${count})`, ExitCode.failed);
      const offsets = await admin.listOffsets(topic, time, parts ?? undefined, isolation === 'read_committed' ? 1 : 0);
      for (const o of offsets) rows.push({ topic, partition: o.partition, offset: o.offset < 0n ? null : o.offset });
    }
    rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    if (args.has('json')) io.stdout(toJson(rows));
    else io.stdout(rows.map((r) => `${r.topic}:${r.partition}:${r.offset ?? ''}\n`).join(''));
    return ExitCode.ok;
  });
}
