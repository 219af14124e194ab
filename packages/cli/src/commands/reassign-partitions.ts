/**
 * `sluice reassign-partitions` (kafka-reassign-partitions.sh) with Kafka's flags and JSON files:
 * --generate proposes a (rack-aware) assignment of topics over a broker list, --execute starts
 * one (printing the current assignment to roll back to), --verify reports each partition — with
 * the bytes the new replicas have copied, the rate and an ETA, which Kafka's tool does not show —
 * --cancel stops one, --list shows those under way. --execute --throttle limits the copy's
 * replication traffic; --verify removes the throttle once every move has finished, as Kafka's tool does.
 */
import { isAbsolute } from 'node:path';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { assignReplicas } from '@sluice/broker';
import type { Admin } from '@sluice/client';
import { ErrorCode, errorForCode } from '@sluice/protocol';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { renderTable, toJson } from '../tool/table.js';
import { applyThrottle, clearThrottles, planThrottle } from '../cluster/replication-throttle.js';

const MODES = ['generate', 'execute', 'verify', 'cancel', 'list'] as const;

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'generate', kind: 'flag', help: 'Propose an assignment of --topics-to-move-json-file over --broker-list (nothing is changed).' },
  { name: 'execute', kind: 'flag', help: 'Start the reassignment of --reassignment-json-file.' },
  { name: 'verify', kind: 'flag', help: 'Report whether each partition of --reassignment-json-file has finished, with copy progress.' },
  { name: 'cancel', kind: 'flag', help: 'Cancel the reassignments of --reassignment-json-file (partitions return to their original replicas).' },
  { name: 'list', kind: 'flag', help: 'List the reassignments under way.' },
  { name: 'topics-to-move-json-file', kind: 'value', arg: '<file>', help: 'With --generate: {"topics":[{"topic":"t"}],"version":1}' },
  { name: 'broker-list', kind: 'value', arg: '<1,2,3>', help: 'With --generate: the brokers to place replicas on.' },
  { name: 'reassignment-json-file', kind: 'value', arg: '<file>', help: '{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2]}]}' },
  { name: 'disable-rack-aware', kind: 'flag', help: 'With --generate: ignore the brokers\' racks.' },
  { name: 'throttle', kind: 'value', arg: '<bytes/s>', help: 'With --execute: limit the replication traffic of the moving replicas to this rate (set on every broker involved; --verify removes it once the moves are done).' },
  { name: 'replica-alter-log-dirs-throttle', kind: 'value', arg: '<bytes/s>', help: "With --execute: limit the copy of replicas moving between a broker's log directories (log_dirs) to this rate (replica.alter.log.dirs.io.max.bytes.per.second on those brokers; --verify removes it once the moves are done)." },
  { name: 'timeout', kind: 'value', arg: '<ms>', help: 'How long the brokers may take to start the reassignment.', defaultText: '10000' },
  jsonOption,
  helpOption,
];

// --broker-list doubles as an alias of --bootstrap-server in other tools; here it is Kafka's --generate flag.
const bootstrapWithoutBrokerList: OptionSpec = { ...bootstrapOption, aliases: (bootstrapOption.aliases ?? []).filter((a) => a !== 'broker-list') };

export const reassignPartitionsTool: Tool = {
  name: 'reassign-partitions',
  summary: 'move partition replicas between brokers (kafka-reassign-partitions.sh)',
  usage: 'sluice reassign-partitions --bootstrap-server <host:port> (--generate --topics-to-move-json-file F --broker-list 1,2 | --execute|--verify|--cancel --reassignment-json-file F | --list)',
  description: 'Moves replicas between brokers the way kafka-reassign-partitions.sh does, with the same JSON files. Raising a replication factor is a reassignment to a longer replica list.',
  options: options.map((o) => (o.name === 'bootstrap-server' ? bootstrapWithoutBrokerList : o)),
  run: runReassign,
};

export interface PartitionMove {
  topic: string;
  partition: number;
  replicas: number[];
  /** Kafka's log_dirs: per replica, the absolute log directory it should be in, or 'any'. */
  logDirs?: string[];
}

