/**
 * A tool is its options, help text and a run function. `runTool` does the shared parts: parsing,
 * `--help`, and turning any failure into `sluice <tool>: message` + hint + exit code.
 */
import { KafkaError } from '@sluice/protocol';
import { parseArgs, renderHelp, type OptionSpec, type ParsedArgs } from './args.js';
import { ExitCode, ToolError, UsageError } from './errors.js';
import type { ToolIo } from './io.js';

export interface Tool {
  name: string;
  summary: string;
  usage: string;
  description: string;
  options: readonly OptionSpec[];
  positionals?: boolean;
  run(args: ParsedArgs, io: ToolIo): Promise<number>;
}

export const helpOption: OptionSpec = { name: 'help', kind: 'flag', help: 'Print this help and exit.' };
export const jsonOption: OptionSpec = { name: 'json', kind: 'flag', help: 'Print machine-readable JSON instead of text.' };
export const bootstrapOption: OptionSpec = {
  name: 'bootstrap-server',
  kind: 'value',
  arg: '<host:port[,host:port]>',
  help: 'Broker(s) to connect to. REQUIRED unless SLUICE_BOOTSTRAP_SERVER is set.',
  aliases: ['broker-list', 'bootstrap-servers'],
};
export const commandConfigOption: OptionSpec = {
  name: 'command-config',
  kind: 'value',
  arg: '<file>',
  help: 'Client properties file (client.id, request.timeout.ms, security settings).',
};

/**
 * Kafka's tools once took --zookeeper; runbooks still have it. It is recognised (not listed in
 * help) so the error can say what to use instead.
 */
const zookeeperOption: OptionSpec = { name: 'zookeeper', kind: 'value', arg: '<host:port>', help: 'Not supported.' };

export function toolHelp(tool: Tool): string {
  return renderHelp(tool.usage, tool.description, tool.options);
}

export async function runTool(tool: Tool, argv: readonly string[], io: ToolIo): Promise<number> {
  let parsed: ParsedArgs;
  try {
    const talksToBrokers = tool.options.some((o) => o.name === 'bootstrap-server');
    parsed = parseArgs(argv, talksToBrokers ? [...tool.options, zookeeperOption] : tool.options, { positionals: tool.positionals });
    if (parsed.has('zookeeper') && !parsed.has('help')) {
      throw new UsageError(
        `--zookeeper is not supported: sluice has no ZooKeeper, every tool talks to the brokers`,
        `use --bootstrap-server <broker host:port> instead of --zookeeper ${parsed.value('zookeeper')}`,
      );
    }
  } catch (err) {
    return report(tool, err, io);
  }
  if (parsed.has('help')) {
    io.stdout(toolHelp(tool));
    return ExitCode.ok;
  }
  try {
    return await tool.run(parsed, io);
  } catch (err) {
    return report(tool, err, io);
  }
}

function report(tool: Tool, err: unknown, io: ToolIo): number {
  const { message, hint, exitCode } = describeFailure(err);
  io.stderr(`sluice ${tool.name}: ${message}\n`);
  if (hint) io.stderr(`  hint: ${hint}\n`);
  if (exitCode === ExitCode.usage) io.stderr(`  Run \`sluice ${tool.name} --help\` for the options.\n`);
  return exitCode;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET']);

/** Message, hint and exit code for anything a tool can throw. */
export function describeFailure(err: unknown): { message: string; hint?: string; exitCode: number } {
  if (err instanceof UsageError || err instanceof ToolError) return { message: err.message, hint: err.hint, exitCode: err.exitCode };
  if (err instanceof KafkaError) return { message: err.message, hint: kafkaErrorHint(err.errorName), exitCode: ExitCode.failed };
  const code = findErrnoCode(err);
  if (code && UNREACHABLE_CODES.has(code)) {
    return {
      message: `cannot reach the broker: ${(err as Error).message}`,
      hint: 'is the broker running, and do --bootstrap-server host and port match its listener?',
      exitCode: ExitCode.unreachable,
    };
  }
  return { message: err instanceof Error ? err.message : String(err), exitCode: ExitCode.failed };
}

function findErrnoCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length) e = errors[0];
    else e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function kafkaErrorHint(name: string): string | undefined {
  switch (name) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
    case 'UNKNOWN_TOPIC_ID':
      return 'check the name with `sluice topics --list`';
    case 'TOPIC_ALREADY_EXISTS':
      return 'add --if-not-exists to make creation idempotent';
    case 'INVALID_REPLICATION_FACTOR':
      return 'the replication factor cannot exceed the number of brokers';
    case 'INVALID_PARTITIONS':
      return 'partition counts can only grow';
    case 'GROUP_ID_NOT_FOUND':
      return 'list groups with `sluice consumer-groups --list`';
    case 'NON_EMPTY_GROUP':
      return 'stop the group’s consumers first';
    case 'INVALID_CONFIG':
      return 'see `sluice configs --describe --all` for valid names and values';
    default:
      return undefined;
  }
}
