/**
 * Processes for the broker benchmark: run a tool and learn its CPU time, read another process's
 * CPU time from /proc, flush the page cache to disk, find a free port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** Every child this process started; killed (by pid) when the benchmark exits. */
export const children = new Set<ChildProcess>();
/** Process groups of tools started by runTool (bash and the tool under it). */
const groups = new Set<number>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const g of groups) killGroup(g);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

let ticks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (getconf CLK_TCK). */
export function clockTicks(): number {
  if (ticks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    ticks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return ticks;
}

/** User + system CPU seconds a running process has used so far (/proc/<pid>/stat utime+stime). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** CPU seconds (user + system) of the tool and its children, from bash's `times`. */
  cpuSeconds: number;
  wallSeconds: number;
  timedOut: boolean;
}

const TIMES_MARK = '@@sluice-bench-times';

/**
 * Runs `command args…` under bash, which prints the children's CPU times (`times`) after it
 * exits: Node cannot ask for a child's rusage, and /proc/<pid> is gone by the time 'exit' fires.
 */
export async function runTool(command: string, args: string[], options: { timeoutMs: number; cwd?: string }): Promise<ToolRun> {
  const script = `"$@"; rc=$?; echo; echo ${TIMES_MARK}; times; exit $rc`;
  // Its own process group, so a timeout (or the benchmark's exit) ends the tool under bash too.
  const child = spawn('bash', ['-c', script, 'bash', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd, detached: true });
  const pgid = child.pid!;
  groups.add(pgid);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const started = performance.now();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(pgid);
  }, options.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  groups.delete(pgid);
  const wallSeconds = (performance.now() - started) / 1000;
  const at = stdout.lastIndexOf(TIMES_MARK);
  let cpu = NaN;
  if (at >= 0) {
    // `times` prints the shell's own user/system times, then its children's: "0m1.234s 0m0.456s".
    const lines = stdout.slice(at + TIMES_MARK.length).trim().split('\n');
    const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines[1] ?? '');
    if (m) cpu = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
    stdout = stdout.slice(0, at);
  }
  return { code, stdout, stderr, cpuSeconds: cpu, wallSeconds, timedOut };
}

/** Writes dirty pages back to disk (`sync`), so an earlier run's writeback does not slow the next. */
export function syncDisks(): number {
  const started = performance.now();
  spawnSync('sync', { stdio: 'ignore' });
  return (performance.now() - started) / 1000;
}

export const SETTLE_MS = Number(process.env.SLUICE_BENCH_SETTLE_MS ?? 2000);

/**
 * Before a measured write: `sync`, then a pause (SETTLE_MS). On this VM memory freed less than ~1 s earlier is
 * written ~10× faster than memory idle for longer (it need not be faulted in again), so without the
 * pause a run right after another's data was deleted would be measured in the faster regime.
 */
export async function settle(): Promise<void> {
  syncDisks();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** An executable on PATH (and the sbin directories Debian puts servers in), or null. */
export function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * Resolves once `pattern` appears in the child's stderr or stdout; rejects if it exits first. Keeps
 * draining both afterwards (a server blocked on a full log pipe would stall the benchmark), keeping
 * the last 16 KiB for `logTail`.
 */
export function waitForOutput(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let ready = false;
    const onData = (b: Buffer): void => {
      seen += b.toString();
      if (seen.length > 32_768) seen = seen.slice(-16_384);
      logTails.set(child, seen);
      if (ready) return;
      const m = pattern.exec(seen);
      if (m) {
        ready = true;
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`${what} exited (${code ?? signal}) before it was ready: ${seen.slice(-2000)}`));
    });
  });
}

const logTails = new WeakMap<ChildProcess, string>();
/** The last output of a child started through waitForOutput. */
export function logTail(child: ChildProcess): string {
  return (logTails.get(child) ?? '').slice(-2000);
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
