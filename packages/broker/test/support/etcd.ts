/**
 * Real etcd servers for tests (Debian's `etcd-server`, found through @sluice/test-peers): one member
 * or a cluster of several on free 127.0.0.1 ports, each with a temporary data directory, which a
 * test can kill, freeze (SIGSTOP) and restart on the same data. Everything is removed by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdPath } from '@sluice/test-peers';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class EtcdTestMember {
  child: ChildProcess | null = null;
  output = '';

  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    private readonly initialCluster: string,
    private readonly token: string,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  start(): void {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const child = spawn(
      etcdPath(),
      [
        '--name', this.name,
        '--data-dir', this.dataDir,
        '--listen-client-urls', this.endpoint,
        '--advertise-client-urls', this.endpoint,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', this.initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', this.token,
        // Members on one machine: notice a dead leader within a second.
        '--heartbeat-interval', '100',
        '--election-timeout', '1000',
        '--logger', 'zap',
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const take = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-32 * 1024);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    this.child = child;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the member answers /health with true (for a cluster: once it has a leader). */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`etcd ${this.name} exited: ${this.output.slice(-2000)}`);
      try {
        const res = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        if (((await res.json()) as { health?: string }).health === 'true') return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`etcd ${this.name} not healthy after ${timeoutMs} ms: ${this.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILLs the member and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the member: it keeps its sockets but answers nothing, as a hung or cut-off server. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Starts the member again on its data directory. */
  async restart(): Promise<void> {
    await this.kill();
    this.start();
  }
}

export interface EtcdTestCluster {
  members: EtcdTestMember[];
  /** The member that is the Raft leader now. */
  leader(): Promise<EtcdTestMember>;
  endpoints: string[];
  /** Kills every member and removes the data directories. */
  stop(): Promise<void>;
}

/**
 * Starts `size` members on free ports. A port found free can be taken by another test before etcd
 * binds it; that start is retried on new ports (twice at most).
 */
export async function startEtcdCluster(size: number): Promise<EtcdTestCluster> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startEtcdClusterOnce(size);
    } catch (err) {
      if (attempt >= 2 || !/address already in use/.test(String((err as Error).message))) throw err;
    }
  }
}

async function startEtcdClusterOnce(size: number): Promise<EtcdTestCluster> {
  const root = mkdtempSync(join(tmpdir(), 'sluice-etcd-'));
  const specs: { name: string; clientPort: number; peerPort: number }[] = [];
  for (let i = 0; i < size; i++) specs.push({ name: `etcd${i + 1}`, clientPort: await freePort(), peerPort: await freePort() });
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const token = `sluice-test-${specs[0].peerPort}`;
  const members = specs.map((s) => new EtcdTestMember(s.name, join(root, s.name), s.clientPort, s.peerPort, initialCluster, token));
  const stop = async () => {
    await Promise.all(members.map((m) => m.kill()));
    rmSync(root, { recursive: true, force: true });
  };
  for (const m of members) m.start();
  try {
    await Promise.all(members.map((m) => m.ready()));
  } catch (err) {
    await stop();
    throw err;
  }
  const leader = async () => {
    for (const m of members) {
      if (!m.running) continue;
      // etcd's JSON gateway: the member's own id and the leader's id it knows.
      const res = await fetch(`${m.endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) });
      const status = (await res.json()) as { header: { member_id: string }; leader: string };
      if (status.header.member_id === status.leader) return m;
    }
    throw new Error('no etcd member is the leader');
  };
  return { members, endpoints: members.map((m) => m.endpoint), leader, stop };
}

export function startEtcd(): Promise<EtcdTestCluster> {
  return startEtcdCluster(1);
}
