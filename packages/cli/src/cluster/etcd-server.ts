/**
 * A local etcd server as a child process (the Debian `etcd-server` package's `etcd`), for
 * `sluice cluster up` and for tests that need a real cluster metadata store: one member or several
 * forming one cluster, each with its own data directory and ports, ready once `/health` says so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface EtcdMemberSpec {
  name: string;
  dataDir: string;
  host: string;
  clientPort: number;
  peerPort: number;
}

export class EtcdNotInstalledError extends Error {
  constructor() {
    super('etcd is not installed: install the Debian package etcd-server (apt-get install etcd-server), put `etcd` on PATH or set SLUICE_ETCD, or point --etcd at an existing etcd');
    this.name = 'EtcdNotInstalledError';
  }
}

/** The etcd binary: $SLUICE_ETCD, else `etcd` on PATH, else null. */
export function findEtcd(): string | null {
  const candidates = process.env.SLUICE_ETCD ? [process.env.SLUICE_ETCD] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'etcd'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

export function etcdVersion(binary: string): string | null {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return /etcd Version: (\S+)/.exec(out.stdout ?? '')?.[1] ?? null;
}

export class EtcdMember {
  child: ChildProcess | null = null;
  private output = '';

  constructor(
    readonly spec: EtcdMemberSpec,
    private readonly cluster: readonly EtcdMemberSpec[],
    private readonly binary: string,
    private readonly onLine?: (line: string) => void,
  ) {}

  get clientUrl(): string {
    return `http://${this.spec.host}:${this.spec.clientPort}`;
  }

  get log(): string {
    return this.output;
  }

  /**
   * Starts the member (again, on the same data directory after a stop or kill). With `logFile`
   * it runs detached from this process, its output appended to the file.
   */
  start(logFile?: string): void {
    const s = this.spec;
    mkdirSync(s.dataDir, { recursive: true });
    const peer = (m: EtcdMemberSpec) => `http://${m.host}:${m.peerPort}`;
    const args = [
      '--name', s.name,
      '--data-dir', s.dataDir,
      '--listen-client-urls', this.clientUrl,
      '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', peer(s),
      '--initial-advertise-peer-urls', peer(s),
      '--initial-cluster', this.cluster.map((m) => `${m.name}=${peer(m)}`).join(','),
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `sluice-${this.cluster.map((m) => m.peerPort).join('-')}`,
      // Small clusters on one machine: elect quickly after a member dies.
      '--heartbeat-interval', '100',
      '--election-timeout', '1000',
      '--logger', 'zap',
      '--log-level', 'warn',
    ];
    // Its own process group, so a signal meant for it reaches nothing else.
    if (logFile) {
      const fd = openSync(logFile, 'a');
      const child = spawn(this.binary, args, { stdio: ['ignore', fd, fd], detached: true });
      closeSync(fd);
      child.unref();
      this.child = child;
      return;
    }
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    const take = (b: Buffer) => {
      const text = b.toString();
      this.output = (this.output + text).slice(-64 * 1024);
      if (this.onLine) for (const line of text.split('\n')) if (line.trim()) this.onLine(line);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child?.pid && this.running) process.kill(-this.child.pid, signal);
  }

  /** Stops the member (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  /** Resolves once the member answers /health with true. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`etcd ${this.spec.name} exited: ${this.output.slice(-2000)}`);
      try {
        const res = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`etcd ${this.spec.name} not healthy after ${timeoutMs} ms: ${this.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts every member of one etcd cluster and waits until all are healthy. */
export async function startEtcdCluster(specs: readonly EtcdMemberSpec[], options: { binary?: string; onLine?: (member: string, line: string) => void } = {}): Promise<EtcdMember[]> {
  const binary = options.binary ?? findEtcd();
  if (!binary) throw new EtcdNotInstalledError();
  const members = specs.map((s) => new EtcdMember(s, specs, binary, options.onLine ? (line) => options.onLine!(s.name, line) : undefined));
  for (const m of members) m.start();
  try {
    await Promise.all(members.map((m) => m.ready()));
  } catch (err) {
    await Promise.all(members.map((m) => m.kill()));
    throw err;
  }
  return members;
}
