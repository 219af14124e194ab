/**
 * `sluice consumer-groups` (kafka-consumer-groups.sh): list, describe (offsets and lag, members,
 * state), delete groups, reset a group's offsets (planned with --dry-run, applied with --execute)
 * and delete a group's offsets for topics.
 */
import { readFile } from 'node:fs/promises';
import { OffsetSpec, type Admin, type GroupDescription, type PartitionOffset } from '@sluice/client';
import { KafkaError } from '@sluice/protocol';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { renderTable, toJson, type Cell } from '../tool/table.js';

const ACTIONS = ['list', 'describe', 'delete', 'reset-offsets', 'delete-offsets'] as const;
const RESET_SPECS = ['to-earliest', 'to-latest', 'to-offset', 'to-datetime', 'by-duration', 'shift-by', 'to-current', 'from-file'] as const;

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'list', kind: 'flag', help: 'List groups (with --state: and their states).' },
  { name: 'describe', kind: 'flag', help: 'Describe groups: offsets and lag (default), --members, --state.' },
  { name: 'delete', kind: 'flag', help: 'Delete groups (they must have no active members).' },
  { name: 'reset-offsets', kind: 'flag', help: 'Reset committed offsets; prints the plan unless --execute.' },
  { name: 'delete-offsets', kind: 'flag', help: 'Delete a group’s committed offsets for --topic.' },
  { name: 'group', kind: 'list', arg: '<group>', help: 'The group.' },
  { name: 'all-groups', kind: 'flag', help: 'Every group (describe, delete, reset-offsets).' },
  { name: 'members', kind: 'flag', help: 'With --describe: members and their partition counts.' },
  { name: 'verbose', kind: 'flag', help: 'With --describe --members: the assigned partitions too.' },
  { name: 'state', kind: 'flag', help: 'With --describe: coordinator, assignment strategy, state, members. With --list: states.' },
  { name: 'offsets', kind: 'flag', help: 'With --describe: the offsets view (the default).' },
  { name: 'topic', kind: 'list', arg: '<topic[:p,p]>', help: 'Topic (and partitions) for --reset-offsets / --delete-offsets.' },
  { name: 'all-topics', kind: 'flag', help: 'With --reset-offsets: every topic the group has offsets for.' },
  { name: 'to-earliest', kind: 'flag', help: 'Reset to the earliest offset.' },
  { name: 'to-latest', kind: 'flag', help: 'Reset to the latest offset.' },
  { name: 'to-offset', kind: 'value', arg: '<n>', help: 'Reset to this offset.' },
  { name: 'to-datetime', kind: 'value', arg: '<YYYY-MM-DDTHH:mm:SS.sss[zone]>', help: 'Reset to the first offset at or after this time (UTC unless a zone is given).' },
  { name: 'by-duration', kind: 'value', arg: '<PnDTnHnMnS>', help: 'Reset to the first offset at or after now minus this ISO-8601 duration.' },
  { name: 'shift-by', kind: 'value', arg: '<n>', help: 'Move the committed offsets by n (negative: back).' },
  { name: 'to-current', kind: 'flag', help: 'Reset to the current committed offsets (re-commit).' },
  { name: 'from-file', kind: 'value', arg: '<csv>', help: 'Offsets from a CSV file: topic,partition,offset per line (group,topic,partition,offset with --all-groups).' },
  { name: 'dry-run', kind: 'flag', help: 'With --reset-offsets: only print the plan (the default).' },
  { name: 'execute', kind: 'flag', help: 'With --reset-offsets: apply the plan.' },
  { name: 'export', kind: 'flag', help: 'With --reset-offsets --dry-run: print the plan as CSV for --from-file.' },
  { name: 'metrics-url', kind: 'list', arg: '<http://host:port>', help: "With --describe: brokers' metrics endpoints (metrics.port); the STATUS column then shows the group coordinator's Burrow verdict per partition (else -)." },
  { name: 'timeout', kind: 'value', arg: '<ms>', help: 'Accepted for compatibility (requests use request.timeout.ms).' },
  jsonOption,
  helpOption,
];

