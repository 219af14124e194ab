/**
 * Tool failures carry what went wrong, what to do about it, and the exit code, so every command
 * reports errors the same way: `sluice <tool>: <message>` then `  hint: <hint>` on stderr.
 */
export const ExitCode = {
  ok: 0,
  /** The operation failed (the broker refused it, the topic does not exist, a check failed). */
  failed: 1,
  /** Wrong flags or values: nothing was sent to the cluster. */
  usage: 2,
  /** No broker could be reached. */
  unreachable: 3,
  /** The tool refused an operation that needs --force (or --execute) to go ahead. */
  refused: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failed,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

export class UsageError extends ToolError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.usage, hint);
    this.name = 'UsageError';
  }
}
