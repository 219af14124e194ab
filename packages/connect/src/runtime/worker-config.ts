/**
 * Worker settings under Kafka Connect's names. Unknown keys are kept (converters and clients
 * read their own prefixes), known ones are typed and checked.
 */
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
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
  .define({ name: 'listeners', type: 'LIST', defaultValue: ['http://:8083'], importance: 'LOW', documentation: 'REST listener, http://host:port or https://host:port (TLS from listeners.https.ssl.*, else ssl.*)' })
  .define({ name: 'rest.extension.classes', type: 'LIST', defaultValue: [], importance: 'LOW', documentation: 'REST extensions: org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension (HTTP Basic credentials from the JAAS file in KAFKA_OPTS)' })
  .define({ name: 'rest.advertised.listener', type: 'STRING', defaultValue: null, importance: 'LOW', documentation: 'Scheme other workers use for this worker: http or https (default: the listener\'s)' })
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
  /** The REST listener's scheme. */
  restScheme: 'http' | 'https';
  /** TLS of the https REST listener and of requests forwarded to other workers. */
  restTls: RestTls | null;
  /** TLS and SASL of the worker's own clients (internal topics, group membership): its top-level security.protocol, ssl.*, sasl.*. */
  security: SecurityOptions;
  clientConfigOverridePolicy: ClientConfigOverridePolicy;
}

export function parseWorkerConfig(raw: Record<string, string>): WorkerConfig {
  const v = workerConfigDef.parse(raw);
  let host = '';
  let port = 8083;
  let scheme: 'http' | 'https' = 'http';
  if (raw.listeners === undefined && v['rest.port'] !== null) {
    port = v['rest.port'] as number;
    host = (v['rest.host.name'] as string | null) ?? '';
  } else {
    const listener = (v.listeners as string[])[0] ?? '';
    const m = /^(https?):\/\/\[?([^\]]*?)\]?:(\d+)$/i.exec(listener);
    if (!m) throw new ConfigException('listeners', `Invalid value ${listener} for configuration listeners: expected http://host:port or https://host:port`);
    scheme = m[1].toLowerCase() as 'http' | 'https';
    host = m[2];
    port = Number(m[3]);
  }
  const advHost = (v['rest.advertised.host.name'] as string | null) ?? (host || 'localhost');
  const advPort = (v['rest.advertised.port'] as number | null) ?? port;
  const advertisedScheme = ((v['rest.advertised.listener'] as string | null) ?? scheme).toLowerCase();
  if (advertisedScheme !== 'http' && advertisedScheme !== 'https') throw new ConfigException('rest.advertised.listener', `Invalid value ${advertisedScheme} for configuration rest.advertised.listener: http or https`);
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
    advertisedUrl: `${advertisedScheme}://${advHost}:${advPort}/`,
    restScheme: scheme,
    // Clients of other workers' https listeners (forwarded requests) trust the same truststore.
    restTls: scheme === 'https' || advertisedScheme === 'https' ? restTls(raw) : null,
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

export interface RestTls {
  /** node:https server options: key and certificate, trusted client CAs, ssl.client.auth. */
  server: ServerOptions;
  /** node:https client options for forwarding: trusted CAs, and this worker's certificate when clients must present one. */
  client: ConnectionOptions;
}

/**
 * Kafka Connect's REST TLS settings: `listeners.https.ssl.*` when any is given, else the worker's
 * `ssl.*` — ssl.keystore.location (PEM with key and certificate, or PKCS12 with
 * ssl.keystore.password; ssl.key.password for an encrypted PEM key), ssl.truststore.location (PEM),
 * ssl.client.auth none|requested|required, ssl.endpoint.identification.algorithm ('' for none).
 */
export function restTls(raw: Record<string, string>): RestTls {
  const prefix = Object.keys(raw).some((k) => k.startsWith('listeners.https.')) ? 'listeners.https.' : '';
  const get = (key: string): string | undefined => raw[prefix + key]?.trim() || undefined;
  const read = (key: string): Buffer => {
    const path = get(key)!;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigException(prefix + key, `${prefix}${key} ${path}: ${(err as Error).message}`);
    }
  };
  const server: ServerOptions = {};
  const client: ConnectionOptions = {};
  if (!get('ssl.keystore.location')) throw new ConfigException(`${prefix}ssl.keystore.location`, `An https REST listener needs ${prefix}ssl.keystore.location (PEM with the key and certificate, or PKCS12)`);
  const keystore = read('ssl.keystore.location');
  const isPem = keystore.subarray(0, 64).toString('latin1').includes('-----BEGIN');
  const keystoreType = (get('ssl.keystore.type') ?? (isPem ? 'PEM' : 'PKCS12')).toUpperCase();
  if (keystoreType === 'PKCS12') Object.assign(server, { pfx: keystore, passphrase: get('ssl.keystore.password') });
  else if (keystoreType === 'PEM') Object.assign(server, { key: keystore, cert: keystore, ...(get('ssl.key.password') ? { passphrase: get('ssl.key.password') } : {}) });
  else throw new ConfigException(`${prefix}ssl.keystore.type`, `${prefix}ssl.keystore.type ${keystoreType} is not supported: use PEM or PKCS12`);
  if (get('ssl.truststore.location')) {
    const type = (get('ssl.truststore.type') ?? 'PEM').toUpperCase();
    const ca = read('ssl.truststore.location');
    if (type !== 'PEM' && !ca.subarray(0, 64).toString('latin1').includes('-----BEGIN')) throw new ConfigException(`${prefix}ssl.truststore.type`, `${prefix}ssl.truststore.type ${type} is not supported: use a PEM truststore`);
    server.ca = ca;
    client.ca = ca;
  }
  const clientAuth = (get('ssl.client.auth') ?? 'none').toLowerCase();
  if (!['none', 'requested', 'required'].includes(clientAuth)) throw new ConfigException(`${prefix}ssl.client.auth`, `Invalid value ${clientAuth} for configuration ${prefix}ssl.client.auth: none, requested or required`);
  if (clientAuth !== 'none') {
    server.requestCert = true;
    server.rejectUnauthorized = clientAuth === 'required';
    // Other workers are clients too: forwarded requests present this worker's certificate.
    Object.assign(client, server.pfx ? { pfx: server.pfx, passphrase: server.passphrase } : { key: server.key, cert: server.cert, passphrase: server.passphrase });
  }
  if ((raw[prefix + 'ssl.endpoint.identification.algorithm'] ?? 'https').trim() === '') client.checkServerIdentity = () => undefined;
  return { server, client };
}

/** What the REST server takes: TLS to serve with when the listener is https, and for forwarding to https workers. */
export function restServerTls(config: WorkerConfig): { https?: ServerOptions; forwardTls?: ConnectionOptions } {
  if (!config.restTls) return {};
  return { ...(config.restScheme === 'https' ? { https: config.restTls.server } : {}), forwardTls: config.restTls.client };
}
