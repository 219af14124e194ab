/**
 * `sluice cluster up | status | down`: a whole local cluster (etcd and N brokers) in one command,
 * in the foreground with every process's log prefixed, or detached in the background. What
 * docker-compose files do for Kafka, without Docker.
 */
import { etcdMemberHealth, type EtcdMemberHealth } from '../cluster/etcd-health.js';
import { applyThrottle, clearThrottles, planThrottle } from '../cluster/replication-throttle.js';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Admin } from '@sluice/client';
import type { ParsedArgs } from '../tool/args.js';
import { helpOption, jsonOption, type Tool } from '../tool/command.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { renderTable, toJson } from '../tool/table.js';
import { alive, etcdMember, planLayout, readLayout, signalGroup, spawnBroker, waitForExit, writeLayout, type ClusterLayout } from '../cluster/local-cluster.js';
import { EtcdNotInstalledError } from '../cluster/etcd-server.js';
import { loadOf, planRebalance, planRemoveBroker, type BrokerLoad, type PlanBroker, type PlannedPartition } from '../cluster/plan.js';
import { reassignmentJson } from './reassign-partitions.js';
import { ErrorCode, errorForCode } from '@sluice/protocol';
import { setTimeout as sleep } from 'node:timers/promises';

const ACTIONS = ['up', 'status', 'down', 'rebalance', 'remove-broker'] as const;
type Action = (typeof ACTIONS)[number];

export const clusterTool: Tool = {
  name: 'cluster',
  summary: 'run a local cluster (up, status, down); even out or empty brokers (rebalance, remove-broker)',
  usage:
    'sluice cluster up [--brokers N] [--dir DIR] [--port PORT] [--etcd URL] [--detach]\n       sluice cluster status [--dir DIR] [--json]\n       sluice cluster down [--dir DIR]\n' +
    '       sluice cluster rebalance [--dry-run] [--throttle B/S] (--bootstrap-server H:P | --dir DIR)\n       sluice cluster remove-broker N [--dry-run] [--throttle B/S] (--bootstrap-server H:P | --dir DIR)',
  description:
    'up starts a local etcd (the `etcd` binary of the Debian package etcd-server, unless --etcd names an existing one) and brokers with node ids 1..N on consecutive ports from --port, each with its data under --dir; it prints the bootstrap servers and streams every process\'s log with a prefix until Ctrl-C, which stops them all cleanly. --detach leaves them running in the background (logs in DIR/logs). Running up again on the same directory restarts the same cluster with its data (and adds brokers if --brokers grew). status shows the processes, brokers, controller and leaders; down stops a detached cluster. rebalance evens replicas, then preferred leaders, over the brokers (a new broker gets its share), moving the smallest partitions so little data moves; remove-broker N moves every replica off broker N so it can be stopped. Both show a before/after table, run the reassignment with progress, then elect preferred leaders; --dry-run only shows the plan (and its reassignment JSON).',
  positionals: true,
  options: [
    { name: 'brokers', kind: 'value', arg: '<n>', help: 'Number of brokers.', defaultText: '3' },
    { name: 'dir', kind: 'value', arg: '<dir>', help: 'Directory holding the cluster\'s data, layout and logs.', defaultText: './cluster' },
    { name: 'port', kind: 'value', arg: '<port>', help: 'Port of broker 1; broker N listens on port+N-1.', defaultText: '9092' },
    { name: 'host', kind: 'value', arg: '<host>', help: 'Host the brokers listen on and advertise.', defaultText: '127.0.0.1' },
    { name: 'etcd', kind: 'value', arg: '<url[,url]>', help: 'Use this existing etcd instead of starting one.' },
    { name: 'override', kind: 'list', arg: '<key=value>', help: 'A broker config for every broker.' },
    { name: 'detach', kind: 'flag', help: 'Start in the background and return once every broker listens.' },
    { name: 'bootstrap-server', kind: 'value', arg: '<host:port>', help: 'rebalance, remove-broker: the cluster (default: the one in --dir).' },
    { name: 'dry-run', kind: 'flag', help: 'rebalance, remove-broker: show the plan, change nothing.' },
    { name: 'throttle', kind: 'value', arg: '<bytes/s>', help: 'rebalance, remove-broker: limit the copy\'s replication traffic to this rate (removed when the moves are done).' },
    jsonOption,
    helpOption,
  ],
  async run(args, io) {
    const action = args.positionals[0] as Action | undefined;
    if (!action || !ACTIONS.includes(action)) throw new UsageError(action ? `unknown action "${action}"` : 'missing action', `one of: ${ACTIONS.join(', ')}`);
    const dir = resolve(args.value('dir') ?? './cluster');
    if (action === 'remove-broker') {
      const id = args.positionals[1];
      if (!id || !/^\d+$/.test(id)) throw new UsageError('remove-broker needs the broker id, e.g. sluice cluster remove-broker 4');
      if (args.positionals.length > 2) throw new UsageError(`unexpected argument "${args.positionals[2]}"`);
      return moveReplicas(args, io, dir, Number(id));
    }
    if (args.positionals.length > 1) throw new UsageError(`unexpected argument "${args.positionals[1]}"`);
    if (action === 'up') return up(args, io, dir);
    if (action === 'status') return status(args, io, dir);
    if (action === 'rebalance') return moveReplicas(args, io, dir, null);
    return down(io, dir);
  },
};

