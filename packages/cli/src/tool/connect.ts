/**
 * From flags to a connected @sluice/client: `--bootstrap-server` (or SLUICE_BOOTSTRAP_SERVER),
 * `--command-config` client properties, and fail-fast retry settings suited to a human waiting
 * at a prompt. Connection failures become ToolErrors saying which address failed and what to check.
 */
import { Admin, ConnectionError, RequestTimeoutError, type ClusterOptions } from '@sluice/client';
import type { ParsedArgs } from './args.js';
import { ExitCode, ToolError, UsageError } from './errors.js';
import type { ToolIo } from './io.js';
import { loadPropertiesFile, type Properties } from './properties.js';
import { securityOptions } from './security.js';

export function bootstrapServers(args: ParsedArgs, io: ToolIo): string[] {
  const raw = args.value('bootstrap-server') ?? io.env.SLUICE_BOOTSTRAP_SERVER;
  if (!raw) throw new UsageError('missing required option --bootstrap-server', 'e.g. --bootstrap-server localhost:9092');
  const servers = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of servers) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(s)) throw new UsageError(`--bootstrap-server entry "${s}" is not host:port`);
  }
  return servers;
}

/** Properties from --command-config (or the tool's own config option) plus explicit overrides. */
export async function clientProperties(args: ParsedArgs, configOption = 'command-config', overrides?: Properties): Promise<Properties> {
  const file = args.value(configOption);
  const props = file ? await loadPropertiesFile(file, configOption) : new Map<string, string>();
  for (const [k, v] of overrides ?? []) props.set(k, v);
  return props;
}

function intProperty(props: Properties, key: string): number | undefined {
  const raw = props.get(key);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`client property ${key} must be a non-negative integer, not "${raw}"`);
  return n;
}

/** Cluster options from client properties (Kafka names), with short timeouts for interactive use. */
export function clusterOptions(brokers: string[], props: Properties, defaultClientId: string): ClusterOptions {
  const requestTimeoutMs = intProperty(props, 'request.timeout.ms') ?? 30_000;
  return {
    brokers,
    ...securityOptions(props),
    clientId: props.get('client.id') ?? defaultClientId,
    connectTimeoutMs: intProperty(props, 'socket.connection.setup.timeout.ms') ?? 10_000,
    requestTimeoutMs,
    retry: { retries: intProperty(props, 'retries') ?? 3, initialRetryTimeMs: intProperty(props, 'retry.backoff.ms') ?? 100, maxRetryTimeMs: 1000 },
  };
}

/** Rewrites transport failures into what an operator needs: which brokers, and what to check. */
export function connectionFailure(err: unknown, brokers: readonly string[]): unknown {
  if (err instanceof ConnectionError) {
    return new ToolError(
      `cannot reach the broker at ${brokers.join(',')}: ${err.message}`,
      ExitCode.unreachable,
      'is the broker running, and do --bootstrap-server host and port match its listener?',
    );
  }
  if (err instanceof RequestTimeoutError) {
    return new ToolError(`the broker did not answer in time: ${err.message}`, ExitCode.unreachable, 'raise request.timeout.ms in --command-config, or check the broker');
  }
  return err;
}

/** Runs `fn` with a connected Admin and closes it afterwards, mapping connection failures. */
export async function withAdmin<T>(args: ParsedArgs, io: ToolIo, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const brokers = bootstrapServers(args, io);
  const props = await clientProperties(args);
  const admin = new Admin(clusterOptions(brokers, props, 'sluice-admin'));
  try {
    await admin.connect();
    return await fn(admin);
  } catch (err) {
    throw connectionFailure(err, brokers);
  } finally {
    admin.close();
  }
}
