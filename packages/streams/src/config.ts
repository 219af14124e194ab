/**
 * StreamsConfig: Kafka Streams' property names and defaults (see the streams config catalogue),
 * read from a plain object such as `{ 'application.id': 'wordcount', 'bootstrap.servers': 'host:9092' }`.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Serde } from './serdes.js';
import { DefaultProductionExceptionHandler, LogAndFailExceptionHandler, type DeserializationExceptionHandler, type ProductionExceptionHandler } from './runtime/errors.js';

export type ProcessingGuarantee = 'at_least_once' | 'exactly_once_v2';

export interface StreamsProperties {
  'application.id'?: string;
  'bootstrap.servers'?: string | string[];
  'state.dir'?: string;
  'processing.guarantee'?: ProcessingGuarantee;
  'commit.interval.ms'?: number;
  'num.standby.replicas'?: number;
  'replication.factor'?: number;
  'default.key.serde'?: Serde<unknown>;
  'default.value.serde'?: Serde<unknown>;
  'default.deserialization.exception.handler'?: DeserializationExceptionHandler;
  'default.production.exception.handler'?: ProductionExceptionHandler;
  /** host:port this instance serves interactive queries on; shared with the group for metadata-for-key. */
  'application.server'?: string;
  'client.id'?: string;
  /** Engine of DSL stores without an explicit store type: `rocksDB` (here: persistent LMDB, the default) or `in_memory`. */
  'default.dsl.store'?: 'rocksDB' | 'in_memory';
  'session.timeout.ms'?: number;
  'heartbeat.interval.ms'?: number;
  'max.poll.records'?: number;
  'poll.ms'?: number;
  [other: string]: unknown;
}

export class StreamsConfigError extends Error {
  override name = 'ConfigException';
}

export class StreamsConfig {
  readonly applicationId: string;
  readonly bootstrapServers: string[];
  readonly stateDir: string;
  readonly processingGuarantee: ProcessingGuarantee;
  readonly commitIntervalMs: number;
  readonly numStandbyReplicas: number;
  readonly replicationFactor: number;
  readonly defaultKeySerde: Serde<unknown> | undefined;
  readonly defaultValueSerde: Serde<unknown> | undefined;
  readonly deserializationHandler: DeserializationExceptionHandler;
  readonly productionHandler: ProductionExceptionHandler;
  readonly applicationServer: string | undefined;
  readonly clientId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxPollRecords: number;
  readonly pollMs: number;
  readonly dslStoreType: 'persistent' | 'in-memory';

  constructor(
    readonly originals: StreamsProperties,
    options: { requireBootstrap?: boolean; defaultApplicationId?: string } = {},
  ) {
    const appId = originals['application.id'] ?? options.defaultApplicationId;
    if (!appId) throw new StreamsConfigError('Missing required configuration "application.id" which has no default value.');
    if (!/^[a-zA-Z0-9._-]+$/.test(appId)) throw new StreamsConfigError(`application.id "${appId}" may only contain letters, digits, '.', '_' and '-'`);
    this.applicationId = appId;
    const servers = originals['bootstrap.servers'];
    this.bootstrapServers = servers === undefined ? [] : Array.isArray(servers) ? servers : servers.split(',').map((s) => s.trim()).filter(Boolean);
    if (options.requireBootstrap && this.bootstrapServers.length === 0) throw new StreamsConfigError('Missing required configuration "bootstrap.servers" which has no default value.');
    this.stateDir = originals['state.dir'] ?? join(tmpdir(), 'kafka-streams');
    const guarantee = originals['processing.guarantee'] ?? 'at_least_once';
    if (guarantee !== 'at_least_once' && guarantee !== 'exactly_once_v2') {
      throw new StreamsConfigError(`Invalid value ${String(guarantee)} for configuration processing.guarantee: String must be one of: at_least_once, exactly_once_v2`);
    }
    this.processingGuarantee = guarantee;
    this.commitIntervalMs = num(originals, 'commit.interval.ms', guarantee === 'exactly_once_v2' ? 100 : 30_000, 0);
    this.numStandbyReplicas = num(originals, 'num.standby.replicas', 0, 0);
    this.replicationFactor = num(originals, 'replication.factor', -1, -1);
    this.defaultKeySerde = originals['default.key.serde'];
    this.defaultValueSerde = originals['default.value.serde'];
    this.deserializationHandler = originals['default.deserialization.exception.handler'] ?? LogAndFailExceptionHandler;
    this.productionHandler = originals['default.production.exception.handler'] ?? DefaultProductionExceptionHandler;
    this.applicationServer = originals['application.server'];
    this.clientId = originals['client.id'] ?? appId;
    this.sessionTimeoutMs = num(originals, 'session.timeout.ms', 45_000, 1);
    this.heartbeatIntervalMs = num(originals, 'heartbeat.interval.ms', 3_000, 1);
    this.maxPollRecords = num(originals, 'max.poll.records', 1000, 1);
    this.pollMs = num(originals, 'poll.ms', 100, 0);
    const dslStore = originals['default.dsl.store'] ?? 'rocksDB';
    if (dslStore !== 'rocksDB' && dslStore !== 'in_memory') throw new StreamsConfigError(`Invalid value ${String(dslStore)} for configuration default.dsl.store: String must be one of: rocksDB, in_memory`);
    this.dslStoreType = dslStore === 'in_memory' ? 'in-memory' : 'persistent';
  }
}

function num(o: StreamsProperties, name: string, fallback: number, min: number): number {
  const v = o[name];
  if (v === undefined) return fallback;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min) throw new StreamsConfigError(`Invalid value ${String(v)} for configuration ${name}`);
  return n;
}
