/** What request handlers see of the broker. */
import { KafkaError } from '@sluice/protocol';
import type { BrokerConfig } from './config/broker-config.js';
import type { Dispatcher } from './dispatch/dispatcher.js';
import type { Logger } from './logger.js';
import type { MetadataStore } from './metadata/metadata-store.js';
import type { ReplicaManager } from './replica/replica-manager.js';
import type { BufferPool } from '@sluice/protocol';
import type { TopicManager } from './topics/topic-manager.js';
import type { Authorizer } from './security/acl-authorizer.js';
import type { ClientQuotaManager } from './quotas/client-quotas.js';
import type { BrokerMetrics } from './metrics/broker-metrics.js';

export interface Endpoint {
  host: string;
  port: number;
}

export interface BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly config: BrokerConfig;
  readonly metadata: MetadataStore;
  readonly topics: TopicManager;
  /** Every partition read and write goes through it (leadership, epochs, HW, delayed operations). */
  readonly replicaManager: ReplicaManager;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** Absolute data directory. */
  readonly dataDir: string;
  /** Recycled buffers for large frames and log reads (released by the connection once written). */
  readonly buffers: BufferPool;
  /**
   * The address clients are told to connect to (Metadata, DescribeCluster): that of the listener
   * named (the one the client connected to), else of the primary listener.
   */
  advertisedEndpoint(listenerName?: string): Endpoint;
  /** What the hot path counts when metrics are on (metrics.port set); null when off. */
  readonly metrics: BrokerMetrics | null;
  /** True once shutdown has begun: long polls answer at once. */
  readonly stopping: boolean;
  /** ACL authorization (`authorizer.class.name`); allows everything when not configured. */
  readonly authorizer: Authorizer;
  /** Client quotas (throttling of produce, fetch, request time and controller mutations). */
  readonly quotas: ClientQuotaManager;
}

/** Kafka's ACL operation codes, for the "authorized operations" bit sets (no ACLs: all allowed). */
const Op = { READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8, CLUSTER_ACTION: 9, DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12 };
const bits = (ops: number[]) => ops.reduce((acc, op) => acc | (1 << op), 0);

export const TOPIC_AUTHORIZED_OPERATIONS = bits([Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS]);
export const CLUSTER_AUTHORIZED_OPERATIONS = bits([Op.CREATE, Op.ALTER, Op.DESCRIBE, Op.CLUSTER_ACTION, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.IDEMPOTENT_WRITE]);
/** Sent when the client did not ask for authorized operations. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** The error code and message of a caught error: Kafka's own for KafkaError, else UNKNOWN_SERVER_ERROR. */
export function errorOf(err: unknown, logger: Logger, what: string): { code: number; message: string } {
  if (err instanceof KafkaError) return { code: err.code, message: err.message };
  logger.error(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return { code: -1, message: 'Unexpected error on the broker; see its log.' };
}
