/** Shared test plumbing: run a tool in-process with captured output. */
import { Readable } from 'node:stream';
import { runOperatorTool } from '../src/operator.js';
import type { ToolIo } from '../src/tool/io.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string | Readable;
  env?: Record<string, string | undefined>;
  /** Resolving this simulates Ctrl-C. */
  interrupt?: Promise<void>;
  /** Sees stdout as it grows (e.g. to interrupt once enough has been printed). */
  onStdout?: (stdoutSoFar: string) => void;
}

export async function run(tool: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const stdin = typeof options.stdin === 'string' ? Readable.from([Buffer.from(options.stdin)]) : (options.stdin ?? Readable.from([]));
  const io: ToolIo = {
    stdout: (t) => {
      stdout += t;
      options.onStdout?.(stdout);
    },
    stderr: (t) => void (stderr += t),
    stdin,
    stderrIsTTY: false,
    env: options.env ?? {},
    interrupted: () => options.interrupt ?? new Promise<void>(() => {}),
  };
  const code = await runOperatorTool(tool, args, io);
  return { code, stdout, stderr };
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker, type StartBrokerOptions } from '@sluice/broker';

export interface TestBroker {
  broker: RunningBroker;
  bootstrap: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * A broker on a free port with its own data directory, removed on stop. Groups rebalance at once
 * (no initial delay) and __consumer_offsets is small, so group tests are quick.
 */
export async function startTestBroker(overrides: StartBrokerOptions = {}): Promise<TestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
  const broker = await startBroker({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    'group.initial.rebalance.delay.ms': 0,
    'offsets.topic.num.partitions': 4,
    ...overrides,
  });
  return {
    broker,
    bootstrap: `127.0.0.1:${broker.port}`,
    dataDir,
    async stop() {
      await broker.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
