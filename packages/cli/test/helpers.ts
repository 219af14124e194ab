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
}

export async function run(tool: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const stdin = typeof options.stdin === 'string' ? Readable.from([Buffer.from(options.stdin)]) : (options.stdin ?? Readable.from([]));
  const io: ToolIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stdin,
    stderrIsTTY: false,
    env: options.env ?? {},
    interrupted: () => options.interrupt ?? new Promise<void>(() => {}),
  };
  const code = await runOperatorTool(tool, args, io);
  return { code, stdout, stderr };
}
