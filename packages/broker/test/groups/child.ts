/** A client process whose JSON-lines stdout tests wait on. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface ChildEvent {
  event: string;
  [field: string]: unknown;
}

export class ChildClient {
  readonly events: ChildEvent[] = [];
  /** Every stdout line, and every stderr line (kcat reports rebalances there). */
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  readonly exited: Promise<number | null>;
  private stderr = '';
  private readonly waiters = new Set<() => void>();
  private readonly proc: ChildProcessWithoutNullStreams;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
  ) {
    this.proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let partial = '';
    this.proc.stdout.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl).trim();
        partial = partial.slice(nl + 1);
        this.stdoutLines.push(line);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as ChildEvent);
        for (const w of [...this.waiters]) w();
      }
    });
    let partialErr = '';
    this.proc.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
      partialErr += chunk.toString();
      let nl;
      while ((nl = partialErr.indexOf('\n')) >= 0) {
        this.stderrLines.push(partialErr.slice(0, nl).trim());
        partialErr = partialErr.slice(nl + 1);
      }
      for (const w of [...this.waiters]) w();
    });
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code) => {
        resolve(code);
        for (const w of [...this.waiters]) w();
      }),
    );
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves when `predicate` holds over the events so far; rejects on timeout. */
  waitFor<T>(what: string, predicate: (events: ChildEvent[]) => T | null | undefined | false, timeoutMs = 60_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = predicate(this.events);
        if (v) {
          cleanup();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: timed out waiting for ${what}; last events ${JSON.stringify(this.events.slice(-5))}; stderr: ${this.stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The partitions of the last assignment reported, or null before the first. */
  get assignment(): number[] | null {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].event === 'assigned') return this.events[i].partitions as number[];
    return null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.proc.kill(sig);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 20_000): Promise<number | null> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  get stderrTail(): string {
    return this.stderr;
  }
}

/** Resolves when `probe` holds, polling; rejects after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
