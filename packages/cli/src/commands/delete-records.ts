/**
 * `sluice delete-records` (kafka-delete-records.sh): moves partitions' log start offsets forward,
 * as listed in a JSON file: {"partitions":[{"topic":"t","partition":0,"offset":3}],"version":1}
 * (offset -1 = up to the high watermark).
 */
import { readFile } from 'node:fs/promises';
import { KafkaError } from '@sluice/protocol';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { toJson } from '../tool/table.js';

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'offset-json-file', kind: 'value', arg: '<file>', help: 'REQUIRED: {"partitions":[{"topic":"t","partition":0,"offset":3}],"version":1}' },
  jsonOption,
  helpOption,
];

export const deleteRecordsTool: Tool = {
  name: 'delete-records',
  summary: 'delete records below given offsets (kafka-delete-records.sh)',
  usage: 'sluice delete-records --bootstrap-server <host:port> --offset-json-file <file>',
  description: 'Deletes every record below the given offset of each listed partition (offset -1: everything up to the high watermark).',
  options,
  run: runDeleteRecords,
};

interface Target {
  topic: string;
  partition: number;
  offset: bigint;
}

export function parseOffsetJson(text: string, file: string): Target[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const partitions = (doc as { partitions?: unknown }).partitions;
  if (!Array.isArray(partitions) || partitions.length === 0) throw new UsageError(`${file} needs a non-empty "partitions" array`);
  const seen = new Set<string>();
  return partitions.map((p: unknown, i) => {
    const { topic, partition, offset } = (p ?? {}) as { topic?: unknown; partition?: unknown; offset?: unknown };
    if (typeof topic !== 'string' || !topic) throw new UsageError(`${file}: partitions[${i}] needs a "topic" string`);
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) throw new UsageError(`${file}: partitions[${i}] needs a "partition" number`);
    if (!(typeof offset === 'number' && Number.isInteger(offset)) && !(typeof offset === 'string' && /^-?\d+$/.test(offset))) {
      throw new UsageError(`${file}: partitions[${i}] needs an integer "offset" (-1 = high watermark)`);
    }
    const key = `${topic}-${partition}`;
    if (seen.has(key)) throw new UsageError(`${file}: ${key} is listed twice`);
    seen.add(key);
    return { topic, partition, offset: BigInt(offset) };
  });
}

async function runDeleteRecords(args: ParsedArgs, io: ToolIo): Promise<number> {
  const file = args.required('offset-json-file');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --offset-json-file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const targets = parseOffsetJson(text, file);
  return withAdmin(args, io, async (admin) => {
    const known = new Set(await admin.listTopics({ includeInternal: true }));
    const unknown = targets.find((t) => !known.has(t.topic));
    if (unknown) throw new ToolError(`Topic '${unknown.topic}' does not exist`, ExitCode.failed, 'list the topics with `sluice topics --list`');
    if (!args.has('json')) io.stdout('Executing records delete operation\n');
    const results: Array<{ topic: string; partition: number; lowWatermark?: bigint; error?: string }> = [];
    for (const [topic, list] of groupByTopic(targets)) {
      for (const t of list) {
        try {
          const [r] = await admin.deleteRecords(topic, [{ partition: t.partition, offset: t.offset }]);
          results.push({ topic, partition: t.partition, lowWatermark: r.offset });
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          results.push({ topic, partition: t.partition, error: err.message });
        }
      }
    }
    if (args.has('json')) io.stdout(toJson(results));
    else {
      io.stdout('Records delete operation completed:\n');
      for (const r of results) io.stdout(`partition: ${r.topic}-${r.partition}\t${r.error ? `error: ${r.error}` : `low_watermark: ${r.lowWatermark}`}\n`);
    }
    return results.some((r) => r.error) ? ExitCode.failed : ExitCode.ok;
  });
}

function groupByTopic(targets: Target[]): Map<string, Target[]> {
  const out = new Map<string, Target[]>();
  for (const t of targets) out.set(t.topic, [...(out.get(t.topic) ?? []), t]);
  return out;
}
