/**
 * startBroker: configuration, metadata store, logs, request handlers, network — in that order —
 * and a stop() that undoes them cleanly: stop accepting, answer parked fetches, finish in-flight
 * requests, close the logs (checkpoints and the clean-shutdown marker), close the metadata store.
 */
import { AclAuthorizer, ALLOW_ALL } from './security/acl-authorizer.js';
import { ClientQuotaManager } from './quotas/client-quotas.js';
import { resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { LogManager, brokerTopicDefaults, parseTopicConfig, type TopicConfig } from '@sluice/storage';
import { BrokerConfig, ConfigError } from './config/broker-config.js';
import type { BrokerContext, Endpoint } from './broker-context.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { BufferPool } from '@sluice/protocol';
import { replicaSelectorFor } from './replica/replica-selector.js';
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
import type { ListenerEndpoint } from './metadata/metadata-store.js';
import { advertisedEndpointOf, configuredListeners, interBrokerListener, usesSasl, usesTls, type ListenerSpec } from './security/listeners.js';
import { setConnectionListener } from './security/session.js';
import { listenerTls, tlsPrincipal, watchTlsFiles } from './security/tls.js';
import { ListenerAuthenticator, registerSaslHandlers, type AuthenticationStats } from './security/sasl/authenticator.js';
import { ScramCredentialStore } from './security/sasl/scram-credentials.js';
import { registerScramCredentialHandlers } from './handlers/user-scram-credentials.js';
import { interBrokerClientOptions } from './security/inter-broker.js';
import type { Connection } from './network/connection.js';

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
  /** Every listener with its bound port and what clients are told (the primary listener first). */
  readonly listeners: readonly (ListenerEndpoint & { boundPort: number })[];
  /** Successful and failed authentications (SASL, and TLS handshakes refused). */
  readonly authentication: Readonly<AuthenticationStats>;
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
  const listeners = configuredListeners(config, { host: options.host, port: options.port });
  const interBroker = interBrokerListener(config, listeners);
  // TLS settings are checked before anything is opened.
  for (const l of listeners) if (usesTls(l.securityProtocol)) listenerTls(config, l.name);
  checkTopicDefaults(config);

  const dataDir = resolve(config.dataDir);
  // Every log directory is locked (Kafka's .lock in each), the first holding the broker's own files.
  const unlocks: Array<() => void> = [];
  const unlock = () => {
    for (const u of unlocks.splice(0).reverse()) u();
  };
  try {
    for (const dir of config.dataDirs) unlocks.push(lockDataDirectory(resolve(dir)));
  } catch (err) {
    unlock();
    throw err;
  }
  try {
    return await startLocked(options, config, listeners, interBroker, dataDir, logger, startedAt, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

async function startLocked(
  options: StartBrokerOptions,
  config: BrokerConfig,
  listeners: ListenerSpec[],
  interBroker: ListenerSpec,
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
    for (const dir of config.dataDirs) checkOrWriteMetaProperties(resolve(dir), { clusterId: metadata.clusterId, nodeId: config.nodeId });
  } catch (err) {
    await metadata.close();
    throw err;
  }
  config.setDynamic('cluster', new Map(Object.entries(metadata.brokerConfigs(''))));
  config.setDynamic('broker', new Map(Object.entries(metadata.brokerConfigs(String(config.nodeId)))));

  const defaultsNow = () => brokerTopicDefaults(explicitTopicDefaults(config));
  const topicConfigs = new Map<string, TopicConfig>();
  for (const t of metadata.topics()) topicConfigs.set(t.name, parseTopicConfig(t.configs, defaultsNow()));
  const managers: LogManager[] = [];
  for (const dir of config.dataDirs) {
    managers.push(
      await LogManager.open({
        dataDir: resolve(dir),
        defaultConfig: parseTopicConfig({}, defaultsNow()),
        topicConfigs,
        retentionCheckIntervalMs: config.int('log.retention.check.interval.ms'),
        producerIdExpirationMs: () => config.int('producer.id.expiration.ms'),
        producerIdExpirationCheckIntervalMs: config.int('producer.id.expiration.check.interval.ms'),
        onBackgroundError: (message) => logger.error(message),
      }),
    );
  }
  // Kafka refuses to start with one partition in two log directories (it cannot tell which is right).
  const seen = new Map<string, string>();
  for (const m of managers) {
    for (const l of m.allLogs()) {
      const name = `${l.topic}-${l.partition}`;
      const other = seen.get(name);
      if (other !== undefined) {
        await Promise.all(managers.map((x) => x.shutdown()));
        await metadata.close();
        throw new ConfigError([`duplicate log directories for ${name}: in ${other} and ${m.dataDir}; remove the stale one`]);
      }
      seen.set(name, m.dataDir);
    }
  }
  const manager = {
    allLogs: () => managers.flatMap((m) => m.allLogs()),
    deleteLog: (topic: string, partition: number) => Promise.all(managers.map((m) => m.deleteLog(topic, partition))),
    startBackgroundTasks: () => {
      for (const m of managers) m.startBackgroundTasks();
    },
    startup: {
      cleanShutdown: managers.every((m) => m.startup.cleanShutdown),
      logsOpened: managers.reduce((n, m) => n + m.startup.logsOpened, 0),
    },
  };
  const logs = new StorageLogLayer(managers, logger);
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
  const interBrokerConnections = interBrokerOptions(config, interBroker, metadata.clustered);
  /** A replication quota whose bound is the dynamic broker config `rateConfig`, read live. */
  const replicationQuota = (rateConfig: string, windowConfigs = 'replication.quota.window') =>
    new ReplicationQuota({
      rate: () => {
        const raw = config.rawValue(rateConfig);
        return raw === null || raw === '' ? null : Number(raw);
      },
      windowMs: config.int(`${windowConfigs}.size.seconds`) * 1000,
      windows: config.int(`${windowConfigs}.num`),
    });
  replicaManager.logDirMoves.quota = replicationQuota('replica.alter.log.dirs.io.max.bytes.per.second', 'alter.log.dirs.replication.quota.window');
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
    // Other brokers are reached on the inter-broker listener, with this broker's credentials.
    connectionOptions: interBrokerConnections,
  });
  // KIP-392: consumers with a client.rack are pointed at a replica in their rack.
  replicaManager.setReplicaSelector(replicaSelectorFor(config.string('replica.selector.class')), (id) =>
    id === config.nodeId ? (config.string('broker.rack') ?? null) : (metadata.brokers().find((b) => b.nodeId === id)?.rack ?? null),
  );
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
  const primary = listeners[0];
  const advertisedByListener = new Map<string, Endpoint>(listeners.map((l) => [l.name, { host: '127.0.0.1', port: l.port }]));
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
    advertisedEndpoint: (listenerName?: string) => advertisedByListener.get(listenerName ?? primary.name) ?? advertisedByListener.get(primary.name)!,
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
  // Then the transaction coordinator (its markers in __consumer_offsets settle the groups' transactional offsets).
  const transactions = await startTransactionCoordinator(context, producerIds, groups, interBrokerConnections);
  idempotence.transactions = transactions;
  registerSaslHandlers(dispatcher);
  const scramCredentials = new ScramCredentialStore(metadata);
  registerScramCredentialHandlers(context, scramCredentials);

  const authentication: AuthenticationStats = { successfulAuthentications: 0, failedAuthentications: 0, successfulReauthentications: 0 };
  const servers: { listener: ListenerSpec; server: NetworkServer; stopWatching: () => void }[] = [];
  const boundListeners: (ListenerEndpoint & { boundPort: number })[] = [];
  let bound: BoundAddress[] = [];
  try {
    for (const listener of listeners) {
      const tls = usesTls(listener.securityProtocol) ? listenerTls(config, listener.name) : null;
      const authenticator = usesSasl(listener.securityProtocol) ? new ListenerAuthenticator(listener, config, scramCredentials, logger, authentication) : null;
      const dispatch = (frame: Buffer, connection: Parameters<Dispatcher['handleFrame']>[1]) => dispatcher.handleFrame(frame, connection);
      const server: NetworkServer = new NetworkServer({
        host: listener.host,
        port: listener.port,
        backlog: config.int('socket.listen.backlog.size'),
        limits: {
          maxFrameSize: config.int('socket.request.max.bytes'),
          maxInFlight: config.int('queued.max.requests'),
          writeHighWaterMark: Math.max(64 * 1024, config.int('socket.send.buffer.bytes')),
          idleTimeoutMs: config.int('connections.max.idle.ms'),
        },
        handler: authenticator ? (frame, connection) => authenticator.handleFrame(frame, connection, dispatch) : dispatch,
        frameReusable: (frame) => dispatcher.frameReusable(frame),
        bufferPool: buffers,
        onWarning: (m) => logger.warn(m),
        metrics: metrics === null ? null : { observer: metrics, listener: metrics.listener(listener.name) },
        ...(tls ? { tls: tls.options } : {}),
        onTlsError: (message, address) => {
          authentication.failedAuthentications++;
          logger.warn(`failed authentication on listener ${listener.name} from ${address}: TLS handshake failed: ${message}`);
        },
        onConnection: (connection: Connection, socket) => {
          setConnectionListener(connection, listener.name);
          if (tls) {
            const tlsSocket = socket as TLSSocket;
            // As Java's SSLEngine with wantClientAuth: a certificate, if presented, must be trusted.
            if (tls.clientAuth === 'requested' && !tlsSocket.authorized && tlsSocket.getPeerX509Certificate?.() !== undefined) {
              authentication.failedAuthentications++;
              throw new Error(`failed authentication on listener ${listener.name}: untrusted client certificate (${String(tlsSocket.authorizationError)})`);
            }
            connection.authenticatedAs(tlsPrincipal(tlsSocket, tls.mapper));
          }
          authenticator?.onConnection(connection);
        },
      });
      // Certificates are re-read when their files change; new connections use them.
      let current = tls;
      const stopWatching = tls
        ? watchTlsFiles(tls.files, () => {
            try {
              current = listenerTls(config, listener.name);
              server.setSecureContext(current.options);
              logger.info(`listener ${listener.name}: TLS keystore/truststore reloaded`);
            } catch (err) {
              logger.error(`listener ${listener.name}: TLS reload failed, keeping the previous certificates: ${(err as Error).message}`);
            }
          })
        : () => {};
      servers.push({ listener, server, stopWatching });
      const addresses = await server.listen();
      if (listener === primary) bound = addresses;
      const endpoint = advertisedEndpointOf(config, listener, addresses[0].port);
      advertisedByListener.set(listener.name, { host: endpoint.host, port: endpoint.port });
      boundListeners.push({ ...endpoint, boundPort: addresses[0].port });
    }
  } catch (err) {
    for (const s of servers) {
      s.stopWatching();
      await s.server.close(0);
    }
    transactions.stop();
    groups.stop();
    await logs.close();
    await metadata.close();
    throw err;
  }
  const port = bound[0].port;
  const advertised = advertisedByListener.get(interBroker.name)!;
  let metricsServer: MetricsServer | null = null;
  let metricsEndpoint: { host: string; port: number } | null = null;
  if (metrics !== null && consumerLag !== null) {
    consumerLag.attach(groups);
    const registry = createRegistry({ context, metrics, groups, lag: consumerLag });
    const configuredHost = config.string('metrics.bind.address');
    const host = configuredHost ?? (primary.host === '' ? '::' : primary.host === 'localhost' ? '127.0.0.1' : primary.host);
    metricsServer = new MetricsServer({ host, port: config.int('metrics.port'), registry, lag: consumerLag, clusterId: metadata.clusterId, logger });
    try {
      metricsEndpoint = await metricsServer.listen();
    } catch (err) {
      await Promise.all(servers.map((s) => s.server.close(0)));
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
  await metadata.registerBroker({
    nodeId: config.nodeId,
    host: advertised.host,
    port: advertised.port,
    rack: config.string('broker.rack') ?? null,
    ...(listeners.length > 1 ? { endpoints: boundListeners.map(({ name, host, port: p, securityProtocol }) => ({ name, host, port: p, securityProtocol })) } : {}),
  });
  logger.info(
    `Sluice broker ${config.nodeId} (cluster ${metadata.clusterId}) listening on ${bound.map((b) => (b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`)).join(', ')}, ` +
      `advertised as ${boundListeners.map((l) => `${l.name}://${l.host}:${l.port}${l.securityProtocol !== l.name ? ` (${l.securityProtocol})` : ''}`).join(', ')}, data in ${dataDir}; ` +
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
      for (const s of servers) s.stopWatching();
      await Promise.all(servers.map((s) => s.server.close(config.int('sluice.clean.shutdown.timeout.ms'))));
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
    host: primary.host === '' ? '::' : primary.host,
    port,
    listeners: boundListeners,
    authentication,
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

/**
 * The inter-broker client settings. A single broker never connects to another, so incomplete
 * inter-broker SASL settings (Kafka's default mechanism is GSSAPI) only fail a connection attempt;
 * in a cluster they stop the start.
 */
function interBrokerOptions(config: BrokerConfig, listener: ListenerSpec, clustered: boolean): ReturnType<typeof interBrokerClientOptions> {
  try {
    return interBrokerClientOptions(config, listener);
  } catch (err) {
    if (clustered) throw err;
    return { sasl: () => Promise.reject(err) };
  }
}

function checkTopicDefaults(config: BrokerConfig): void {
  try {
    parseTopicConfig({}, brokerTopicDefaults(explicitTopicDefaults(config)));
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

export type { Logger };
