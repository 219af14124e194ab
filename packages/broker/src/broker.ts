/**
 * startBroker: configuration, metadata store, logs, request handlers, network — in that order —
 * and a stop() that undoes them cleanly: stop accepting, answer parked fetches, finish in-flight
 * requests, close the logs (checkpoints and the clean-shutdown marker), close the metadata store.
 */
import { AclAuthorizer, ALLOW_ALL } from './security/acl-authorizer.js';
import { ClientQuotaManager } from './quotas/client-quotas.js';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { LogManager, brokerTopicDefaults, parseTopicConfig, type TopicConfig } from '@sluice/storage';
import { BrokerConfig, ConfigError, parseListener, type Listener } from './config/broker-config.js';
import type { BrokerContext, Endpoint } from './broker-context.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { BufferPool } from '@sluice/protocol';
import { ReplicaManager } from './replica/replica-manager.js';
import { ReplicationQuota } from './replica/replication-quota.js';
import { Controller } from './controller/controller.js';
import { controlledShutdown } from './controller/controlled-shutdown.js';
import { createLogger, silentLogger, type LogFormat, type Logger } from './logger.js';
import { FileMetadataStore } from './metadata/file-metadata-store.js';
import { EtcdMetadataStore } from './metadata/etcd-metadata-store.js';
import { lockDataDirectory } from './metadata/data-dir-lock.js';
import { checkOrWriteMetaProperties } from './metadata/meta-properties.js';
import type { MetadataStore } from './metadata/metadata-store.js';
import { NetworkServer, type BoundAddress } from './network/server.js';
import { StorageLogLayer } from './topics/storage-log-layer.js';
import { TopicManager, explicitTopicDefaults } from './topics/topic-manager.js';
import { registerCoreHandlers, type Idempotence } from './handlers/index.js';
import { startTransactionCoordinator, type TransactionCoordinator } from './transactions/index.js';
import { startGroupCoordinator, type GroupCoordinator } from './groups/index.js';
import { ProducerIdAllocator } from './producers/producer-ids.js';
import { BrokerMetrics } from './metrics/broker-metrics.js';
import { ConsumerLag } from './metrics/consumer-lag.js';
import { createRegistry } from './metrics/collectors.js';
import { MetricsServer } from './metrics/metrics-server.js';

export interface StartBrokerOptions {
  /** Data directory (log.dirs); default ./data. */
  dataDir?: string;
  /** Listen host; overrides the host of `listeners`. `localhost` means 127.0.0.1 and ::1. */
  host?: string;
  /** Listen port; 0 picks a free one. Overrides the port of `listeners`. */
  port?: number;
  /** A server.properties file. */
  configFile?: string;
  /** Where log lines go; default: nowhere (embedded use). The CLI passes stderr. */
  logSink?: ((line: string) => void) | null;
  /** How log lines look: `text` (default) or `json` (one object per line; see logger.ts). */
  logFormat?: LogFormat;
  /** A metadata store other than the file-backed one (multi-broker clusters). */
  metadataStore?: MetadataStore;
  /** This broker's node id (Kafka's node.id), for several brokers sharing one metadata store. */
  nodeId?: number;
  /** Any broker config by its Kafka name, e.g. `'num.partitions': 3`. */
  [kafkaConfig: string]: string | number | boolean | null | undefined | ((line: string) => void) | MetadataStore;
}

export interface RunningBroker {
  readonly host: string;
  readonly port: number;
  /** Every address listened on (localhost: IPv4 and IPv6). */
  readonly addresses: readonly BoundAddress[];
  readonly nodeId: number;
  readonly clusterId: string;
  readonly dataDir: string;
  /** Handlers, for components (the group coordinator) that register their own APIs. */
  readonly dispatcher: Dispatcher;
  readonly context: BrokerContext;
  /** The consumer-group coordinator. */
  readonly groups: GroupCoordinator;
  /** The transaction coordinator. */
  readonly transactions: TransactionCoordinator;
  /** Where /metrics is served (metrics.port set), else null. */
  readonly metricsEndpoint: { host: string; port: number } | null;
  stop(): Promise<void>;
}

const OPTION_KEYS = new Set(['dataDir', 'host', 'port', 'configFile', 'logSink', 'logFormat', 'metadataStore', 'nodeId']);

