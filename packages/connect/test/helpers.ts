/** Test helpers: an in-process broker, a standalone worker on it, and curl-shaped REST calls. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '@sluice/broker';
import { Admin } from '@sluice/client';
import { StandaloneWorker } from '../src/index.js';

export interface TestEnv {
  bootstrap: string;
  dir: string;
  admin: Admin;
  worker: StandaloneWorker;
  url: string;
  logs: string[];
}

export async function startEnv(t: { after(fn: () => Promise<void>): void }, workerProps: Record<string, string> = {}): Promise<TestEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-connect-test-'));
  const broker = await startBroker({ dataDir: join(dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null, 'offsets.topic.replication.factor': 1, 'group.initial.rebalance.delay.ms': 0 });
  const bootstrap = `127.0.0.1:${broker.port}`;
  const admin = new Admin({ brokers: [bootstrap] });
  const logs: string[] = [];
  const worker = await StandaloneWorker.start({
    workerProps: {
      'bootstrap.servers': bootstrap,
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'offset.storage.file.filename': join(dir, 'connect.offsets'),
      'offset.flush.interval.ms': '500',
      listeners: 'http://127.0.0.1:0',
      ...workerProps,
    },
    log: (line) => logs.push(line),
  });
  t.after(async () => {
    await worker.close();
    await admin.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { bootstrap, dir, admin, worker, url: worker.url, logs };
}

export interface RestAnswer {
  status: number;
  body: unknown;
}

/** `curl -X METHOD -H 'Content-Type: application/json' --data BODY URL`. */
export async function rest(url: string, method: string, path: string, body?: unknown): Promise<RestAnswer> {
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The lines of a file a sink writes (none while it does not exist yet). */
export async function fileLines(path: string): Promise<string[]> {
  try {
    const text = await readFile(path, 'utf8');
    return text === '' ? [] : text.replace(/\n$/, '').split('\n');
  } catch {
    return [];
  }
}
