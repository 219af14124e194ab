/**
 * A local cluster in one directory: an etcd member (unless an existing etcd is given) and N
 * `sluice start` brokers with node ids 1…N on consecutive ports, each with its data under the
 * directory. `cluster.json` remembers the layout (so `up` again restarts the same cluster with its
 * data) and, for a detached cluster, the process ids (so `status` and `down` find them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdMember, EtcdNotInstalledError, findEtcd, type EtcdMemberSpec } from './etcd-server.js';

export const LAYOUT_FILE = 'cluster.json';
const SLUICE_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export interface ClusterLayout {
  version: 1;
  host: string;
  brokers: Array<{ nodeId: number; port: number; dataDir: string }>;
  /** A local etcd member (null when the cluster uses an external etcd). */
  etcd: EtcdMemberSpec | null;
  etcdEndpoints: string;
  overrides: Record<string, string>;
  /** Process ids of a detached cluster: name → pid. */
  pids: Record<string, number>;
}

export function layoutPath(dir: string): string {
  return join(resolve(dir), LAYOUT_FILE);
}

export function readLayout(dir: string): ClusterLayout | null {
  const path = layoutPath(dir);
  if (!existsSync(path)) return null;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as ClusterLayout;
  if (parsed.version !== 1 || !Array.isArray(parsed.brokers)) throw new Error(`${path} is not a sluice cluster layout`);
  return parsed;
}

export function writeLayout(dir: string, layout: ClusterLayout): void {
  const path = layoutPath(dir);
  writeFileSync(`${path}.tmp`, JSON.stringify(layout, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

async function portFree(host: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolvePort) => {
    server.once('error', () => resolvePort(false));
    server.listen(port, host, () => server.close(() => resolvePort(true)));
  });
}

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface PlanOptions {
  dir: string;
  brokers: number;
  port: number;
  host: string;
  etcd: string | null;
  overrides: Record<string, string>;
}

/** The layout for `up`: the directory's own when it has one (grown to --brokers), else a new one. */
export async function planLayout(options: PlanOptions): Promise<ClusterLayout> {
  const dir = resolve(options.dir);
  const existing = readLayout(dir);
  if (existing) {
    for (let id = existing.brokers.length + 1; id <= options.brokers; id++) {
      existing.brokers.push({ nodeId: id, port: existing.brokers[existing.brokers.length - 1].port + 1, dataDir: join(dir, `broker-${id}`) });
    }
    existing.overrides = { ...existing.overrides, ...options.overrides };
    return existing;
  }
  const brokers = Array.from({ length: options.brokers }, (_, i) => ({ nodeId: i + 1, port: options.port + i, dataDir: join(dir, `broker-${i + 1}`) }));
  for (const b of brokers) {
    if (!(await portFree(options.host, b.port))) throw new Error(`port ${b.port} on ${options.host} is in use (broker ${b.nodeId}); choose another --port`);
  }
  let etcd: EtcdMemberSpec | null = null;
  let etcdEndpoints = options.etcd ?? '';
  if (!options.etcd) {
    etcd = { name: 'etcd', dataDir: join(dir, 'etcd'), host: '127.0.0.1', clientPort: await freePort('127.0.0.1'), peerPort: await freePort('127.0.0.1') };
    etcdEndpoints = `http://127.0.0.1:${etcd.clientPort}`;
  }
  return { version: 1, host: options.host, brokers, etcd, etcdEndpoints, overrides: options.overrides, pids: {} };
}

export interface StartedProcess {
  name: string;
  child: ChildProcess;
}

/** `sluice start` arguments for one broker of the layout. */
export function brokerArgs(layout: ClusterLayout, broker: ClusterLayout['brokers'][number]): string[] {
  const args = [SLUICE_MAIN, 'start', '--node-id', String(broker.nodeId), '--etcd', layout.etcdEndpoints, '--host', layout.host, '--port', String(broker.port), '--data-dir', broker.dataDir];
  for (const [k, v] of Object.entries(layout.overrides)) args.push('--override', `${k}=${v}`);
  return args;
}

export function etcdMember(layout: ClusterLayout, onLine?: (line: string) => void): EtcdMember | null {
  if (!layout.etcd) return null;
  const binary = findEtcd();
  if (!binary) throw new EtcdNotInstalledError();
  return new EtcdMember(layout.etcd, [layout.etcd], binary, onLine);
}

/** Starts a broker process; with `logFile` its output goes there (detached), else to `onLine`. */
export function spawnBroker(layout: ClusterLayout, broker: ClusterLayout['brokers'][number], options: { logFile?: string; onLine?: (line: string) => void }): ChildProcess {
  mkdirSync(broker.dataDir, { recursive: true });
  if (options.logFile) {
    const fd = openSync(options.logFile, 'a');
    const child = spawn(process.execPath, brokerArgs(layout, broker), { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    child.unref();
    return child;
  }
  const child = spawn(process.execPath, brokerArgs(layout, broker), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let partial = '';
  const take = (b: Buffer) => {
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onLine?.(line);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  return child;
}

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends `signal` to a process group (detached children lead their own), ignoring ones already gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/** Waits until every pid has exited; SIGKILL after `graceMs`. Resolves with those that had to be killed. */
export async function waitForExit(pids: number[], graceMs: number): Promise<number[]> {
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const stuck = pids.filter(alive);
  for (const pid of stuck) signalGroup(pid, 'SIGKILL');
  return stuck;
}
