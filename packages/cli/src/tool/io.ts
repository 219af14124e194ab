/**
 * Where a tool reads and writes. Commands never touch `process` directly, so tests run them
 * in-process with captured output, and `main.ts` wires them to the real streams.
 */
import type { Readable } from 'node:stream';

export interface ToolIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: Readable;
  /** True when stderr is a terminal: progress then redraws one line instead of printing many. */
  stderrIsTTY: boolean;
  /** Environment (SLUICE_* defaults); tests pass their own. */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves when the operator interrupts (Ctrl-C). Only long-running tools call it: asking
   * takes over SIGINT/SIGTERM so they can stop cleanly and print their summary.
   */
  interrupted(): Promise<void>;
}

export function processIo(): ToolIo {
  let interrupted: Promise<void> | undefined;
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdin: process.stdin,
    stderrIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    interrupted: () =>
      (interrupted ??= new Promise<void>((resolve) => {
        const onSignal = (): void => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      })),
  };
}