export const consumerGroupsTool: Tool = {
  name: 'consumer-groups',
  summary: 'list, describe, delete groups and reset their offsets (kafka-consumer-groups.sh)',
  usage: 'sluice consumer-groups --bootstrap-server <host:port> (--list | --describe | --delete | --reset-offsets | --delete-offsets) [--group <g>] [options]',
  description:
    'Manages consumer groups like kafka-consumer-groups.sh, with the same flags and tables.\n' +
    '--reset-offsets needs a scope (--all-topics or --topic t[:p,p]) and one of --to-earliest, --to-latest,\n' +
    '--to-offset, --to-datetime, --by-duration, --shift-by, --to-current, --from-file; it prints the plan and\n' +
    'changes nothing unless --execute is given. Offsets can only be reset while the group has no active members.',
  options,
  run: runConsumerGroups,
};

async function runConsumerGroups(args: ParsedArgs, io: ToolIo): Promise<number> {
  const actions = args.present(ACTIONS);
  if (actions.length !== 1) throw new UsageError(actions.length ? `choose one action, not ${actions.map((a) => `--${a}`).join(' and ')}` : `choose an action: ${ACTIONS.map((a) => `--${a}`).join(', ')}`);
  const action = actions[0];
  if (action !== 'list' && action !== 'delete-offsets' && !args.has('group') && !args.has('all-groups')) throw new UsageError(`--${action} needs --group <group> or --all-groups`);
  if (action === 'delete-offsets' && args.list('group').length !== 1) throw new UsageError('--delete-offsets needs exactly one --group');
  if (action === 'reset-offsets') checkResetOptions(args);
  return withAdmin(args, io, async (admin) => {
    switch (action) {
      case 'list':
        return listGroups(admin, args, io);
      case 'describe':
        return describeGroups(admin, args, io);
      case 'delete':
        return deleteGroups(admin, args, io);
      case 'reset-offsets':
        return resetOffsets(admin, args, io);
      case 'delete-offsets':
        return deleteOffsets(admin, args, io);
    }
    return ExitCode.ok;
  });
}

async function groupsOf(admin: Admin, args: ParsedArgs): Promise<string[]> {
  if (args.has('all-groups')) return (await admin.listGroups()).filter((g) => g.protocolType === 'consumer' || g.protocolType === '').map((g) => g.groupId);
  return args.list('group');
}

async function listGroups(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const groups = await admin.listGroups();
  if (args.has('json')) io.stdout(toJson(groups.map((g) => ({ group: g.groupId, state: g.state, protocolType: g.protocolType }))));
  else if (args.has('state')) io.stdout(renderTable(['GROUP', 'STATE'], groups.map((g) => [g.groupId, g.state ?? 'Unknown'])));
  else io.stdout(groups.map((g) => `${g.groupId}\n`).join(''));
  return ExitCode.ok;
}

interface OffsetRow {
  group: string;
  topic: string;
  partition: number;
  currentOffset: bigint | null;
  logEndOffset: bigint | null;
  lag: bigint | null;
  consumerId: string | null;
  host: string | null;
  clientId: string | null;
}

/** A described group, failing with Kafka's wording when it does not exist. */
async function describeOne(admin: Admin, group: string): Promise<GroupDescription> {
  const [d] = await admin.describeGroups([group]);
  if (d.state === 'Dead') throw new ToolError(`Consumer group '${group}' does not exist.`, ExitCode.failed, 'list groups with `sluice consumer-groups --list`');
  return d;
}

