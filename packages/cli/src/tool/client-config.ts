/**
 * Kafka client property names (as in producer.properties / consumer.properties and
 * --producer-property / --consumer-property) mapped onto @sluice/client options. Properties this
 * client has no equivalent for are reported, not silently dropped.
 */
import type { AssignorName, ConsumerOptions, ProducerOptions } from '@sluice/client';
import type { CompressionName } from '@sluice/protocol';
import { clusterOptions } from './connect.js';
import { UsageError } from './errors.js';
import { SECURITY_KEYS } from './security.js';
import type { Properties } from './properties.js';

/** Connection-level properties clusterOptions understands, accepted by every client. */
const CONNECTION_KEYS = new Set(['bootstrap.servers', 'client.id', 'security.protocol', 'request.timeout.ms', 'socket.connection.setup.timeout.ms', 'retries', 'retry.backoff.ms']);

function int(props: Properties, key: string, min = 0): number | undefined {
  const raw = props.get(key);
  if (raw === undefined) return undefined;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < min) throw new UsageError(`property ${key} must be an integer of at least ${min}, not "${raw}"`);
  return n;
}

function bool(props: Properties, key: string): boolean | undefined {
  const raw = props.get(key)?.trim().toLowerCase();
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw new UsageError(`property ${key} must be true or false, not "${raw}"`);
  return raw === 'true';
}

export function compressionOf(raw: string): CompressionName {
  const c = raw.trim().toLowerCase();
  if (c === 'none' || c === 'gzip' || c === 'snappy' || c === 'lz4' || c === 'zstd') return c;
  throw new UsageError(`compression must be none, gzip, snappy, lz4 or zstd, not "${raw}"`);
}

export function acksOf(raw: string): 0 | 1 | -1 {
  const a = raw.trim().toLowerCase();
  if (a === 'all' || a === '-1') return -1;
  if (a === '0') return 0;
  if (a === '1') return 1;
  throw new UsageError(`acks must be 0, 1, -1 or all, not "${raw}"`);
}

function unknownKeys(props: Properties, known: ReadonlySet<string>): string[] {
  return [...props.keys()].filter((k) => !known.has(k) && !CONNECTION_KEYS.has(k) && !SECURITY_KEYS.has(k));
}

const PRODUCER_KEYS = new Set([
  'acks',
  'linger.ms',
  'batch.size',
  'buffer.memory',
  'max.block.ms',
  'compression.type',
  'enable.idempotence',
  'delivery.timeout.ms',
  'max.in.flight.requests.per.connection',
  'partitioner.class',
  'key.serializer',
  'value.serializer',
]);

export function producerOptions(brokers: string[], props: Properties, defaultClientId: string): { options: ProducerOptions; ignored: string[] } {
  const options: ProducerOptions = { ...clusterOptions(brokers, props, defaultClientId) };
  const acks = props.get('acks');
  if (acks !== undefined) options.acks = acksOf(acks);
  options.lingerMs = int(props, 'linger.ms') ?? options.lingerMs;
  options.batchSize = int(props, 'batch.size', 1) ?? options.batchSize;
  options.bufferMemory = int(props, 'buffer.memory', 1) ?? options.bufferMemory;
  options.maxBlockMs = int(props, 'max.block.ms') ?? options.maxBlockMs;
  options.deliveryTimeoutMs = int(props, 'delivery.timeout.ms', 1) ?? options.deliveryTimeoutMs;
  options.maxInFlightRequestsPerConnection = int(props, 'max.in.flight.requests.per.connection', 1) ?? options.maxInFlightRequestsPerConnection;
  const compression = props.get('compression.type');
  if (compression !== undefined) options.compression = compressionOf(compression);
  const idempotence = bool(props, 'enable.idempotence');
  if (idempotence !== undefined) options.enableIdempotence = idempotence;
  const partitioner = props.get('partitioner.class');
  if (partitioner !== undefined) {
    if (/RoundRobin/i.test(partitioner)) options.partitioner = 'roundrobin';
    else if (/Default|murmur2/i.test(partitioner)) options.partitioner = 'default';
    else throw new UsageError(`partitioner.class ${partitioner} is not available (use DefaultPartitioner or RoundRobinPartitioner)`);
  }
  return { options, ignored: unknownKeys(props, PRODUCER_KEYS) };
}

