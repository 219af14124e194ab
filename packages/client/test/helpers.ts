/**
 * Test helpers. The broker is loaded at run time through a non-literal specifier so @sluice/client
 * has no build-time dependency on @sluice/broker (the broker will depend on the client).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
