/**
 * A real cluster for tests: etcd members and `sluice start` brokers as processes, each in its own
 * process group so kill -9 and SIGSTOP reach exactly one of them. Brokers keep their port and data
 * directory across restarts, as a restarted machine would.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admin } from '@sluice/client';
import { BatchIterator } from '@sluice/protocol';
import { EtcdMember, startEtcdCluster } from '../../src/cluster/etcd-server.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class BrokerProcess {
  child: ChildProcess | null = null;
  private output = '';
  /** Everything logged by every run of this broker. */
  get log(): string {
    return this.output;
  }

  constructor(
    readonly nodeId: number,
    readonly port: number,
    readonly dataDir: string,
    private readonly etcd: string,
    private readonly overrides: Record<string, string | number>,
  ) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts `sluice start` and resolves once it listens. */
  async start(timeoutMs = 60_000): Promise<void> {
    const args = [MAIN, 'start', '--node-id', String(this.nodeId), '--etcd', this.etcd, '--port', String(this.port), '--data-dir', this.dataDir];
    for (const [k, v] of Object.entries(this.overrides)) args.push('--override', `${k}=${v}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    const mark = this.output.length;
    child.stderr!.on('data', (b: Buffer) => {
      this.output += b.toString();
      if (process.env.SLUICE_TEST_LOG) process.stderr.write(b.toString().replace(/^/gm, `[broker ${this.nodeId}] `));
    });
    const deadline = Date.now() + timeoutMs;
    while (!/listening on /.test(this.output.slice(mark))) {
      assert.ok(this.running, `broker ${this.nodeId} exited (code ${child.exitCode}, signal ${child.signalCode}): ${this.output.slice(mark).slice(-3000)}`);
      assert.ok(Date.now() < deadline, `broker ${this.nodeId} did not become ready: ${this.output.slice(mark).slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private exited(): Promise<void> {
    const child = this.child;
    return new Promise((resolve) => (!child || !this.running ? resolve() : child.once('exit', () => resolve())));
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child?.pid && this.running) process.kill(-this.child.pid, signal);
  }

  async kill9(): Promise<void> {
    const exited = this.exited();
    this.signal('SIGKILL');
    await exited;
  }

  /** A clean stop (SIGTERM: controlled shutdown first); SIGKILL if it hangs. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const exited = this.exited();
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

export interface ProcessCluster {
  etcd: EtcdMember[];
  etcdEndpoints: string;
  brokers: BrokerProcess[];
  bootstrap: string[];
  broker(nodeId: number): BrokerProcess;
  /** Stops everything and removes the directories. */
  close(): Promise<void>;
}

export async function startProcessCluster(options: { brokers: number; etcdMembers?: number; overrides?: Record<string, string | number> }): Promise<ProcessCluster> {
  const root = mkdtempSync(join(tmpdir(), 'sluice-cluster-'));
  const specs = [];
  for (let i = 0; i < (options.etcdMembers ?? 1); i++) {
    specs.push({ name: `etcd${i + 1}`, dataDir: join(root, `etcd${i + 1}`), host: '127.0.0.1', clientPort: await freePort(), peerPort: await freePort() });
  }
  const etcd = await startEtcdCluster(specs);
  const etcdEndpoints = etcd.map((m) => m.clientUrl).join(',');
  const brokers: BrokerProcess[] = [];
  const close = async () => {
    await Promise.all(brokers.map((b) => b.kill9()));
    await Promise.all(etcd.map((m) => m.kill()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (let id = 1; id <= options.brokers; id++) {
      brokers.push(new BrokerProcess(id, await freePort(), join(root, `broker${id}`), etcdEndpoints, options.overrides ?? {}));
    }
    await Promise.all(brokers.map((b) => b.start()));
  } catch (err) {
    await close();
    throw err;
  }
  return {
    etcd,
    etcdEndpoints,
    brokers,
    bootstrap: brokers.map((b) => b.bootstrap),
    broker: (nodeId) => brokers.find((b) => b.nodeId === nodeId)!,
    close,
  };
}

/** The high watermark a broker last checkpointed for a partition (replication-offset-checkpoint). */
export function checkpointedHighWatermark(dataDir: string, topic: string, partition: number): bigint | null {
  const path = join(dataDir, 'replication-offset-checkpoint');
  if (!existsSync(path)) return null;
  for (const line of readFileSync(path, 'utf8').split('\n').slice(2)) {
    const [t, p, o] = line.trim().split(/\s+/);
    if (t === topic && Number(p) === partition) return BigInt(o);
  }
  return null;
}

/** The raw bytes of every batch of a partition's log whose last offset is below `end`, in order (read from the files of a stopped broker). */
export function batchesBelow(dataDir: string, topic: string, partition: number, end: bigint): Buffer[] {
  const dir = join(dataDir, `${topic}-${partition}`);
  if (!existsSync(dir)) return [];
  const out: Buffer[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    const bytes = readFileSync(join(dir, name));
    const it = new BatchIterator(bytes);
    while (it.next()) {
      if (it.lastOffset >= end) return out;
      out.push(it.batch);
    }
  }
  return out;
}

/** Resolves with `check`'s first truthy answer (thrown errors count as "not yet"); fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** kill -9 of the controller; resolves with its node id once another broker is controller. */
export async function killController(cluster: ProcessCluster, admin: Admin): Promise<number> {
  const controller = (await admin.describeCluster()).controllerId;
  await cluster.broker(controller).kill9();
  await until('a new controller', async () => {
    const c = (await admin.describeCluster()).controllerId;
    return c >= 0 && c !== controller;
  });
  return controller;
}

/**
 * Stops every broker and checks that each partition's replicas hold byte-identical batches below
 * the smallest checkpointed high watermark; returns, per partition, that HW and the batch count.
 */
export async function assertReplicasIdentical(cluster: ProcessCluster, topic: string, partitions: number): Promise<Array<{ partition: number; highWatermark: bigint; batches: number }>> {
  for (const b of cluster.brokers) await b.stop();
  const out = [];
  for (let p = 0; p < partitions; p++) {
    const hw = cluster.brokers.map((b) => checkpointedHighWatermark(b.dataDir, topic, p) ?? 0n).reduce((a, b) => (b < a ? b : a));
    const logs = cluster.brokers.map((b) => batchesBelow(b.dataDir, topic, p, hw));
    for (let i = 1; i < logs.length; i++) {
      assert.equal(logs[i].length, logs[0].length, `partition ${p}: broker ${cluster.brokers[i].nodeId} has ${logs[i].length} batches below ${hw}, broker ${cluster.brokers[0].nodeId} ${logs[0].length}`);
      logs[i].forEach((b, j) => assert.ok(b.equals(logs[0][j]), `partition ${p}: batch ${j} differs between brokers ${cluster.brokers[0].nodeId} and ${cluster.brokers[i].nodeId}`));
    }
    out.push({ partition: p, highWatermark: hw, batches: logs[0].length });
  }
  return out;
}