async function readJson(file: string, option: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --${option} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export function parseReassignmentJson(doc: unknown, file: string): PartitionMove[] {
  const partitions = (doc as { partitions?: unknown } | null)?.partitions;
  if (!Array.isArray(partitions) || partitions.length === 0) throw new UsageError(`${file} needs a non-empty "partitions" array`);
  const seen = new Set<string>();
  return partitions.map((p: unknown, i) => {
    const { topic, partition, replicas, log_dirs: logDirs } = (p ?? {}) as { topic?: unknown; partition?: unknown; replicas?: unknown; log_dirs?: unknown };
    if (typeof topic !== 'string' || !topic) throw new UsageError(`${file}: partitions[${i}] needs a "topic" string`);
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) throw new UsageError(`${file}: partitions[${i}] needs a "partition" number`);
    if (!Array.isArray(replicas) || replicas.length === 0 || !replicas.every((r) => Number.isInteger(r) && r >= 0)) {
      throw new UsageError(`${file}: partitions[${i}] needs a non-empty "replicas" array of broker ids`);
    }
    if (new Set(replicas).size !== replicas.length) throw new UsageError(`${file}: ${topic}-${partition} lists a broker twice in its replicas`);
    if (logDirs !== undefined && (!Array.isArray(logDirs) || logDirs.length !== replicas.length)) {
      throw new UsageError(`${file}: ${topic}-${partition} has ${Array.isArray(logDirs) ? logDirs.length : 'no'} log_dirs for ${replicas.length} replicas`);
    }
    if (Array.isArray(logDirs) && logDirs.some((d) => typeof d !== 'string' || (d !== 'any' && !isAbsolute(d)))) {
      throw new UsageError(`${file}: ${topic}-${partition}: each of log_dirs must be "any" or an absolute path`);
    }
    if (seen.has(`${topic}-${partition}`)) throw new UsageError(`${file}: ${topic}-${partition} is listed twice`);
    seen.add(`${topic}-${partition}`);
    const dirs = Array.isArray(logDirs) && logDirs.some((d) => d !== 'any') ? (logDirs as string[]) : undefined;
    return { topic, partition, replicas: replicas as number[], ...(dirs ? { logDirs: dirs } : {}) };
  });
}

/** Kafka's reassignment JSON. */
export function reassignmentJson(moves: readonly PartitionMove[]): string {
  return JSON.stringify({ version: 1, partitions: moves.map((m) => ({ topic: m.topic, partition: m.partition, replicas: m.replicas, log_dirs: m.logDirs ?? m.replicas.map(() => 'any') })) });
}

async function runReassign(args: ParsedArgs, io: ToolIo): Promise<number> {
  const modes = MODES.filter((m) => args.has(m));
  if (modes.length !== 1) throw new UsageError('exactly one of --generate, --execute, --verify, --cancel and --list is required');
  const mode = modes[0];
  if (mode === 'generate') {
    if (!args.has('topics-to-move-json-file') || !args.has('broker-list')) throw new UsageError('--generate needs --topics-to-move-json-file and --broker-list');
    const doc = (await readJson(args.value('topics-to-move-json-file')!, 'topics-to-move-json-file')) as { topics?: unknown } | null;
    const topics = doc?.topics;
    if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof (t as { topic?: unknown })?.topic === 'string')) {
      throw new UsageError(`${args.value('topics-to-move-json-file')} needs a non-empty "topics" array of {"topic": "name"}`);
    }
    const brokerList = args.value('broker-list')!.split(',').map((s) => s.trim());
    if (!brokerList.every((b) => /^\d+$/.test(b))) throw new UsageError(`--broker-list must be comma-separated broker ids, not "${args.value('broker-list')}"`);
    return withAdmin(args, io, (admin) => generate(admin, io, args, topics.map((t) => (t as { topic: string }).topic), brokerList.map(Number)));
  }
  if (mode === 'list') return withAdmin(args, io, (admin) => list(admin, io, args));
  const file = args.value('reassignment-json-file');
  if (!file) throw new UsageError(`--${mode} needs --reassignment-json-file`);
  const moves = parseReassignmentJson(await readJson(file, 'reassignment-json-file'), file);
  const timeoutMs = args.int('timeout', { min: 1 }) ?? 10_000;
  if (args.has('throttle') && mode !== 'execute') throw new UsageError('--throttle goes with --execute');
  if (args.has('replica-alter-log-dirs-throttle') && mode !== 'execute') throw new UsageError('--replica-alter-log-dirs-throttle goes with --execute');
  const throttle = args.int('throttle', { min: 1 }) ?? null;
  const dirThrottle = args.int('replica-alter-log-dirs-throttle', { min: 1 }) ?? null;
  return withAdmin(args, io, async (admin) => {
    if (mode === 'execute') return execute(admin, io, args, moves, timeoutMs, throttle, dirThrottle);
    if (mode === 'cancel') return cancel(admin, io, args, moves, timeoutMs);
    return verify(admin, io, args, moves);
  });
}

