/**
 * References for the broker benchmark, each at its best: Node's raw loopback throughput, a raw
 * sequential file write, and NATS JetStream driven by its own Go client (natsbench).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { children, cpuSeconds, freePort, logTail, runTool, settle, syncDisks, waitForOutput } from './proc.js';

export const CHUNK = 1 << 20;

export type SinkKind = 'data' | 'onread';

/**
 * The sink: a separate Node process that connects to the writer and discards what it reads, with
 * 'data' events (a fresh Buffer per read) or with net.Socket's `onread` option (every read lands
 * in one reused 1 MiB buffer). It answers one byte once it has everything.
 */
const SINKS: Record<SinkKind, string> = {
  data: `const net = require('net'); const total = Number(process.env.TOTAL); let got = 0;
const s = net.connect(Number(process.env.PORT), '127.0.0.1');
s.on('data', (d) => { got += d.length; if (got >= total) s.end('x'); });`,
  onread: `const net = require('net'); const total = Number(process.env.TOTAL); let got = 0;
const buffer = Buffer.allocUnsafe(${CHUNK});
const s = net.connect({ port: Number(process.env.PORT), host: '127.0.0.1', onread: { buffer, callback: (n) => { got += n; if (got >= total) s.end('x'); } } });`,
};

/** Bytes/s from this process writing 1 MiB buffers into a loopback socket the sink drains. */
export async function rawLoopback(kind: SinkKind, totalBytes: number): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  const sink = spawn(process.execPath, ['-e', SINKS[kind]], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PORT: String(port), TOTAL: String(totalBytes) } });
  children.add(sink);
  const sinkGone = once(sink, 'exit').then(([code]) => {
    throw new Error(`loopback sink (${kind}) exited early (${String(code)})`);
  });
  sinkGone.catch(() => undefined);
  const [socket] = (await Promise.race([once(server, 'connection'), sinkGone])) as [Socket];
  const chunk = randomBytes(CHUNK);
  const started = performance.now();
  const done = Promise.race([once(socket, 'data'), sinkGone]);
  let sent = 0;
  while (sent < totalBytes) {
    sent += chunk.length;
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  server.close();
  if (sink.exitCode === null && sink.signalCode === null) await once(sink, 'exit');
  children.delete(sink);
  return sent / seconds;
}

export interface FileWrite {
  /** Bytes/s of the writes alone, into the page cache (no fsync), after `sync` and a pause. */
  pageCache: number;
  /** Bytes/s counting the `sync` that then writes them to disk. */
  toDisk: number;
  /**
   * Bytes/s of the same write repeated at once into the pages the first file just gave back. On a
   * VM this can be many times faster: memory the guest freed seconds ago has to be faulted in
   * again (seen here: 0.5–0.8 GB/s against 7 GB/s), which no broker run can count on.
   */
  recycledPages: number;
}

function writeFile(path: string, chunk: Buffer, totalBytes: number): number {
  const started = performance.now();
  const fd = openSync(path, 'w');
  for (let written = 0; written < totalBytes; ) {
    const n = Math.min(CHUNK, totalBytes - written);
    written += writeSync(fd, chunk, 0, n);
  }
  closeSync(fd);
  return (performance.now() - started) / 1000;
}

/** Node writing 1 MiB buffers sequentially to a new file (writeSync, no fsync), then `sync`. */
export async function rawFileWrite(dir: string, totalBytes: number): Promise<FileWrite> {
  const path = join(dir, 'raw-write.bin');
  const chunk = randomBytes(CHUNK);
  await settle();
  const writeSeconds = writeFile(path, chunk, totalBytes);
  const syncSeconds = syncDisks();
  unlinkSync(path);
  const againSeconds = writeFile(path, chunk, totalBytes);
  unlinkSync(path);
  syncDisks();
  return { pageCache: totalBytes / writeSeconds, toDisk: totalBytes / (writeSeconds + syncSeconds), recycledPages: totalBytes / againSeconds };
}

export interface NatsRun {
  msgs: number;
  seconds: number;
  msgsPerSec: number;
  /** nats-server CPU seconds during the run. */
  serverCpu: number;
  /** natsbench CPU seconds (its whole life). */
  clientCpu: number;
  /** js-sync mode: per-publish ack latency, ms. */
  p50?: number;
  p99?: number;
}

/** A fresh nats-server with JetStream (file store in a new directory), stopped and removed after. */
export async function withNatsServer<T>(natsServer: string, scratch: string, use: (url: string, pid: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const store = mkdtempSync(join(scratch, 'nats-'));
  const server = spawn(natsServer, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(server);
  let exited = '';
  server.once('exit', (code, signal) => (exited = `nats-server exited (${code ?? signal})`));
  try {
    await waitForOutput(server, /Server is ready/, 'nats-server');
    return await use(`nats://127.0.0.1:${port}`, server.pid!);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}${exited ? `; ${exited}` : ''}; nats-server log: ${logTail(server)}`);
  } finally {
    server.kill('SIGKILL');
    if (server.exitCode === null && server.signalCode === null) await once(server, 'exit');
    children.delete(server);
    rmSync(store, { recursive: true, force: true });
  }
}

/** natsbench (the NATS project's Go client) against a fresh JetStream server; parses its summary. */
export async function natsbench(natsServer: string, natsbenchBin: string, scratch: string, args: { mode: 'js-async' | 'js-sync'; size: number; dur: string }): Promise<NatsRun> {
  await settle();
  return withNatsServer(natsServer, scratch, async (url, pid) => {
    const before = cpuSeconds(pid);
    const argv = ['-url', url, '-mode', args.mode, '-size', String(args.size), '-dur', args.dur];
    if (args.mode === 'js-async') argv.push('-batch', '1000');
    const run = await runTool(natsbenchBin, argv, { timeoutMs: 120_000 });
    const serverCpu = cpuSeconds(pid) - before;
    // "mode=js-async size=1024: 494000 msgs in 5.01s = 98610 msgs/s, 101.0 MB/s"
    const m = /: (\d+) msgs in ([\d.]+)s = (\d+) msgs\/s/.exec(run.stdout);
    if (run.code !== 0 || !m) throw new Error(`natsbench ${argv.join(' ')} failed (${run.timedOut ? 'timed out' : `exit ${run.code}`}): ${run.stdout}${run.stderr}`);
    const result: NatsRun = { msgs: Number(m[1]), seconds: Number(m[2]), msgsPerSec: Number(m[3]), serverCpu, clientCpu: run.cpuSeconds };
    // "  per-publish ack latency p50=62.1µs p99=180.3µs p99.9=1.2ms"
    const lat = /p50=(\S+) p99=(\S+)/.exec(run.stdout);
    if (lat) {
      result.p50 = goDurationMs(lat[1]);
      result.p99 = goDurationMs(lat[2]);
    }
    return result;
  });
}

/** A Go time.Duration's String() in milliseconds ("1.2ms", "850µs", "1m2.5s", "1h0m0s"). */
export function goDurationMs(s: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, 'µs': 1e-3, 'μs': 1e-3, us: 1e-3, ns: 1e-6 };
  let total = 0;
  for (const [, n, unit] of s.matchAll(/([\d.]+)(h|ms|m|s|µs|μs|us|ns)/g)) total += Number(n) * units[unit];
  return total;
}
