/**
 * Test helpers. The broker is loaded at run time through a non-literal specifier so @sluice/client
 * has no build-time dependency on @sluice/broker (the broker will depend on the client).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '../src/index.js';

export interface TestBroker {
  host: string;
  port: number;
  bootstrap: string;
  stop(): Promise<void>;
}

type StartBroker = (options: Record<string, unknown>) => Promise<{ host: string; port: number; stop(): Promise<void> }>;

export async function startTestBroker(configs: Record<string, string | number | boolean> = {}): Promise<TestBroker> {
  const spec = '@sluice/broker';
  const { startBroker } = (await import(spec)) as { startBroker: StartBroker };
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-client-test-'));
  const broker = await startBroker({ dataDir, host: '127.0.0.1', port: 0, logSink: null, ...configs });
  return {
    host: broker.host,
    port: broker.port,
    bootstrap: `127.0.0.1:${broker.port}`,
    async stop() {
      await broker.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

let topicCounter = 0;
/**
 * A broker and an Admin on it, both closed when the test ends (`t.after`), for the many tests
 * that need nothing else set up.
 */
export async function withBroker(
  t: { after(fn: () => Promise<void>): void },
  configs: Record<string, string | number | boolean> = {},
): Promise<{ broker: TestBroker; admin: Admin }> {
  const broker = await startTestBroker(configs);
  const admin = new Admin({ brokers: [broker.bootstrap] });
  t.after(async () => {
    admin.close();
    await broker.stop();
  });
  return { broker, admin };
}

export function uniqueTopic(prefix = 't'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${topicCounter++}`;
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a program to completion with optional stdin; never rejects on a non-zero exit. */
export async function run(cmd: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Reads `count` records from every partition of `topic` from the beginning with our consumer. */
export async function readAll(
  bootstrap: string,
  topic: string,
  count: number,
): Promise<Array<{ partition: number; offset: bigint; key: string | null; value: string | null; headers: Array<[string, string | null]>; timestamp: bigint }>> {
  const { Consumer } = await import('../src/index.js');
  const consumer = new Consumer({ brokers: [bootstrap], autoOffsetReset: 'earliest' });
  try {
    await consumer.cluster.connect();
    await consumer.cluster.ensureTopics([topic]);
    const n = consumer.cluster.partitionCount(topic);
    await consumer.assign(Array.from({ length: n }, (_, partition) => ({ topic, partition })));
    const out: Awaited<ReturnType<typeof readAll>> = [];
    if (count === 0) return out;
    for await (const r of consumer) {
      out.push({
        partition: r.partition,
        offset: r.offset,
        key: r.key?.toString() ?? null,
        value: r.value?.toString() ?? null,
        headers: r.headers.map((h) => [h.key, h.value?.toString() ?? null]),
        timestamp: r.timestamp,
      });
      if (out.length >= count) break;
    }
    return out;
  } finally {
    await consumer.close();
  }
}
