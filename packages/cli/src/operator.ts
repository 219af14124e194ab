/**
 * In-process entry point to the operator tools: `runOperatorTool('topics', [...], io)` is what
 * `sluice topics ...` runs, with output going wherever `io` says (tests capture it).
 */
import { operatorTools } from './commands/index.js';
import { runTool } from './tool/command.js';
import { processIo, type ToolIo } from './tool/io.js';

export { operatorTools };
export type { ToolIo };

export async function runOperatorTool(name: string, args: readonly string[], io: ToolIo): Promise<number> {
  const tool = operatorTools.find((t) => t.name === name);
  if (!tool) throw new Error(`no operator tool named ${name}`);
  return runTool(tool, args, io);
}

/** Subcommand table entries for `main.ts`, running against the real process streams. */
export function operatorSubcommands(): Record<string, { summary: string; run(args: string[]): Promise<number> }> {
  return Object.fromEntries(operatorTools.map((tool) => [tool.name, { summary: tool.summary, run: (args: string[]) => runTool(tool, args, processIo()) }]));
}