function parseOverrides(args: ParsedArgs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of args.list('override')) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new UsageError(`--override takes key=value, not "${o}"`);
    out[o.slice(0, eq).trim()] = o.slice(eq + 1);
  }
  return out;
}

function runningPids(layout: ClusterLayout): Array<[string, number]> {
  return Object.entries(layout.pids).filter(([, pid]) => alive(pid));
}

async function up(args: ParsedArgs, io: ToolIo, dir: string): Promise<number> {
  const brokers = args.int('brokers', { min: 1, max: 64 }) ?? readLayout(dir)?.brokers.length ?? 3;
  const port = args.int('port', { min: 1, max: 65535 }) ?? 9092;
  const existing = readLayout(dir);
  if (existing && runningPids(existing).length) {
    throw new ToolError(`the cluster in ${dir} is already running (${runningPids(existing).map(([n, p]) => `${n} pid ${p}`).join(', ')})`, ExitCode.refused, `sluice cluster status --dir ${dir}, or sluice cluster down --dir ${dir}`);
  }
  if (existing && args.has('etcd') && args.value('etcd') !== existing.etcdEndpoints && existing.etcd === null) {
    throw new UsageError(`the cluster in ${dir} uses etcd ${existing.etcdEndpoints}, not ${args.value('etcd')}`);
  }
  let layout: ClusterLayout;
  try {
    layout = await planLayout({ dir, brokers, port, host: args.value('host') ?? '127.0.0.1', etcd: args.value('etcd') ?? null, overrides: parseOverrides(args) });
  } catch (err) {
    throw new ToolError((err as Error).message, ExitCode.failed);
  }
  mkdirSync(dir, { recursive: true });
  const detach = args.has('detach');
  const logs = join(dir, 'logs');
  if (detach) mkdirSync(logs, { recursive: true });
  const print = (name: string) => (line: string) => io.stdout(`[${name}] ${line}\n`);

  let etcd;
  try {
    etcd = etcdMember(layout, detach ? undefined : print('etcd'));
  } catch (err) {
    if (err instanceof EtcdNotInstalledError) throw new ToolError(err.message, ExitCode.failed, 'apt-get install etcd-server');
    throw err;
  }
  layout.pids = {};
  if (etcd) {
    etcd.start(detach ? join(logs, 'etcd.log') : undefined);
    layout.pids.etcd = etcd.child!.pid!;
    writeLayout(dir, layout);
    await etcd.ready();
  } else {
    writeLayout(dir, layout);
  }

  const children = layout.brokers.map((b) => {
    const name = `broker-${b.nodeId}`;
    const logFile = detach ? join(logs, `${name}.log`) : undefined;
    const offset = logFile ? fileSize(logFile) : 0;
    let ready = false;
    const child = spawnBroker(layout, b, {
      logFile,
      onLine: (line) => {
        if (/listening on /.test(line)) ready = true;
        print(name)(line);
      },
    });
    layout.pids[name] = child.pid!;
    return { name, broker: b, child, isReady: () => ready || (logFile !== undefined && /listening on /.test(readFrom(logFile, offset))) };
  });
  writeLayout(dir, layout);

  const stopAll = async () => {
    for (const c of children) signalGroup(c.child.pid!, 'SIGTERM');
    await waitForExit(children.map((c) => c.child.pid!), 30_000);
    await etcd?.stop();
    layout.pids = {};
    writeLayout(dir, layout);
  };

  const deadline = Date.now() + 60_000;
  while (!children.every((c) => c.isReady())) {
    const dead = children.find((c) => !alive(c.child.pid));
    if (dead || Date.now() > deadline) {
      await stopAll();
      const why = dead ? `${dead.name} exited during start-up` : 'brokers did not start within 60 s';
      throw new ToolError(why, ExitCode.failed, detach ? `see ${join(logs, `${dead?.name ?? 'broker-1'}.log`)}` : undefined);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const bootstrap = layout.brokers.map((b) => `${layout.host}:${b.port}`).join(',');
  io.stdout(`cluster of ${layout.brokers.length} broker(s) up in ${dir}\nbootstrap servers: ${bootstrap}\netcd: ${layout.etcdEndpoints}\n`);
  if (detach) {
    io.stdout(`running in the background; logs in ${logs}; stop with: sluice cluster down --dir ${dir}\n`);
    return ExitCode.ok;
  }
  io.stdout('Ctrl-C stops the cluster\n');
  await Promise.race([io.interrupted(), Promise.all(children.map((c) => new Promise((r) => c.child.once('exit', r))))]);
  io.stdout('stopping the cluster\n');
  await stopAll();
  return ExitCode.ok;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readFrom(path: string, offset: number): string {
  try {
    return readFileSync(path).subarray(offset).toString();
  } catch {
    return '';
  }
}

interface StatusReport {
  dir: string;
  /** healthy: every member is. */
  etcd: { endpoints: string; healthy: boolean; members: EtcdMemberHealth[] };
  processes: Array<{ name: string; pid: number | null; running: boolean; address: string | null }>;
  clusterId: string | null;
  controller: number | null;
  brokers: Array<{ nodeId: number; host: string; port: number; rack: string | null; partitions: number; leaders: number }>;
}

async function status(args: ParsedArgs, io: ToolIo, dir: string): Promise<number> {
  const layout = readLayout(dir);
  if (!layout) throw new ToolError(`no cluster in ${dir}`, ExitCode.failed, `start one with: sluice cluster up --dir ${dir}`);
  const members = await etcdMemberHealth(layout.etcdEndpoints.split(','));
  const report: StatusReport = {
    dir,
    etcd: { endpoints: layout.etcdEndpoints, healthy: members.length > 0 && members.every((m) => m.healthy), members },
    processes: [
      ...(layout.etcd ? [{ name: 'etcd', pid: layout.pids.etcd ?? null, running: alive(layout.pids.etcd), address: `127.0.0.1:${layout.etcd.clientPort}` }] : []),
      ...layout.brokers.map((b) => ({ name: `broker-${b.nodeId}`, pid: layout.pids[`broker-${b.nodeId}`] ?? null, running: alive(layout.pids[`broker-${b.nodeId}`]), address: `${layout.host}:${b.port}` })),
    ],
    clusterId: null,
    controller: null,
    brokers: [],
  };
  const bootstrap = layout.brokers.map((b) => `${layout.host}:${b.port}`);
  const admin = new Admin({ brokers: bootstrap, retry: { retries: 1 }, requestTimeoutMs: 3000 });
  try {
    const cluster = await admin.describeCluster();
    report.clusterId = cluster.clusterId;
    report.controller = cluster.controllerId;
    const topics = await admin.describeTopics(await admin.listTopics({ includeInternal: true }));
    report.brokers = cluster.brokers
      .sort((a, b) => a.nodeId - b.nodeId)
      .map((b) => {
        const parts = topics.flatMap((t) => t.partitions);
        return { ...b, partitions: parts.filter((p) => p.replicas.includes(b.nodeId)).length, leaders: parts.filter((p) => p.leader === b.nodeId).length };
      });
  } catch {
    // No broker answers: the process table says why.
  } finally {
    admin.close();
  }
  if (args.has('json')) {
    io.stdout(toJson(report));
    return ExitCode.ok;
  }
  io.stdout(`cluster in ${dir}: ${report.clusterId ? `cluster id ${report.clusterId}, controller ${report.controller}` : 'no broker answers'}\n`);
  io.stdout(`etcd ${report.etcd.endpoints}: ${report.etcd.healthy ? 'healthy' : 'NOT healthy'}\n`);
  io.stdout(
    renderTable(
      ['ETCD MEMBER', 'ID', 'ENDPOINT', 'HEALTH', 'LEADER', 'VERSION', 'DB SIZE', 'RAFT TERM', 'RAFT INDEX', 'ERRORS'],
      report.etcd.members.map((m) => [m.name, m.id, m.endpoint, m.healthy ? 'healthy' : 'UNHEALTHY', m.leader ? 'yes' : m.isLearner ? 'learner' : '', m.version, m.dbSizeBytes, m.raftTerm, m.raftIndex, m.errors.join('; ')]),
    ) + '\n',
  );
  io.stdout(renderTable(['PROCESS', 'PID', 'STATE', 'ADDRESS'], report.processes.map((p) => [p.name, p.pid, p.running ? 'running' : 'stopped', p.address])));
  if (report.brokers.length) {
    io.stdout('\n' + renderTable(['BROKER', 'ADDRESS', 'RACK', 'REPLICAS', 'LEADERS', 'CONTROLLER'], report.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`, b.rack, b.partitions, b.leaders, b.nodeId === report.controller ? 'yes' : ''])));
  }
  return ExitCode.ok;
}

async function down(io: ToolIo, dir: string): Promise<number> {
  const layout = readLayout(dir);
  if (!layout) throw new ToolError(`no cluster in ${dir}`, ExitCode.failed);
  const brokers = Object.entries(layout.pids).filter(([name, pid]) => name !== 'etcd' && alive(pid));
  for (const [, pid] of brokers) signalGroup(pid, 'SIGTERM');
  const killed = await waitForExit(brokers.map(([, pid]) => pid), 30_000);
  if (layout.pids.etcd && alive(layout.pids.etcd)) {
    signalGroup(layout.pids.etcd, 'SIGTERM');
    killed.push(...(await waitForExit([layout.pids.etcd], 10_000)));
  }
  layout.pids = {};
  writeLayout(dir, layout);
  io.stdout(`stopped ${brokers.length} broker(s)${layout.etcd ? ' and etcd' : ''}${killed.length ? ` (${killed.length} needed SIGKILL)` : ''}\n`);
  return ExitCode.ok;
}

function clusterBootstrap(args: ParsedArgs, io: ToolIo, dir: string): string[] {
  const given = args.value('bootstrap-server') ?? io.env.SLUICE_BOOTSTRAP_SERVER;
  if (given) return given.split(',').map((x) => x.trim()).filter(Boolean);
  const layout = readLayout(dir);
  if (!layout) throw new UsageError('missing --bootstrap-server (and no local cluster in --dir)', 'e.g. --bootstrap-server localhost:9092');
  return layout.brokers.map((b) => `${layout.host}:${b.port}`);
}

async function snapshot(admin: Admin): Promise<{ brokers: PlanBroker[]; partitions: PlannedPartition[] }> {
  const cluster = await admin.describeCluster();
  const topics = await admin.describeTopics(await admin.listTopics({ includeInternal: true }));
  const sizes = new Map<string, number>();
  for (const d of await admin.describeLogDirs(cluster.brokers.map((b) => b.nodeId))) for (const p of d.partitions) sizes.set(`${d.broker}/${p.topic}-${p.partition}`, Number(p.size));
  const partitions = topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, replicas: p.replicas, bytes: sizes.get(`${p.leader}/${t.name}-${p.partition}`) ?? 0 })));
  return { brokers: cluster.brokers.map((b) => ({ nodeId: b.nodeId, rack: b.rack })), partitions };
}

function loadTable(before: BrokerLoad[], after: BrokerLoad[]): string {
  const mbs = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return renderTable(
    ['BROKER', 'REPLICAS', 'PREFERRED LEADERS', 'BYTES'],
    before.map((b) => {
      const a = after.find((x) => x.nodeId === b.nodeId) ?? { replicas: 0, leaders: 0, bytes: 0 };
      return [b.nodeId, `${b.replicas} -> ${a.replicas}`, `${b.leaders} -> ${a.leaders}`, `${mbs(b.bytes)} -> ${mbs(a.bytes)}`];
    }),
  );
}

/** rebalance (leaving = null) or remove-broker: plan, show, run the reassignment with progress, elect preferred leaders. */
async function moveReplicas(args: ParsedArgs, io: ToolIo, dir: string, leaving: number | null): Promise<number> {
  const throttle = args.int('throttle', { min: 1 }) ?? null;
  const admin = new Admin({ brokers: clusterBootstrap(args, io, dir) });
  try {
    await admin.connect();
    const { brokers, partitions } = await snapshot(admin);
    if (leaving !== null && !brokers.some((b) => b.nodeId === leaving)) throw new ToolError(`broker ${leaving} is not in the cluster (live: ${brokers.map((b) => b.nodeId).join(',')})`, ExitCode.failed);
    let moves: PlannedPartition[];
    try {
      moves = leaving === null ? planRebalance(partitions, brokers) : planRemoveBroker(partitions, brokers, leaving);
    } catch (err) {
      throw new ToolError((err as Error).message, ExitCode.refused, 'add brokers or lower the replication factor first; nothing was changed');
    }
    const after = partitions.map((p) => moves.find((m) => m.topic === p.topic && m.partition === p.partition) ?? p);
    const bytesMoved = moves.reduce((n, m) => n + m.bytes * m.replicas.filter((id) => !partitions.find((p) => p.topic === m.topic && p.partition === m.partition)!.replicas.includes(id)).length, 0);
    if (args.has('json') && args.has('dry-run')) {
      io.stdout(toJson({ moves: moves.map(({ topic, partition, replicas }) => ({ topic, partition, replicas })), before: loadOf(partitions, brokers), after: loadOf(after, brokers), bytesToCopy: bytesMoved }));
      return ExitCode.ok;
    }
    io.stdout(loadTable(loadOf(partitions, brokers), loadOf(after, brokers)));
    io.stdout(`${moves.length} partition(s) to change, ${(bytesMoved / 1e6).toFixed(1)} MB to copy\n`);
    if (!moves.length) return ExitCode.ok;
    if (args.has('dry-run')) {
      io.stdout(`reassignment (for sluice reassign-partitions --execute):\n${reassignmentJson(moves)}\n`);
      return ExitCode.ok;
    }
    const throttlePlan = throttle === null ? null : planThrottle(moves.map((m) => ({ topic: m.topic, partition: m.partition, target: m.replicas, current: partitions.find((p) => p.topic === m.topic && p.partition === m.partition)!.replicas })));
    if (throttlePlan !== null) {
      await applyThrottle(admin, throttlePlan, throttle!);
      io.stdout(`replication throttled to ${throttle} B/s on brokers ${throttlePlan.brokers.join(',')} until the moves are done\n`);
    }
    const results = await admin.alterPartitionReassignments(moves.map(({ topic, partition, replicas }) => ({ topic, partition, replicas })));
    const failed = results.filter((r) => r.errorCode !== ErrorCode.NONE);
    for (const r of failed) io.stderr(`cannot move ${r.topic}-${r.partition}: ${errorForCode(r.errorCode).name}: ${r.errorMessage ?? ''}\n`);
    const ours = new Set(results.filter((r) => r.errorCode === ErrorCode.NONE).map((r) => `${r.topic}-${r.partition}`));
    const started = Date.now();
    const interrupted = io.interrupted().then(() => true);
    for (;;) {
      const pending = (await admin.listPartitionReassignments(null)).filter((r) => ours.has(`${r.topic}-${r.partition}`));
      io.stderr(`${ours.size - pending.length} of ${ours.size} partition(s) moved (${((Date.now() - started) / 1000).toFixed(0)} s)${io.stderrIsTTY ? '\r' : '\n'}`);
      if (!pending.length) break;
      if (await Promise.race([interrupted, sleep(2000).then(() => false)])) {
        io.stderr(`\ninterrupted: the reassignment goes on in the cluster; see sluice reassign-partitions --list, or --cancel it${throttlePlan ? '; the throttle stays until sluice reassign-partitions --verify sees it done' : ''}\n`);
        return ExitCode.failed;
      }
    }
    if (io.stderrIsTTY) io.stderr('\n');
    if (throttlePlan !== null) await clearThrottles(admin, throttlePlan.brokers, [...throttlePlan.topics.keys()]);
    await admin.electLeaders('preferred', moves.map(({ topic, partition }) => ({ topic, partition })));
    const now = await snapshot(admin);
    io.stdout(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    io.stdout(loadTable(loadOf(partitions, brokers), loadOf(now.partitions, brokers)));
    if (leaving !== null) io.stdout(`broker ${leaving} holds ${now.partitions.filter((p) => p.replicas.includes(leaving)).length} replica(s); it can be stopped\n`);
    return failed.length ? ExitCode.failed : ExitCode.ok;
  } finally {
    admin.close();
  }
}