const CONSUMER_KEYS = new Set([
  'group.id',
  'group.instance.id',
  'auto.offset.reset',
  'enable.auto.commit',
  'auto.commit.interval.ms',
  'isolation.level',
  'fetch.min.bytes',
  'fetch.max.wait.ms',
  'fetch.max.bytes',
  'max.partition.fetch.bytes',
  'session.timeout.ms',
  'heartbeat.interval.ms',
  'max.poll.interval.ms',
  'partition.assignment.strategy',
  'key.deserializer',
  'value.deserializer',
  'max.poll.records',
]);

const ASSIGNORS: Record<string, AssignorName> = {
  range: 'range',
  rangeassignor: 'range',
  roundrobin: 'roundrobin',
  roundrobinassignor: 'roundrobin',
  sticky: 'sticky',
  stickyassignor: 'sticky',
  'cooperative-sticky': 'cooperative-sticky',
  cooperativestickyassignor: 'cooperative-sticky',
};

export function consumerOptions(brokers: string[], props: Properties, defaultClientId: string): { options: ConsumerOptions; ignored: string[] } {
  const options: ConsumerOptions = { ...clusterOptions(brokers, props, defaultClientId) };
  const group = props.get('group.id');
  if (group !== undefined && group !== '') options.groupId = group;
  const instance = props.get('group.instance.id');
  if (instance) options.groupInstanceId = instance;
  const reset = props.get('auto.offset.reset');
  if (reset !== undefined) {
    if (reset !== 'earliest' && reset !== 'latest' && reset !== 'none') throw new UsageError(`auto.offset.reset must be earliest, latest or none, not "${reset}"`);
    options.autoOffsetReset = reset;
  }
  const autoCommit = bool(props, 'enable.auto.commit');
  if (autoCommit !== undefined) options.enableAutoCommit = autoCommit;
  options.autoCommitIntervalMs = int(props, 'auto.commit.interval.ms', 1) ?? options.autoCommitIntervalMs;
  const isolation = props.get('isolation.level');
  if (isolation !== undefined) {
    if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') throw new UsageError(`isolation.level must be read_committed or read_uncommitted, not "${isolation}"`);
    options.isolationLevel = isolation;
  }
  options.fetchMinBytes = int(props, 'fetch.min.bytes') ?? options.fetchMinBytes;
  options.fetchMaxWaitMs = int(props, 'fetch.max.wait.ms') ?? options.fetchMaxWaitMs;
  options.fetchMaxBytes = int(props, 'fetch.max.bytes', 1) ?? options.fetchMaxBytes;
  options.maxPartitionFetchBytes = int(props, 'max.partition.fetch.bytes', 1) ?? options.maxPartitionFetchBytes;
  options.sessionTimeoutMs = int(props, 'session.timeout.ms', 1) ?? options.sessionTimeoutMs;
  options.heartbeatIntervalMs = int(props, 'heartbeat.interval.ms', 1) ?? options.heartbeatIntervalMs;
  options.maxPollIntervalMs = int(props, 'max.poll.interval.ms', 1) ?? options.maxPollIntervalMs;
  const strategy = props.get('partition.assignment.strategy');
  if (strategy !== undefined) {
    options.assignors = strategy.split(',').map((s) => {
      const name = ASSIGNORS[s.trim().split('.').pop()!.toLowerCase()];
      if (!name) throw new UsageError(`partition.assignment.strategy ${s.trim()} is not available (range, roundrobin, sticky, cooperative-sticky)`);
      return name;
    });
  }
  return { options, ignored: unknownKeys(props, CONSUMER_KEYS) };
}