async function offsetRows(admin: Admin, group: string, d: GroupDescription): Promise<OffsetRow[]> {
  const committed = await admin.listConsumerGroupOffsets(group);
  const owner = new Map<string, GroupDescription['members'][number]>();
  for (const m of d.members) for (const a of m.assignment) for (const p of a.partitions) owner.set(`${a.topic}\0${p}`, m);
  const keys = new Map<string, { topic: string; partition: number }>();
  for (const c of committed) keys.set(`${c.topic}\0${c.partition}`, { topic: c.topic, partition: c.partition });
  for (const k of owner.keys()) {
    const [topic, p] = k.split('\0');
    keys.set(k, { topic, partition: Number(p) });
  }
  const topics = [...new Set([...keys.values()].map((k) => k.topic))];
  const known = new Set(await admin.listTopics({ includeInternal: true }));
  const ends = new Map<string, bigint>();
  for (const t of topics.filter((x) => known.has(x))) {
    for (const o of await admin.listOffsets(t, OffsetSpec.latest)) ends.set(`${t}\0${o.partition}`, o.offset);
  }
  const rows = [...keys.entries()].map(([k, { topic, partition }]) => {
    const current = committed.find((c) => c.topic === topic && c.partition === partition)?.offset ?? null;
    const end = ends.get(k) ?? null;
    const m = owner.get(k);
    return {
      group,
      topic,
      partition,
      currentOffset: current,
      logEndOffset: end,
      lag: current !== null && end !== null ? (end - current > 0n ? end - current : 0n) : null,
      consumerId: m?.memberId ?? null,
      host: m ? `/${m.clientHost.replace(/^\//, '')}` : null,
      clientId: m?.clientId ?? null,
    };
  });
  return rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

async function describeGroups(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const views = args.present(['members', 'state', 'offsets']);
  if (views.length > 1) throw new UsageError(`choose one view: ${views.map((v) => `--${v}`).join(' or ')}`);
  if (args.has('verbose') && !args.has('members')) throw new UsageError('--verbose goes with --members');
  const view = views[0] ?? 'offsets';
  const groups = await groupsOf(admin, args);
  const json: unknown[] = [];
  let out = '';
  for (const group of groups) {
    const d = await describeOne(admin, group);
    if (view === 'state') {
      const coordinator = await coordinatorLabel(admin, group);
      const row = { group, coordinator, assignmentStrategy: d.protocol, state: d.state, members: d.members.length };
      json.push(row);
      out += '\n' + renderTable(['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'], [[group, coordinator, d.protocol || '', d.state, d.members.length]]);
      continue;
    }
    if (d.members.length === 0 && !args.has('json')) out += `\nConsumer group '${group}' has no active members.\n`;
    if (view === 'members') {
      const rows = d.members.map((m) => ({
        group,
        consumerId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        host: `/${m.clientHost.replace(/^\//, '')}`,
        clientId: m.clientId,
        partitions: m.assignment.reduce((n, a) => n + a.partitions.length, 0),
        assignment: m.assignment.map((a) => `${a.topic}(${a.partitions.join(',')})`).join(', '),
      }));
      json.push(...rows);
      if (rows.length) {
        const headers = ['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', ...(args.has('verbose') ? ['ASSIGNMENT'] : [])];
        out += '\n' + renderTable(headers, rows.map((r) => [r.group, r.consumerId, r.host, r.clientId, r.partitions, ...(args.has('verbose') ? [r.assignment || '-'] : [])]));
      }
      continue;
    }
    const verdicts = await burrowVerdicts(args.list('metrics-url'), group);
    const rows = (await offsetRows(admin, group, d)).map((r) => ({ ...r, status: verdicts?.get(`${r.topic}\0${r.partition}`) ?? null }));
    json.push(...rows);
    if (rows.length) {
      out +=
        '\n' +
        renderTable(
          ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', 'STATUS'],
          rows.map((r): Cell[] => [r.group, r.topic, r.partition, r.currentOffset, r.logEndOffset, r.lag, r.consumerId, r.host, r.clientId, r.status]),
        );
    }
  }
  io.stdout(args.has('json') ? toJson(json) : out);
  return ExitCode.ok;
}

/**
 * The Burrow verdict per partition (topic\0partition → OK, WARN, STOP, STALL, REWIND) from the
 * broker that coordinates the group: a one-shot describe sees no window of commits, the
 * coordinator's evaluator does. Each URL is asked in turn (only the coordinator knows the group);
 * null without URLs or when none answers for the group.
 */
async function burrowVerdicts(urls: string[], group: string): Promise<Map<string, string> | null> {
  for (const raw of urls) {
    const base = raw.replace(/\/+$/, '');
    try {
      const clusters = (await (await fetch(`${base}/v3/kafka`, { signal: AbortSignal.timeout(5000) })).json()) as { clusters?: string[] };
      for (const cluster of clusters.clusters ?? []) {
        const r = await fetch(`${base}/v3/kafka/${encodeURIComponent(cluster)}/consumer/${encodeURIComponent(group)}/lag`, { signal: AbortSignal.timeout(5000) });
        if (r.status !== 200) continue;
        const body = (await r.json()) as { status?: { partitions?: { topic: string; partition: number; status: string }[] } };
        return new Map((body.status?.partitions ?? []).map((p) => [`${p.topic}\0${p.partition}`, p.status]));
      }
    } catch (err) {
      throw new UsageError(`--metrics-url ${raw}: ${(err as Error).message}`);
    }
  }
  return null;
}

async function coordinatorLabel(admin: Admin, group: string): Promise<string> {
  const c = await admin.cluster.coordinatorFor(group);
  const [host, port] = [c.address.slice(0, c.address.lastIndexOf(':')), Number(c.address.slice(c.address.lastIndexOf(':') + 1))];
  const broker = admin.cluster.brokers().find((b) => b.host === host && b.port === port);
  return `${c.address} (${broker?.nodeId ?? '?'})`;
}

async function deleteGroups(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const groups = await groupsOf(admin, args);
  const failures: string[] = [];
  for (const g of groups) {
    try {
      await admin.deleteGroups([g]);
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      const reason = err.errorName === 'NON_EMPTY_GROUP' ? 'The group is not empty (stop its consumers first).' : err.errorName === 'GROUP_ID_NOT_FOUND' ? 'The group id does not exist.' : err.message;
      failures.push(`* Group '${g}' could not be deleted due to: ${err.errorName}: ${reason}`);
    }
  }
  const deleted = groups.filter((g) => !failures.some((f) => f.includes(`'${g}'`)));
  if (deleted.length) io.stdout(`Deletion of requested consumer groups (${deleted.map((g) => `'${g}'`).join(', ')}) was successful.\n`);
  if (failures.length) {
    io.stderr(`Error: Deletion of some consumer groups failed:\n${failures.join('\n')}\n`);
    return ExitCode.failed;
  }
  return ExitCode.ok;
}

// ---- reset offsets ----

function checkResetOptions(args: ParsedArgs): void {
  const specs = args.present(RESET_SPECS);
  if (specs.length !== 1) throw new UsageError(`--reset-offsets needs exactly one of ${RESET_SPECS.map((s) => `--${s}`).join(', ')}`);
  if (specs[0] !== 'from-file' && args.has('all-topics') === args.has('topic')) throw new UsageError('--reset-offsets needs a scope: --all-topics or --topic <topic[:p,p]>');
  if (args.has('dry-run') && args.has('execute')) throw new UsageError('choose --dry-run or --execute, not both');
  if (args.has('export') && args.has('execute')) throw new UsageError('--export prints a plan; it does not go with --execute');
}

/** --topic values: `t` (all partitions) or `t:0,2`. */
function topicScopes(values: string[]): Array<{ topic: string; partitions: number[] | null }> {
  return values.map((v) => {
    const colon = v.lastIndexOf(':');
    if (colon < 0) return { topic: v, partitions: null };
    const parts = v
      .slice(colon + 1)
      .split(',')
      .map((p) => p.trim());
    if (parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--topic ${v}: partitions after ":" must be numbers separated by commas`);
    return { topic: v.slice(0, colon), partitions: parts.map(Number) };
  });
}

/** ISO-8601 duration (PnDTnHnMnS, also weeks) in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text.trim());
  if (!m || text.trim().toUpperCase() === 'P' || /T$/i.test(text.trim())) throw new UsageError(`--by-duration must be an ISO-8601 duration like PT30M or P1DT2H, not "${text}"`);
  const [w, d, h, min, s] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  return Math.round((((w * 7 + d) * 24 + h) * 60 + min) * 60_000 + s * 1000);
}

/** Kafka's --to-datetime format, UTC unless an offset (Z, +09:00, -0500) is given. */
export function parseDateTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!m) throw new UsageError(`--to-datetime must look like 2024-01-31T13:45:00.000 (optionally with Z or +09:00), not "${text}"`);
  const [, y, mo, d, h, mi, s, ms, zone] = m;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number((ms ?? '0').padEnd(3, '0')));
  if (zone && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    t -= (z[1] === '+' ? 1 : -1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  }
  if (Number.isNaN(t)) throw new UsageError(`--to-datetime ${text} is not a valid date`);
  return t;
}

interface PlanRow {
  group: string;
  topic: string;
  partition: number;
  newOffset: bigint;
}

async function parseOffsetFile(file: string, allGroups: boolean): Promise<Array<{ group?: string; topic: string; partition: number; offset: bigint }>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --from-file ${file}: ${(err as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line, i) => {
      const f = line.split(',').map((x) => x.trim());
      const expected = allGroups ? 4 : 3;
      if (f.length !== expected || !/^\d+$/.test(f[expected - 2]) || !/^-?\d+$/.test(f[expected - 1])) {
        throw new UsageError(`${file} line ${i + 1}: expected ${allGroups ? 'group,' : ''}topic,partition,offset, got "${line}"`);
      }
      const [topic, partition, offset] = f.slice(expected - 3);
      return { ...(allGroups ? { group: f[0] } : {}), topic, partition: Number(partition), offset: BigInt(offset) };
    });
}

async function resetOffsets(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const execute = args.has('execute');
  const groups = await groupsOf(admin, args);
  const knownTopics = new Set(await admin.listTopics({ includeInternal: true }));
  const plan: PlanRow[] = [];
  const warnings: string[] = [];
  const fileRows = args.has('from-file') ? await parseOffsetFile(args.value('from-file')!, args.has('all-groups')) : null;
  for (const group of groups) {
    const d = await admin.describeGroups([group]).then((r) => r[0]);
    if (d.state !== 'Empty' && d.state !== 'Dead') {
      throw new ToolError(
        `Assignments can only be reset if the group '${group}' is inactive, but the current state is ${d.state}.`,
        ExitCode.failed,
        'stop the group’s consumers, then run the reset again',
      );
    }
    const committed = await admin.listConsumerGroupOffsets(group);
    let targets: Array<{ topic: string; partition: number }>;
    if (fileRows) targets = fileRows.filter((r) => r.group === undefined || r.group === group).map((r) => ({ topic: r.topic, partition: r.partition }));
    else if (args.has('all-topics')) targets = committed.map((c) => ({ topic: c.topic, partition: c.partition }));
    else {
      targets = [];
      for (const scope of topicScopes(args.list('topic'))) {
        if (!knownTopics.has(scope.topic)) throw new ToolError(`Topic '${scope.topic}' does not exist`, ExitCode.failed, 'list the topics with `sluice topics --list`');
        const count = admin.cluster.topic(scope.topic)?.partitions.length ?? 0;
        const parts = scope.partitions ?? Array.from({ length: count }, (_, i) => i);
        const missing = parts.find((p) => p >= count);
        if (missing !== undefined) throw new ToolError(`topic ${scope.topic} has no partition ${missing} (it has ${count})`, ExitCode.failed);
        targets.push(...parts.map((partition) => ({ topic: scope.topic, partition })));
      }
    }
    const byTopic = new Map<string, number[]>();
    for (const t of targets) byTopic.set(t.topic, [...(byTopic.get(t.topic) ?? []), t.partition]);
    for (const [topic, partitions] of byTopic) {
      if (!knownTopics.has(topic)) throw new ToolError(`Topic '${topic}' does not exist`, ExitCode.failed);
      const [earliest, latest] = await Promise.all([admin.listOffsets(topic, OffsetSpec.earliest, partitions), admin.listOffsets(topic, OffsetSpec.latest, partitions)]);
      const lookup = (list: PartitionOffset[], p: number): bigint => list.find((o) => o.partition === p)!.offset;
      let byTime: PartitionOffset[] | null = null;
      if (args.has('to-datetime') || args.has('by-duration')) {
        const ts = args.has('to-datetime') ? parseDateTime(args.value('to-datetime')!) : Date.now() - parseDuration(args.value('by-duration')!);
        byTime = await admin.listOffsets(topic, BigInt(ts), partitions);
      }
      for (const partition of partitions) {
        const lo = lookup(earliest, partition);
        const hi = lookup(latest, partition);
        const current = committed.find((c) => c.topic === topic && c.partition === partition)?.offset ?? null;
        let wanted: bigint;
        if (args.has('to-earliest')) wanted = lo;
        else if (args.has('to-latest')) wanted = hi;
        else if (args.has('to-offset')) wanted = args.bigint('to-offset')!;
        else if (args.has('shift-by')) wanted = (current ?? lo) + args.bigint('shift-by')!;
        else if (args.has('to-current')) wanted = current ?? hi;
        else if (byTime) {
          const found = lookup(byTime, partition);
          wanted = found < 0n ? hi : found;
        } else wanted = fileRows!.find((r) => (r.group === undefined || r.group === group) && r.topic === topic && r.partition === partition)!.offset;
        // Kafka clamps out-of-range targets to the log's bounds rather than failing.
        let newOffset = wanted;
        if (wanted < lo) {
          newOffset = lo;
          warnings.push(`New offset (${wanted}) is lower than earliest offset for topic partition ${topic}-${partition}. Value will be set to ${lo}`);
        } else if (wanted > hi) {
          newOffset = hi;
          warnings.push(`New offset (${wanted}) is higher than latest offset for topic partition ${topic}-${partition}. Value will be set to ${hi}`);
        }
        plan.push({ group, topic, partition, newOffset });
      }
    }
  }
  plan.sort((a, b) => a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition);
  for (const w of warnings) io.stderr(`[warning] ${w}\n`);
  if (execute) {
    for (const group of groups) {
      const rows = plan.filter((p) => p.group === group);
      if (rows.length) await admin.alterConsumerGroupOffsets(group, rows.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.newOffset })));
    }
  }
  if (args.has('json')) io.stdout(toJson({ executed: execute, plan }));
  else if (args.has('export')) io.stdout(plan.map((p) => (args.has('all-groups') ? `${p.group},` : '') + `${p.topic},${p.partition},${p.newOffset}\n`).join(''));
  else {
    if (!execute) io.stderr('Dry run: nothing was changed. Repeat with --execute to apply this plan.\n');
    io.stdout('\n' + renderTable(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], plan.map((p) => [p.group, p.topic, p.partition, p.newOffset])));
  }
  return ExitCode.ok;
}

async function deleteOffsets(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const group = args.list('group')[0];
  const scopes = topicScopes(args.list('topic'));
  if (scopes.length === 0) throw new UsageError('--delete-offsets needs --topic <topic[:p,p]>');
  await describeOne(admin, group);
  const rows: Array<{ topic: string; partition: number; status: string }> = [];
  let failed = false;
  for (const scope of scopes) {
    const committed = (await admin.listConsumerGroupOffsets(group)).filter((c) => c.topic === scope.topic);
    const partitions = scope.partitions ?? committed.map((c) => c.partition);
    if (partitions.length === 0) throw new ToolError(`group '${group}' has no committed offsets for topic ${scope.topic}`, ExitCode.failed);
    try {
      await admin.deleteConsumerGroupOffsets(group, scope.topic, partitions);
      rows.push(...partitions.map((partition) => ({ topic: scope.topic, partition, status: 'Successful' })));
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      failed = true;
      const why = err.errorName === 'GROUP_SUBSCRIBED_TO_TOPIC' ? 'the group is still consuming this topic' : err.message;
      rows.push(...partitions.map((partition) => ({ topic: scope.topic, partition, status: `Error: ${why}` })));
    }
  }
  if (args.has('json')) io.stdout(toJson({ group, results: rows }));
  else {
    io.stdout(failed ? `Request failed for deleting offsets of group ${group}\n` : `Request succeed for deleting offsets with topic ${scopes.map((s) => s.topic).join(', ')} group ${group}\n`);
    io.stdout('\n' + renderTable(['TOPIC', 'PARTITION', 'STATUS'], rows.map((r) => [r.topic, r.partition, r.status])));
  }
  return failed ? ExitCode.failed : ExitCode.ok;
}
