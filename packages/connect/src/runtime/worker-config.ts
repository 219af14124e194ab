/**
 * Worker settings under Kafka Connect's names. Unknown keys are kept (converters and clients
 * read their own prefixes), known ones are typed and checked.
 */
import { ClientConfigError, securityFromProperties, type SecurityOptions } from '@sluice/client';
import { ConfigDef, ConfigException, Validators } from '../api/config-def.js';
import type { ClientConfigOverridePolicy } from './connector-config.js';

export const workerConfigDef = new ConfigDef()
  .define({ name: 'bootstrap.servers', type: 'LIST', defaultValue: ['localhost:9092'], importance: 'HIGH', documentation: 'Brokers to connect to' })
  .define({ name: 'key.converter', type: 'CLASS', importance: 'HIGH', documentation: 'Converter class for record keys' })
  .define({ name: 'value.converter', type: 'CLASS', importance: 'HIGH', documentation: 'Converter class for record values' })
  .define({ name: 'header.converter', type: 'CLASS', defaultValue: 'org.apache.kafka.connect.storage.SimpleHeaderConverter', importance: 'LOW', documentation: 'Converter class for headers' })
  .define({ name: 'offset.storage.file.filename', type: 'STRING', defaultValue: '', importance: 'HIGH', documentation: 'File to store source connector offsets in (standalone)' })
  .define({ name: 'offset.flush.interval.ms', type: 'LONG', defaultValue: 60000, importance: 'LOW', documentation: 'Interval at which to try committing offsets for tasks', validator: Validators.atLeast(1) })
  .define({ name: 'offset.flush.timeout.ms', type: 'LONG', defaultValue: 5000, importance: 'LOW', documentation: 'Time to wait for records to flush before cancelling an offset commit' })
  .define({ name: 'listeners', type: 'LIST', defaultValue: ['http://:8083'], importance: 'LOW', documentation: 'REST listeners, protocol://host:port' })
  .define({ name: 'rest.port', type: 'INT', defaultValue: null, importance: 'LOW', documentation: 'Deprecated: the REST port when listeners is not set' })
  .define({ name: 'rest.host.name', type: 'STRING', defaultValue: null, importance: 'LOW', documentation: 'Deprecated: the REST host when listeners is not set' })
  .define({ name: 'rest.advertised.host.name', type: 'STRING', defaultValue: null, importance: 'LOW', documentation: 'Host name other workers and clients use for this worker' })
  .define({ name: 'rest.advertised.port', type: 'INT', defaultValue: null, importance: 'LOW', documentation: 'Port other workers and clients use for this worker' })
  .define({ name: 'plugin.path', type: 'LIST', defaultValue: [], importance: 'LOW', documentation: 'Directories holding connector plugin packages' })
  .define({ name: 'task.shutdown.graceful.timeout.ms', type: 'LONG', defaultValue: 5000, importance: 'LOW', documentation: 'Time to wait for tasks to stop gracefully' })
  .define({ name: 'client.id', type: 'STRING', defaultValue: '', importance: 'LOW', documentation: 'Client id prefix' })
  .define({
    name: 'connector.client.config.override.policy',
    type: 'STRING',
    defaultValue: 'All',
    importance: 'MEDIUM',
    documentation: 'Which producer.override.*, consumer.override.* and admin.override.* settings connectors may give: None, Principal (security.protocol, sasl.mechanism, sasl.jaas.config) or All',
    validator: Validators.in('None', 'Principal', 'All'),
  });

export interface WorkerConfig {
  raw: Record<string, string>;
  bootstrapServers: string[];
  keyConverter: string;
  valueConverter: string;
  headerConverter: string;
  offsetFile: string;
  offsetFlushIntervalMs: number;
  restHost: string;
  restPort: number;
  advertisedUrl: string;
  pluginPath: string[];
  gracefulShutdownMs: number;
  /** TLS and SASL of the worker's own clients (internal topics, group membership): its top-level security.protocol, ssl.*, sasl.*. */
  security: SecurityOptions;
  clientConfigOverridePolicy: ClientConfigOverridePolicy;
}

export function parseWorkerConfig(raw: Record<string, string>): WorkerConfig {
  const v = workerConfigDef.parse(raw);
  let host = '';
  let port = 8083;
  if (raw.listeners === undefined && v['rest.port'] !== null) {
    port = v['rest.port'] as number;
    host = (v['rest.host.name'] as string | null) ?? '';
  } else {
    const listener = (v.listeners as string[])[0] ?? '';
    const m = /^(https?):\/\/\[?([^\]]*?)\]?:(\d+)$/.exec(listener);
    if (!m) throw new ConfigException('listeners', `Invalid value ${listener} for configuration listeners: expected http://host:port`);
    if (m[1] !== 'http') throw new ConfigException('listeners', `Listener ${listener}: only http listeners are supported`);
    host = m[2];
    port = Number(m[3]);
  }
  const advHost = (v['rest.advertised.host.name'] as string | null) ?? (host || 'localhost');
  const advPort = (v['rest.advertised.port'] as number | null) ?? port;
  return {
    raw,
    bootstrapServers: v['bootstrap.servers'] as string[],
    keyConverter: v['key.converter'] as string,
    valueConverter: v['value.converter'] as string,
    headerConverter: v['header.converter'] as string,
    offsetFile: v['offset.storage.file.filename'] as string,
    offsetFlushIntervalMs: v['offset.flush.interval.ms'] as number,
    restHost: host,
    restPort: port,
    advertisedUrl: `http://${advHost}:${advPort}/`,
    pluginPath: v['plugin.path'] as string[],
    gracefulShutdownMs: v['task.shutdown.graceful.timeout.ms'] as number,
    security: clientSecurity(raw, ''),
    clientConfigOverridePolicy: v['connector.client.config.override.policy'] as ClientConfigOverridePolicy,
  };
}

/**
 * TLS and SASL options from Kafka client settings; a bad value is a ConfigException naming the
 * setting as the worker or connector spells it (`prefix` + key).
 */
export function clientSecurity(props: Record<string, string>, prefix: string): SecurityOptions {
  try {
    return securityFromProperties(props);
  } catch (err) {
    if (err instanceof ClientConfigError) throw new ConfigException(prefix + err.key, err.message);
    throw err;
  }
}

/**
 * Kafka Connect's client settings for a connector's clients (Worker.producerConfigs,
 * consumerConfigs, adminConfigs): producers take the worker's `producer.*`, consumers its
 * `consumer.*` (neither inherits the top-level settings), admin clients the top-level settings
 * then `admin.*`; each then the connector's own `<kind>.override.*`.
 */
export function connectorClientProps(kind: 'producer' | 'consumer' | 'admin', worker: Record<string, string>, connector: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  if (kind === 'admin') {
    for (const [k, v] of Object.entries(worker)) if (!k.startsWith('admin.') && !k.startsWith('producer.') && !k.startsWith('consumer.')) base[k] = v;
  }
  return { ...base, ...withPrefix(worker, `${kind}.`), ...withPrefix(connector, `${kind}.override.`) };
}

/** Settings with `prefix` removed, for converters (`key.converter.schemas.enable` → `schemas.enable`). */
export function withPrefix(props: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(props)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = val;
  return out;
}