async function currentAssignment(admin: Admin, topics: string[]): Promise<PartitionMove[]> {
  const known = new Set(await admin.listTopics({ includeInternal: true }));
  const missing = topics.filter((t) => !known.has(t));
  if (missing.length) throw new ToolError(`Topic(s) ${[...new Set(missing)].join(', ')} do not exist`, ExitCode.failed, 'list the topics with `sluice topics --list`');
  const described = await admin.describeTopics([...new Set(topics)]);
  return described.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, replicas: p.replicas }))).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

async function generate(admin: Admin, io: ToolIo, args: ParsedArgs, topics: string[], brokerIds: number[]): Promise<number> {
  const cluster = await admin.describeCluster();
  const unknown = brokerIds.filter((id) => !cluster.brokers.some((b) => b.nodeId === id));
  if (unknown.length) throw new ToolError(`broker(s) ${unknown.join(',')} are not in the cluster (live: ${cluster.brokers.map((b) => b.nodeId).join(',')})`, ExitCode.failed);
  const current = await currentAssignment(admin, topics);
  const rackAware = !args.has('disable-rack-aware');
  const placement = brokerIds.map((nodeId) => ({ nodeId, rack: rackAware ? (cluster.brokers.find((b) => b.nodeId === nodeId)?.rack ?? null) : null }));
  const proposed: PartitionMove[] = [];
  for (const topic of [...new Set(current.map((m) => m.topic))]) {
    const parts = current.filter((m) => m.topic === topic);
    const rf = parts[0].replicas.length;
    if (rf > brokerIds.length) throw new ToolError(`${topic} has replication factor ${rf}, more than the ${brokerIds.length} broker(s) in --broker-list`, ExitCode.failed);
    const placed = assignReplicas(placement, parts.length, rf);
    parts.forEach((p, i) => proposed.push({ topic, partition: p.partition, replicas: placed[i] }));
  }
  if (args.has('json')) io.stdout(toJson({ current: JSON.parse(reassignmentJson(current)), proposed: JSON.parse(reassignmentJson(proposed)) }));
  else io.stdout(`Current partition replica assignment\n${reassignmentJson(current)}\n\nProposed partition reassignment configuration\n${reassignmentJson(proposed)}\n`);
  return ExitCode.ok;
}

