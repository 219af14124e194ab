/**
 * A Sluice broker in a process of its own, for benchmarks that must not share an event loop with
 * the client they measure. It imports `@sluice/broker` at run time (so a package below the broker,
 * such as the client, can use it without a build-time dependency), listens on a free port with its
 * own data directory, and stops when `stop()` closes its stdin.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BrokerProcess {
  bootstrap: string;
  /** Stops the broker cleanly, waits for the process and removes its data directory. */
  stop(): Promise<void>;
}

/** Starts `startBroker()` in a child process with `configs` on top of the benchmarks' defaults. */
export async function startBrokerProcess(configs: Record<string, string | number | boolean> = {}): Promise<BrokerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-broker-'));
  const code = `
    const spec = '@sluice/broker';
    const { startBroker } = await import(spec);
    const b = await startBroker({ dataDir: process.env.DATA_DIR, host: '127.0.0.1', port: 0, logSink: null, 'group.initial.rebalance.delay.ms': 0, ...JSON.parse(process.env.BROKER_CONFIGS) });
    process.stdout.write(JSON.stringify({ port: b.port }) + '\\n');
    process.stdin.on('end', async () => { await b.stop(); process.exit(0); });
    process.stdin.resume();
  `;
  // From the repository's root, where @sluice/broker resolves (this file is test-peers/dist/src).
  const cwd = new URL('../../../..', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, DATA_DIR: dataDir, BROKER_CONFIGS: JSON.stringify(configs) }, stdio: ['pipe', 'pipe', 'inherit'], cwd });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
      });
      child.once('exit', (c) => reject(new Error(`broker process exited with ${c} before listening`)));
    });
    return {
      bootstrap: `127.0.0.1:${port}`,
      async stop() {
        child.stdin.end();
        await exited;
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