export async function startBroker(options: StartBrokerOptions = {}): Promise<RunningBroker> {
  const startedAt = performance.now();
  const overrides: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(options)) {
    if (OPTION_KEYS.has(key) || value === undefined || value === null || typeof value === 'function' || typeof value === 'object') continue;
    overrides[key] = value;
  }
  if (options.dataDir !== undefined) overrides['log.dirs'] = options.dataDir;
  if (options.nodeId !== undefined) overrides['node.id'] = options.nodeId;
  const config = BrokerConfig.load({ configFile: options.configFile, overrides });
  const logger = options.logSink ? createLogger(options.logSink, 'info', options.logFormat === 'json' ? 'json' : 'text', options.logFormat === 'json' ? { node_id: config.nodeId } : {}) : silentLogger;
  const listener = chooseListener(config, options);
  checkTopicDefaults(config);

  const dataDir = resolve(config.dataDir);
  const unlock = lockDataDirectory(dataDir);
  try {
    return await startLocked(options, config, listener, dataDir, logger, startedAt, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

async function startLocked(
  options: StartBrokerOptions,
  config: BrokerConfig,
  listener: Listener,
  dataDir: string,
  logger: Logger,
  startedAt: number,
  unlock: () => void,
): Promise<RunningBroker> {
  const metadata = options.metadataStore ?? createMetadataStore(config, dataDir, logger);
  await metadata.open();
  const wantedClusterId = config.string('cluster.id');
  if (wantedClusterId && metadata.clustered && metadata.clusterId !== wantedClusterId) {
    await metadata.close();
    throw new ConfigError([`cluster.id is ${wantedClusterId}, but the cluster in etcd is ${metadata.clusterId}`]);
  }
  try {
    checkOrWriteMetaProperties(dataDir, { clusterId: metadata.clusterId, nodeId: config.nodeId });
  } catch (err) {
    await metadata.close();
    throw err;
  }
  config.setDynamic('cluster', new Map(Object.entries(metadata.brokerConfigs(''))));
  config.setDynamic('broker', new Map(Object.entries(metadata.brokerConfigs(String(config.nodeId)))));

  const defaultsNow = () => brokerTopicDefaults(explicitTopicDefaults(config));
  const topicConfigs = new Map<string, TopicConfig>();
  for (const t of metadata.topics()) topicConfigs.set(t.name, parseTopicConfig(t.configs, defaultsNow()));
  const manager = await LogManager.open({
    dataDir,
    defaultConfig: parseTopicConfig({}, defaultsNow()),
    topicConfigs,
    retentionCheckIntervalMs: config.int('log.retention.check.interval.ms'),
    producerIdExpirationMs: () => config.int('producer.id.expiration.ms'),
    producerIdExpirationCheckIntervalMs: config.int('producer.id.expiration.check.interval.ms'),
    onBackgroundError: (message) => logger.error(message),
  });
  const logs = new StorageLogLayer(manager, logger);
  // Logs of topics the metadata does not know: a crash between creating logs and recording the
  // topic, or a deletion whose file removal did not finish.
  for (const l of manager.allLogs()) {
    const topic = metadata.topic(l.topic);
    if (!topic) {
      logger.warn(`removing the log of ${l.topic}-${l.partition}: no such topic in the metadata`);
      await manager.deleteLog(l.topic, l.partition);
    } else if (metadata.clustered && !topic.partitions[l.partition]?.replicas.includes(config.nodeId)) {
      // Reassigned away while this broker was down.
      logger.info(`removing the log of ${l.topic}-${l.partition}: its replicas (${topic.partitions[l.partition]?.replicas.join(',') ?? 'none'}) no longer include this broker`);
      await manager.deleteLog(l.topic, l.partition);
    }
  }
  const replicaManager = new ReplicaManager(config.nodeId, logs, logger);
  /** A replication quota whose bound is the dynamic broker config `rateConfig`, read live. */
  const replicationQuota = (rateConfig: string) =>
    new ReplicationQuota({
      rate: () => {
        const raw = config.rawValue(rateConfig);
        return raw === null || raw === '' ? null : Number(raw);
      },
      windowMs: config.int('replication.quota.window.size.seconds') * 1000,
      windows: config.int('replication.quota.window.num'),
    });
  replicaManager.startReplication(metadata, {
    numReplicaFetchers: config.int('num.replica.fetchers'),
    fetchMaxBytes: config.int('replica.fetch.max.bytes'),
    fetchResponseMaxBytes: config.int('replica.fetch.response.max.bytes'),
    fetchWaitMaxMs: config.int('replica.fetch.wait.max.ms'),
    fetchMinBytes: config.int('replica.fetch.min.bytes'),
    fetchBackoffMs: config.int('replica.fetch.backoff.ms'),
    replicaLagTimeMaxMs: config.int('replica.lag.time.max.ms'),
    leaderQuota: replicationQuota('leader.replication.throttled.rate'),
    followerQuota: replicationQuota('follower.replication.throttled.rate'),
  });
  const topics = new TopicManager(config.nodeId, config, metadata, replicaManager, logger);
  await topics.recover();
  manager.startBackgroundTasks();

  const authorizerClass = config.string('authorizer.class.name') ?? '';
  const aclAuthorizer =
    authorizerClass === ''
      ? null
      : new AclAuthorizer({ superUsers: config.string('super.users') ?? '', allowEveryoneIfNoAclFound: config.bool('allow.everyone.if.no.acl.found'), acls: () => metadata.acls() });
  const quotas = new ClientQuotaManager(metadata, { samples: config.int('quota.window.num'), windowMs: config.int('quota.window.size.seconds') * 1000 });
  metadata.onChange((change) => {
    if (change.kind === 'acls') aclAuthorizer?.invalidate();
    else if (change.kind === 'client-quotas') quotas.reload();
  });
  const metrics = config.int('metrics.port') >= 0 ? new BrokerMetrics() : null;
  const consumerLag = metrics === null ? null : new ConsumerLag(replicaManager, config.int('metrics.lag.window'), config.int('metrics.lag.min.distance.ms'));
  if (metrics !== null) metrics.lag = consumerLag;
  const dispatcher = new Dispatcher();
  dispatcher.quotas = quotas;
  const buffers = new BufferPool();
  let stopping = false;
  let advertised: Endpoint = { host: '127.0.0.1', port: listener.port };
  const context: BrokerContext = {
    nodeId: config.nodeId,
    clusterId: metadata.clusterId,
    config,
    metadata,
    topics,
    replicaManager,
    dispatcher,
    logger,
    dataDir,
    buffers,
    metrics,
    advertisedEndpoint: () => advertised,
    get stopping() {
      return stopping;
    },
    authorizer: aclAuthorizer ?? ALLOW_ALL,
    quotas,
  };
  const producerIds = new ProducerIdAllocator(metadata);
  const idempotence: Idempotence = { producerIds, transactions: null };
  registerCoreHandlers(context, idempotence);
  // The group coordinator rebuilds its groups from __consumer_offsets before clients can connect.
  const groups = await startGroupCoordinator(context, () => idempotence.transactions);
  // Then the transaction coordinator (its commits materialise offsets in the groups).
  const transactions = await startTransactionCoordinator(context, producerIds, groups);
  idempotence.transactions = transactions;

  const server = new NetworkServer({
    host: listener.host,
    port: listener.port,
    backlog: config.int('socket.listen.backlog.size'),
    limits: {
      maxFrameSize: config.int('socket.request.max.bytes'),
      maxInFlight: config.int('queued.max.requests'),
      writeHighWaterMark: Math.max(64 * 1024, config.int('socket.send.buffer.bytes')),
      idleTimeoutMs: config.int('connections.max.idle.ms'),
    },
    handler: (frame, connection) => dispatcher.handleFrame(frame, connection),
    frameReusable: (frame) => dispatcher.frameReusable(frame),
    bufferPool: buffers,
    onWarning: (m) => logger.warn(m),
    metrics: metrics === null ? null : { observer: metrics, listener: metrics.listener(listener.name) },
  });
  let bound: BoundAddress[];
  try {
    bound = await server.listen();
  } catch (err) {
    transactions.stop();
    groups.stop();
    await logs.close();
    await metadata.close();
    throw err;
  }
  const port = bound[0].port;
  advertised = advertisedEndpoint(config, listener, port);
  let metricsServer: MetricsServer | null = null;
  let metricsEndpoint: { host: string; port: number } | null = null;
  if (metrics !== null && consumerLag !== null) {
    consumerLag.attach(groups);
    const registry = createRegistry({ context, metrics, groups, lag: consumerLag });
    const configuredHost = config.string('metrics.bind.address');
    const host = configuredHost ?? (listener.host === '' ? '::' : listener.host === 'localhost' ? '127.0.0.1' : listener.host);
    metricsServer = new MetricsServer({ host, port: config.int('metrics.port'), registry, lag: consumerLag, clusterId: metadata.clusterId, logger });
    try {
      metricsEndpoint = await metricsServer.listen();
    } catch (err) {
      await server.close(0);
      transactions.stop();
      groups.stop();
      await logs.close();
      await metadata.close();
      throw new ConfigError([`metrics.port ${config.int('metrics.port')} on ${host}: ${(err as Error).message}`]);
    }
    logger.info(`metrics on http://${metricsEndpoint.host.includes(':') ? `[${metricsEndpoint.host}]` : metricsEndpoint.host}:${metricsEndpoint.port}/metrics`);
  }
  // Every broker runs the controller; it acts while the store names this broker controller.
  const controller = new Controller(config.nodeId, metadata, logger, {
    uncleanLeaderElection: (t) => topics.topicConfig(t).uncleanLeaderElectionEnable,
    leaderRebalance: () => ({
      enabled: config.bool('auto.leader.rebalance.enable'),
      intervalMs: config.int('leader.imbalance.check.interval.seconds') * 1000,
      imbalancePercentage: config.int('leader.imbalance.per.broker.percentage'),
    }),
  });
  controller.start();
  // Other brokers place replicas on this one and clients find it through the registration.
  await metadata.registerBroker({ nodeId: config.nodeId, host: advertised.host, port: advertised.port, rack: config.string('broker.rack') ?? null });
  logger.info(
    `Sluice broker ${config.nodeId} (cluster ${metadata.clusterId}) listening on ${bound.map((b) => (b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`)).join(', ')}, ` +
      `advertised as ${advertised.host}:${advertised.port}, data in ${dataDir}; ` +
      `${metadata.topics().length} topic(s), ${previousShutdown(manager.startup.cleanShutdown, manager.startup.logsOpened, metadata.topics().length)}; ready in ${(performance.now() - startedAt).toFixed(0)} ms`,
  );

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (metadata.clustered && config.bool('controlled.shutdown.enable')) {
        await replicaManager.stopFetchers();
        await controlledShutdown({ nodeId: config.nodeId, metadata, reconciler: topics.reconciler, logger, timeoutMs: config.int('sluice.clean.shutdown.timeout.ms') });
      }
      logger.info('shutting down: finishing in-flight requests');
      stopping = true;
      controller.stop();
      await replicaManager.shutdown();
      transactions.stop();
      groups.stop();
      await server.close(config.int('sluice.clean.shutdown.timeout.ms'));
      await metricsServer?.close();
      // Gone from the cluster at once, rather than when the session would have timed out.
      await metadata.unregisterBroker(config.nodeId).catch((err: unknown) => logger.warn(`unregistering from the cluster metadata failed: ${(err as Error).message}`));
      await logs.close();
      await metadata.close();
      unlock();
      logger.info('shut down cleanly');
    })();
    return stopped;
  };

  return {
    host: listener.host === '' ? '::' : listener.host,
    port,
    addresses: bound,
    transactions,
    nodeId: config.nodeId,
    clusterId: metadata.clusterId,
    dataDir,
    dispatcher,
    context,
    groups,
    metricsEndpoint,
    stop,
  };
}

/** etcd.endpoints set: a broker of a cluster whose metadata lives in etcd; else a single broker with its metadata in the data directory. */
function createMetadataStore(config: BrokerConfig, dataDir: string, logger: Logger): MetadataStore {
  const endpoints = config.list('etcd.endpoints').map((e) => e.trim()).filter(Boolean);
  if (!endpoints.length) return new FileMetadataStore(dataDir, config.string('cluster.id') ?? undefined);
  return new EtcdMetadataStore({
    endpoints,
    prefix: config.string('etcd.prefix') ?? '/sluice/',
    nodeId: config.nodeId,
    sessionTimeoutMs: config.int('broker.session.timeout.ms'),
    heartbeatIntervalMs: config.int('broker.heartbeat.interval.ms'),
    requestTimeoutMs: config.int('etcd.request.timeout.ms'),
    logger,
  });
}

function previousShutdown(clean: boolean, logsOpened: number, topics: number): string {
  if (clean) return 'clean previous shutdown';
  return logsOpened === 0 && topics === 0 ? 'new data directory' : 'previous shutdown was not clean: logs recovered';
}

function chooseListener(config: BrokerConfig, options: StartBrokerOptions): Listener {
  const controllerNames = new Set(config.list('controller.listener.names').map((n) => n.toUpperCase()));
  const listeners = config.list('listeners').map(parseListener).filter((l) => !controllerNames.has(l.name));
  const chosen = listeners.find((l) => l.name === 'PLAINTEXT') ?? listeners[0] ?? { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 };
  return {
    name: chosen.name,
    host: options.host ?? chosen.host,
    port: options.port ?? chosen.port,
  };
}

function advertisedEndpoint(config: BrokerConfig, listener: Listener, boundPort: number): Endpoint {
  const advertised = config.list('advertised.listeners').map(parseListener).find((l) => l.name === listener.name);
  if (advertised && advertised.host !== '') return { host: advertised.host, port: advertised.port === 0 ? boundPort : advertised.port };
  const host = listener.host === '' || listener.host === '0.0.0.0' || listener.host === '::' ? hostname() : listener.host;
  return { host, port: boundPort };
}

function checkTopicDefaults(config: BrokerConfig): void {
  try {
    parseTopicConfig({}, brokerTopicDefaults(explicitTopicDefaults(config)));
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

export type { Logger };