async function execute(admin: Admin, io: ToolIo, args: ParsedArgs, moves: PartitionMove[], timeoutMs: number, throttle: number | null, dirThrottle: number | null): Promise<number> {
  const cluster = await admin.describeCluster();
  const live = new Set(cluster.brokers.map((b) => b.nodeId));
  const unknownBrokers = [...new Set(moves.flatMap((m) => m.replicas).filter((id) => !live.has(id)))];
  if (unknownBrokers.length) throw new ToolError(`broker(s) ${unknownBrokers.join(',')} are not in the cluster (live: ${[...live].join(',')})`, ExitCode.failed, 'nothing was changed');
  const current = await currentAssignment(admin, moves.map((m) => m.topic));
  const missing = moves.filter((m) => !current.some((c) => c.topic === m.topic && c.partition === m.partition));
  if (missing.length) throw new ToolError(`partition(s) ${missing.map((m) => `${m.topic}-${m.partition}`).join(', ')} do not exist`, ExitCode.failed, 'nothing was changed');
  const rollback = current.filter((c) => moves.some((m) => m.topic === c.topic && m.partition === c.partition));
  // The throttle goes on before the copy starts, so not a byte moves unthrottled.
  if (throttle !== null) {
    const plan = planThrottle(moves.map((m) => ({ topic: m.topic, partition: m.partition, target: m.replicas, current: rollback.find((c) => c.topic === m.topic && c.partition === m.partition)!.replicas })));
    await applyThrottle(admin, plan, throttle);
    if (!args.has('json')) {
      io.stdout(`Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.\n`);
      io.stdout(`The inter-broker throttle limit was set to ${throttle} B/s on brokers ${plan.brokers.join(',')}\n`);
    }
  }
  // log_dirs first (AlterReplicaLogDirs to each broker): a replica it already has moves between its
  // directories, one the reassignment adds is created in the asked directory.
  const dirMoves = logDirMoves(moves);
  if (dirThrottle !== null && dirMoves.length) {
    const brokers = [...new Set(dirMoves.map((d) => d.broker))].sort((x, y) => x - y);
    await admin.incrementalAlterConfigs(brokers.map((b) => ({ type: 'broker' as const, name: String(b), changes: [{ name: 'replica.alter.log.dirs.io.max.bytes.per.second', op: 'set' as const, value: String(dirThrottle) }] })));
    if (!args.has('json')) io.stdout(`The replica-alter-dir throttle limit was set to ${dirThrottle} B/s on brokers ${brokers.join(',')}\n`);
  }
  const dirResults = dirMoves.length ? await admin.alterReplicaLogDirs(dirMoves) : [];
  const dirFailures = dirResults.filter((r) => r.errorCode !== ErrorCode.NONE);
  for (const r of dirFailures) io.stderr(`Error moving ${r.topic}-${r.partition} on broker ${r.broker} to ${r.dir}: ${errorForCode(r.errorCode).name}\n`);
  const results = await admin.alterPartitionReassignments(moves, { timeoutMs });
  const failed = results.filter((r) => r.errorCode !== ErrorCode.NONE);
  if (args.has('json')) {
    io.stdout(toJson({ rollback: JSON.parse(reassignmentJson(rollback)), throttle, results: results.map((r) => ({ ...r, error: r.errorCode ? errorForCode(r.errorCode).name : null })), logDirs: dirResults.map((r) => ({ ...r, error: r.errorCode ? errorForCode(r.errorCode).name : null })) }));
  } else {
    io.stdout(`Current partition replica assignment\n\n${reassignmentJson(rollback)}\n\nSave this to use as the --reassignment-json-file option during rollback\n`);
    const ok = results.filter((r) => r.errorCode === ErrorCode.NONE);
    if (ok.length) io.stdout(`Successfully started partition reassignment${ok.length > 1 ? 's' : ''} for ${ok.map((r) => `${r.topic}-${r.partition}`).join(',')}\n`);
    const movedDirs = dirResults.filter((r) => r.errorCode === ErrorCode.NONE);
    if (movedDirs.length) io.stdout(`Successfully started log directory move${movedDirs.length > 1 ? 's' : ''} for: ${movedDirs.map((r) => `${r.topic}-${r.partition}-${r.broker}`).join(',')}\n`);
    for (const r of failed) io.stderr(`Error reassigning ${r.topic}-${r.partition}: ${errorForCode(r.errorCode).name}: ${r.errorMessage ?? ''}\n`);
  }
  return failed.length || dirFailures.length ? ExitCode.failed : ExitCode.ok;
}

/** The replicas log_dirs asks to be in a particular directory ('any' asks nothing). */
function logDirMoves(moves: PartitionMove[]): Array<{ broker: number; topic: string; partition: number; dir: string }> {
  return moves.flatMap((m) => (m.logDirs ?? []).flatMap((dir, i) => (dir === 'any' ? [] : [{ broker: m.replicas[i], topic: m.topic, partition: m.partition, dir }])));
}

/** Each log_dirs move: done when the broker holds the replica in that directory and no future copy of it anywhere. */
async function logDirProgress(admin: Admin, moves: PartitionMove[]): Promise<Array<{ broker: number; topic: string; partition: number; dir: string; done: boolean }>> {
  const wanted = logDirMoves(moves);
  if (!wanted.length) return [];
  const dirs = await admin.describeLogDirs([...new Set(wanted.map((w) => w.broker))]);
  return wanted.map((w) => {
    const held = dirs.filter((d) => d.broker === w.broker).flatMap((d) => d.partitions.filter((p) => p.topic === w.topic && p.partition === w.partition).map((p) => ({ dir: d.logDir, future: p.isFuture })));
    return { ...w, done: held.some((h) => h.dir === w.dir && !h.future) && !held.some((h) => h.future) };
  });
}

async function cancel(admin: Admin, io: ToolIo, args: ParsedArgs, moves: PartitionMove[], timeoutMs: number): Promise<number> {
  const results = await admin.alterPartitionReassignments(moves.map((m) => ({ ...m, replicas: null })), { timeoutMs });
  const cancelled = results.filter((r) => r.errorCode === ErrorCode.NONE);
  const failed = results.filter((r) => r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
  if (args.has('json')) io.stdout(toJson(results.map((r) => ({ ...r, error: r.errorCode ? errorForCode(r.errorCode).name : null }))));
  else {
    io.stdout(cancelled.length ? `Successfully cancelled partition reassignments for: ${cancelled.map((r) => `${r.topic}-${r.partition}`).join(',')}\n` : 'None of the specified partition reassignments are active.\n');
    for (const r of failed) io.stderr(`Error cancelling ${r.topic}-${r.partition}: ${errorForCode(r.errorCode).name}: ${r.errorMessage ?? ''}\n`);
  }
  return failed.length ? ExitCode.failed : ExitCode.ok;
}

interface Progress {
  topic: string;
  partition: number;
  state: 'completed' | 'in progress' | 'failed';
  replicas: number[];
  adding: number[];
  removing: number[];
  /** Bytes the slowest adding replica holds, and the leader's size. */
  copiedBytes: number | null;
  totalBytes: number | null;
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  detail?: string;
}

async function replicaSizes(admin: Admin, brokerIds: number[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (!brokerIds.length) return sizes;
  for (const dir of await admin.describeLogDirs(brokerIds)) {
    for (const p of dir.partitions) sizes.set(`${dir.broker}/${p.topic}-${p.partition}`, Number(p.size));
  }
  return sizes;
}

async function progressOf(admin: Admin, moves: PartitionMove[], sampleMs: number): Promise<Progress[]> {
  const ongoing = new Map((await admin.listPartitionReassignments(null)).map((r) => [`${r.topic}-${r.partition}`, r]));
  const current = await currentAssignment(admin, moves.map((m) => m.topic));
  const topics = await admin.describeTopics([...new Set(moves.map((m) => m.topic))]);
  const leaderOf = (m: PartitionMove) => topics.find((t) => t.name === m.topic)?.partitions.find((p) => p.partition === m.partition)?.leader ?? -1;
  const involved = [...new Set([...ongoing.values()].flatMap((r) => [...r.addingReplicas, ...r.replicas]))];
  const first = await replicaSizes(admin, involved);
  const started = Date.now();
  let second = first;
  if (sampleMs > 0 && ongoing.size) {
    await sleep(sampleMs);
    second = await replicaSizes(admin, involved);
  }
  const elapsed = (Date.now() - started) / 1000;
  return moves.map((m) => {
    const key = `${m.topic}-${m.partition}`;
    const run = ongoing.get(key);
    const now = current.find((c) => c.topic === m.topic && c.partition === m.partition);
    if (!run) {
      const same = now && now.replicas.length === m.replicas.length && now.replicas.every((r, i) => r === m.replicas[i]);
      return { topic: m.topic, partition: m.partition, state: same ? 'completed' : 'failed', replicas: now?.replicas ?? [], adding: [], removing: [], copiedBytes: null, totalBytes: null, bytesPerSecond: null, etaSeconds: null, detail: same ? undefined : `replicas are ${now?.replicas.join(',')}, not ${m.replicas.join(',')}` };
    }
    const total = second.get(`${leaderOf(m)}/${key}`) ?? null;
    const slowest = (sizes: Map<string, number>) => Math.min(...run.addingReplicas.map((id) => sizes.get(`${id}/${key}`) ?? 0));
    const copied = run.addingReplicas.length ? slowest(second) : null;
    const rate = copied !== null && elapsed > 0 && sampleMs > 0 ? Math.max(0, (copied - slowest(first)) / elapsed) : null;
    const eta = rate && total !== null && copied !== null ? Math.max(0, (total - copied) / rate) : null;
    return { topic: m.topic, partition: m.partition, state: 'in progress', replicas: run.replicas, adding: run.addingReplicas, removing: run.removingReplicas, copiedBytes: copied, totalBytes: total, bytesPerSecond: rate, etaSeconds: eta };
  });
}

const mb = (n: number | null) => (n === null ? '-' : `${(n / 1e6).toFixed(1)} MB`);

async function verify(admin: Admin, io: ToolIo, args: ParsedArgs, moves: PartitionMove[]): Promise<number> {
  const progress = await progressOf(admin, moves, args.has('json') ? 0 : 1000);
  const dirs = await logDirProgress(admin, moves);
  // Every move done: the throttles a --execute --throttle set are no longer wanted (Kafka's clearAllThrottles).
  const finished = progress.every((p) => p.state === 'completed') && dirs.every((d) => d.done);
  let cleared: { brokers: number[]; topics: string[] } | null = null;
  if (finished) {
    const brokers = (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort((a, b) => a - b);
    const topics = [...new Set(moves.map((m) => m.topic))];
    await clearThrottles(admin, brokers, topics);
    cleared = { brokers, topics };
  }
  if (args.has('json')) io.stdout(toJson({ partitions: progress, logDirs: dirs, throttlesCleared: cleared }));
  else {
    io.stdout('Status of partition reassignment:\n');
    for (const p of progress) {
      if (p.state === 'completed') io.stdout(`Reassignment of partition ${p.topic}-${p.partition} is completed.\n`);
      else if (p.state === 'failed') io.stdout(`There is no active reassignment of partition ${p.topic}-${p.partition}, but ${p.detail}.\n`);
      else io.stdout(`Reassignment of partition ${p.topic}-${p.partition} is still in progress.\n`);
    }
    if (dirs.length) io.stdout('\nReplica movement status:\n');
    for (const d of dirs) io.stdout(`Reassignment of replica ${d.topic}-${d.partition}-${d.broker} to ${d.dir} ${d.done ? 'is completed' : 'is still in progress'}.\n`);
    if (cleared) {
      io.stdout(`\nClearing broker-level throttles on brokers ${cleared.brokers.join(',')}\n`);
      io.stdout(`Clearing topic-level throttles on topic${cleared.topics.length > 1 ? 's' : ''} ${cleared.topics.join(',')}\n`);
    }
    const running = progress.filter((p) => p.state === 'in progress');
    if (running.length) {
      io.stdout('\n' + renderTable(['PARTITION', 'ADDING', 'REMOVING', 'COPIED', 'OF', 'RATE', 'ETA'], running.map((p) => [
        `${p.topic}-${p.partition}`, p.adding.join(',') || '-', p.removing.join(',') || '-', mb(p.copiedBytes), mb(p.totalBytes),
        p.bytesPerSecond === null ? '-' : `${mb(p.bytesPerSecond)}/s`, p.etaSeconds === null ? '-' : `${Math.ceil(p.etaSeconds)} s`,
      ])));
    }
  }
  return progress.some((p) => p.state === 'failed') ? ExitCode.failed : ExitCode.ok;
}

async function list(admin: Admin, io: ToolIo, args: ParsedArgs): Promise<number> {
  const ongoing = await admin.listPartitionReassignments(null);
  if (args.has('json')) io.stdout(toJson(ongoing));
  else if (!ongoing.length) io.stdout('No partition reassignments found.\n');
  else {
    io.stdout('Current partition reassignments:\n');
    for (const r of ongoing) io.stdout(`${r.topic}-${r.partition}: replicas: ${r.replicas.join(',')}. adding: ${r.addingReplicas.join(',')}. removing: ${r.removingReplicas.join(',')}.\n`);
  }
  return ExitCode.ok;
}
