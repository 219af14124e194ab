/**
 * Broker configuration keys: every setting Kafka defines (the generated catalogue gives its type,
 * default, valid values and update mode), with what Sluice knows on top: which settings it acts
 * on, its own default where a single broker differs from Kafka's, extra checks, and docs. Kafka's
 * settings Sluice does not act on are accepted, stored and reported, so a stock Kafka
 * `server.properties` starts unchanged and admin tools see Kafka's full list.
 */
import { topicConfigDefinitions, type KafkaConfigType, type KafkaValidValues } from '@sluice/storage';
import { kafkaBrokerConfigs, kafkaValueProblem, type UpdateMode } from './kafka-catalogue.js';

export type ConfigType = KafkaConfigType;

/** Kafka's DescribeConfigs configType values. */
export const ConfigTypeCode: Record<ConfigType, number> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

export interface ConfigDefinition {
  name: string;
  type: ConfigType;
  /** The default as Kafka would print it; null means "no value". */
  defaultValue: string | null;
  /** Kafka's documented valid values. */
  valid: KafkaValidValues | null;
  /** Sluice's own further rule: an error message for a value that parses but is not allowed. */
  validate?: (value: ConfigValue) => string | null;
  /** Kafka's update mode: whether (Incremental)AlterConfigs may change it, and at which level. */
  updateMode: UpdateMode;
  /** False: accepted, stored and reported, but nothing in Sluice acts on it. */
  actedOn: boolean;
  /** False for Sluice's own keys (and Kafka-internal ones its docs do not list). */
  kafka: boolean;
  doc: string;
}

export type ConfigValue = number | bigint | boolean | string | string[] | null;

const atLeast = (min: number) => (v: ConfigValue) => (typeof v === 'number' && v < min ? `must be at least ${min}` : null);
const oneOf = (allowed: string[]) => (v: ConfigValue) =>
  typeof v === 'string' && !allowed.includes(v) ? `must be one of ${allowed.join(', ')}` : null;

interface Overlay {
  name: string;
  type: ConfigType;
  defaultValue: string | null;
  doc: string;
  validate?: (value: ConfigValue) => string | null;
  /** Accepted for compatibility; does nothing here. */
  inert?: boolean;
}

function def(name: string, type: ConfigType, defaultValue: string | null, doc: string, extra: Pick<Overlay, 'validate' | 'inert'> = {}): Overlay {
  return { name, type, defaultValue, doc, ...extra };
}

/** Kafka settings with Sluice's doc and default (the one a single Sluice broker really uses). */
const SLUICE_SETTINGS: readonly Overlay[] = [
  def('node.id', 'int', '1', 'This broker\'s id, returned to clients as the node id and controller id.', { validate: atLeast(0) }),
  def('broker.id', 'int', null, 'Older name for node.id; when both are set they must agree.', { validate: atLeast(0) }),
  def('listeners', 'string', 'PLAINTEXT://127.0.0.1:9092', 'Where to listen, as NAME://host:port. An empty host or 0.0.0.0 listens on every interface; localhost listens on 127.0.0.1 and ::1.'),
  def('advertised.listeners', 'string', null, 'Addresses given to clients in Metadata; defaults to listeners (with the bound port).'),
  def('log.dirs', 'string', null, 'Data directories, comma-separated (JBOD): a new replica goes to the one holding the fewest partitions; the first also holds the broker\'s own files. Defaults to log.dir.'),
  def('log.dir', 'string', './data', 'Data directory when log.dirs is not set.'),
  def('num.partitions', 'int', '1', 'Partitions of an auto-created topic, and of CreateTopics asking for the default (-1).', { validate: atLeast(1) }),
  def('default.replication.factor', 'int', '1', 'Replication factor of auto-created topics; a single broker supports 1.', { validate: atLeast(1) }),
  def('auto.create.topics.enable', 'boolean', 'true', 'Create an unknown topic when a client asks Metadata for it or produces to it.'),
  def('delete.topic.enable', 'boolean', 'true', 'Allow DeleteTopics.'),
  def('message.max.bytes', 'int', '1048588', 'Largest record batch the broker accepts (after compression); the default of max.message.bytes.', { validate: atLeast(0) }),
  def('socket.request.max.bytes', 'int', '104857600', 'Largest request frame; larger frames close the connection before any memory is allocated.', { validate: atLeast(1) }),
  def('queued.max.requests', 'int', '500', 'Requests a connection may have in flight before the broker stops reading from it.', { validate: atLeast(1) }),
  def('socket.send.buffer.bytes', 'int', '102400', 'Connection write-buffer high-water mark: above it the broker stops reading requests from that connection.', { validate: atLeast(-1) }),
  def('socket.receive.buffer.bytes', 'int', '102400', 'Accepted for compatibility (the OS sizes receive buffers).', { inert: true }),
  def('socket.listen.backlog.size', 'int', '50', 'Listen backlog.', { validate: atLeast(1) }),
  def('connections.max.idle.ms', 'long', '600000', 'Close connections idle for longer than this (-1: never).'),
  def('fetch.max.bytes', 'int', '57671680', 'Upper bound on the bytes of one Fetch response.', { validate: atLeast(1024) }),
  def('num.network.threads', 'int', '3', 'Accepted for compatibility: Node serves connections on one event loop.', { inert: true }),
  def('num.io.threads', 'int', '8', 'Accepted for compatibility: disk I/O runs on libuv\'s pool.', { inert: true }),
  def('num.recovery.threads.per.data.dir', 'int', '2', 'Accepted for compatibility.', { inert: true }),
  def('num.replica.fetchers', 'int', '1', 'Replica fetchers (one connection each) per source broker.', { validate: atLeast(1) }),
  def('replica.fetch.max.bytes', 'int', '1048576', 'Bytes a follower asks for per partition in one fetch.', { validate: atLeast(0) }),
  def('replica.fetch.response.max.bytes', 'int', '10485760', 'Bytes a follower asks for in one fetch response.', { validate: atLeast(0) }),
  def('replica.fetch.wait.max.ms', 'int', '500', 'How long a follower fetch waits on the leader for new data.'),
  def('replica.fetch.min.bytes', 'int', '1', 'Bytes a follower fetch waits for on the leader.'),
  def('replica.fetch.backoff.ms', 'int', '1000', 'A follower\'s pause after a failed fetch.', { validate: atLeast(0) }),
  def('replica.lag.time.max.ms', 'long', '30000', 'A follower that has not caught up for this long leaves the ISR.'),
  def('process.roles', 'list', 'broker,controller', 'Accepted for compatibility: a Sluice broker is its own controller.', { inert: true }),
  def('controller.quorum.voters', 'list', '', 'Accepted for compatibility.', { inert: true }),
  def('controller.quorum.bootstrap.servers', 'list', '', 'Accepted for compatibility.', { inert: true }),
  def('controller.listener.names', 'string', null, 'Accepted for compatibility; controller listeners are not opened.', { inert: true }),
  def('inter.broker.listener.name', 'string', null, 'The listener other brokers connect to (replica fetchers); default: security.inter.broker.protocol\'s listener, else the first listener.'),
  def('listener.security.protocol.map', 'string', 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT', 'Listener name to security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL); a listener named after a protocol uses it.'),
  def('offsets.topic.replication.factor', 'short', '3', 'Replication factor of __consumer_offsets. In a cluster the topic is created once this many brokers are registered (until then FindCoordinator answers COORDINATOR_NOT_AVAILABLE); a single broker uses 1.', { validate: atLeast(1) }),
  def('offsets.topic.num.partitions', 'int', '50', 'Partitions of __consumer_offsets.', { validate: atLeast(1) }),
  def('transaction.state.log.replication.factor', 'short', '3', 'Replication factor of __transaction_state. In a cluster the topic is created once this many brokers are registered (until then FindCoordinator answers COORDINATOR_NOT_AVAILABLE); a single broker uses 1.', { validate: atLeast(1) }),
  def('transaction.state.log.min.isr', 'int', '2', 'min.insync.replicas of __transaction_state: a transaction state change is written only while this many replicas are in sync (a single broker uses 1).', { validate: atLeast(1) }),
  def('transaction.state.log.num.partitions', 'int', '50', 'Partitions of __transaction_state (a transactional id is placed by its hash).', { validate: atLeast(1) }),
  def('transaction.state.log.segment.bytes', 'int', '104857600', 'segment.bytes of __transaction_state when it is created.', { validate: atLeast(1) }),
  def('transaction.state.log.load.buffer.size', 'int', '5242880', 'Bytes read at a time from __transaction_state when a transaction coordinator shard loads.', { validate: atLeast(1) }),
  def('transaction.max.timeout.ms', 'int', '900000', 'Largest transaction.timeout.ms a producer may ask for (INVALID_TRANSACTION_TIMEOUT beyond).', { validate: atLeast(1) }),
  def('transaction.abort.timed.out.transaction.cleanup.interval.ms', 'int', '10000', 'How often transactions open past their timeout are aborted.', { validate: atLeast(1) }),
  def('transactional.id.expiration.ms', 'int', '604800000', 'A transactional id idle (no transaction) this long is forgotten.', { validate: atLeast(1) }),
  def('share.coordinator.state.topic.replication.factor', 'short', '1', 'Accepted for compatibility.', { inert: true }),
  def('share.coordinator.state.topic.min.isr', 'short', '1', 'Accepted for compatibility.', { inert: true }),
  def('group.initial.rebalance.delay.ms', 'int', '3000', 'How long the first rebalance of an empty group waits for more members before completing (extended while members keep arriving, up to the rebalance timeout).', { validate: atLeast(0) }),
  def('group.min.session.timeout.ms', 'int', '6000', 'Smallest session.timeout.ms a group member may ask for.', { validate: atLeast(1) }),
  def('group.max.session.timeout.ms', 'int', '1800000', 'Largest session.timeout.ms a group member may ask for.', { validate: atLeast(1) }),
  def('group.max.size', 'int', '2147483647', 'Most members one consumer group may have.', { validate: atLeast(1) }),
  def('offsets.retention.minutes', 'int', '10080', 'How long the committed offsets of a group without members (or of topics it no longer subscribes to) are kept.', { validate: atLeast(1) }),
  def('offsets.retention.check.interval.ms', 'long', '600000', 'How often expired committed offsets are looked for.', { validate: atLeast(1) }),
  def('offsets.commit.timeout.ms', 'int', '5000', 'Accepted for compatibility: a commit is acknowledged once appended to the local __consumer_offsets log.', { validate: atLeast(1), inert: true }),
  def('offsets.topic.segment.bytes', 'int', '104857600', 'segment.bytes of __consumer_offsets when it is created.', { validate: atLeast(1) }),
  def('offsets.topic.compression.codec', 'int', '0', 'Compression of the records the coordinator writes to __consumer_offsets (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).', { validate: (v) => (typeof v === 'number' && (v < 0 || v > 4) ? 'must be 0..4' : null) }),
  def('offsets.load.buffer.size', 'int', '5242880', 'Bytes read at a time from __consumer_offsets when the coordinator loads its state.', { validate: atLeast(1) }),
  def('offset.metadata.max.bytes', 'int', '4096', 'Largest metadata string an offset commit may carry.', { validate: atLeast(0) }),
  def('broker.rack', 'string', null, 'This broker\'s rack: replica placement spreads each partition over racks (Kafka\'s rack-aware assignment).'),
  def('replica.selector.class', 'string', null, 'KIP-392: how a partition leader picks the replica a consumer should fetch from (Fetch v11+ PreferredReadReplica). org.apache.kafka.common.replica.RackAwareReplicaSelector sends consumers whose client.rack matches a follower\'s broker.rack to that follower; org.apache.kafka.common.replica.LeaderSelector (or unset) keeps them on the leader.', {
    validate: (v) => (v === null || v === '' || v === 'org.apache.kafka.common.replica.RackAwareReplicaSelector' || v === 'org.apache.kafka.common.replica.LeaderSelector' ? null : 'must be org.apache.kafka.common.replica.RackAwareReplicaSelector or org.apache.kafka.common.replica.LeaderSelector'),
  }),
  def('broker.session.timeout.ms', 'int', '9000', 'How long a broker of a cluster stays registered without renewing its session (its etcd lease); then the controller moves its leadership away.', { validate: atLeast(1000) }),
  def('broker.heartbeat.interval.ms', 'int', '2000', 'How often a broker of a cluster renews its session (keeps its etcd lease alive).', { validate: atLeast(100) }),
  def('controlled.shutdown.enable', 'boolean', 'true', 'On a clean stop, a broker of a cluster first hands the partitions it leads to other in-sync replicas and leaves the ISRs, so clients see only retriable errors.'),
  def('auto.leader.rebalance.enable', 'boolean', 'true', 'The controller moves leadership back to preferred replicas (the first of each partition\'s replicas) when a broker leads too few of the partitions it should.'),
  def('leader.imbalance.check.interval.seconds', 'long', '300', 'How often the controller checks leader imbalance.', { validate: atLeast(1) }),
  def('log.retention.check.interval.ms', 'long', '300000', 'How often retention runs.'),
  def('replication.quota.window.num', 'int', '11', 'Samples the replication throttles measure their rate over (all but one count from the start, so a copy may burst at first).', { validate: atLeast(1) }),
  def('replication.quota.window.size.seconds', 'int', '1', 'Length of each sample of the replication throttles.', { validate: atLeast(1) }),
  def('alter.log.dirs.replication.quota.window.num', 'int', '11', 'Samples the throttle of replica moves between log directories (replica.alter.log.dirs.io.max.bytes.per.second) measures its rate over.', { validate: atLeast(1) }),
  def('alter.log.dirs.replication.quota.window.size.seconds', 'int', '1', 'Length of each sample of the log-directory move throttle.', { validate: atLeast(1) }),
  def('authorizer.class.name', 'string', '', 'kafka.security.authorizer.AclAuthorizer or org.apache.kafka.metadata.authorizer.StandardAuthorizer enables ACL authorization (both names mean the same authorizer); empty: every request is allowed.', {
    validate: (v) => (v === '' || v === null || v === 'kafka.security.authorizer.AclAuthorizer' || v === 'org.apache.kafka.metadata.authorizer.StandardAuthorizer' ? null : 'must be empty, kafka.security.authorizer.AclAuthorizer or org.apache.kafka.metadata.authorizer.StandardAuthorizer'),
  }),
  def('quota.window.num', 'int', '11', 'Number of samples kept per client quota (the rate is measured over this many windows).', { validate: atLeast(1) }),
  def('quota.window.size.seconds', 'int', '1', 'Length of one client-quota sample window.', { validate: atLeast(1) }),
  def('producer.id.expiration.ms', 'int', '86400000', 'How long the broker keeps the sequence state of an idempotent producer that has not written to a partition.', { validate: atLeast(1) }),
];

/** Not in Kafka's docs: Sluice's own settings, and Kafka-internal ones Sluice honours. All read-only. */
const OWN_SETTINGS: readonly Overlay[] = [
  def('producer.id.expiration.check.interval.ms', 'int', '600000', 'How often state of idle idempotent producers is looked for and dropped.', { validate: atLeast(1) }),
  def('super.users', 'string', null, 'The authorizer\'s super users: semicolon-separated principals (User:admin;User:ops) allowed everything.'),
  def('allow.everyone.if.no.acl.found', 'boolean', 'false', 'With the authorizer on: a resource no ACL applies to is open to everyone (true) or to super users only (false).'),
  def('cluster.id', 'string', null, 'Cluster id; generated and stored in the data directory on first start when not set.'),
  def('leader.imbalance.per.broker.percentage', 'int', '10', 'Kafka 3\'s setting (gone from Kafka 4\'s docs): the share of its preferred partitions a broker may not lead before the controller rebalances leadership.', { validate: atLeast(0) }),
  def('etcd.endpoints', 'list', '', 'The etcd cluster holding the cluster metadata (comma-separated URLs, e.g. http://127.0.0.1:2379). Empty: a single broker with its metadata in its data directory.'),
  def('etcd.prefix', 'string', '/sluice/', 'Key prefix of this cluster\'s metadata in etcd (several clusters may share one etcd).'),
  def('etcd.request.timeout.ms', 'int', '5000', 'Deadline of every etcd call; a metadata change that misses it fails with a retriable error.', { validate: atLeast(100) }),
  def('sluice.sasl.authentication.timeout.ms', 'int', '10000', 'A connection on a SASL listener that has not authenticated within this time is closed; also the TLS handshake timeout.', { validate: atLeast(100) }),
  def('sluice.clean.shutdown.timeout.ms', 'int', '10000', 'How long shutdown waits for in-flight requests before closing connections.', { validate: atLeast(0) }),
  def('metrics.port', 'int', '-1', 'Port of the HTTP endpoint serving /metrics (Prometheus text) and Burrow-style consumer lag (/v3/kafka/...); -1: off, 0: a free port.', { validate: atLeast(-1) }),
  def('metrics.bind.address', 'string', null, 'Address the metrics endpoint listens on; default: the host of the client listener (so a broker on 127.0.0.1 does not expose its metrics to the network). 0.0.0.0 for every IPv4 address.'),
  def('metrics.lag.window', 'int', '10', 'Commits kept per group and partition for the consumer status (Burrow\'s storage intervals).', { validate: atLeast(2) }),
  def('metrics.lag.min.distance.ms', 'int', '1000', 'Commits closer together than this replace the newest one in the window instead of adding to it (Burrow\'s min-distance).', { validate: atLeast(0) }),
];

/** Kafka settings Sluice acts on with Kafka's own default and meaning (listeners, TLS, SASL); each may be listener-prefixed. */
const KAFKA_SECURITY_SETTINGS: ReadonlyMap<string, string> = new Map([
  ['security.inter.broker.protocol', 'Picks the inter-broker listener by its security protocol when inter.broker.listener.name is not set.'],
  ['sasl.enabled.mechanisms', 'SASL mechanisms of SASL listeners: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (GSSAPI is refused).'],
  ['sasl.jaas.config', 'JAAS config: PlainLoginModule user_<name>="password" options are the PLAIN users; username/password are this broker\'s inter-broker credentials.'],
  ['sasl.mechanism.inter.broker.protocol', 'The mechanism this broker authenticates with to other brokers (PLAIN or SCRAM).'],
  ['connections.max.reauth.ms', 'SASL session lifetime (KIP-368): a connection must re-authenticate before it ends or is closed.'],
  ['sasl.oauthbearer.jwks.endpoint.url', 'OAUTHBEARER tokens are JWTs verified against this JWKS endpoint; unset: unsecured tokens (alg none).'],
  ['sasl.oauthbearer.expected.audience', 'OAUTHBEARER: the JWT audience must be one of these.'],
  ['sasl.oauthbearer.expected.issuer', 'OAUTHBEARER: the JWT issuer must be this.'],
  ['sasl.oauthbearer.sub.claim.name', 'OAUTHBEARER: the claim naming the principal.'],
  ['sasl.oauthbearer.clock.skew.seconds', 'OAUTHBEARER: allowed clock skew for exp.'],
  ['ssl.keystore.location', 'The TLS listener\'s keystore (PKCS12, or PEM with the key and the certificate chain); reloaded when the file changes.'],
  ['ssl.keystore.password', 'Password of a PKCS12 keystore.'],
  ['ssl.keystore.type', 'PKCS12 or PEM (JKS cannot be read by Node; a PEM file is recognised under the JKS default).'],
  ['ssl.keystore.key', 'The private key as PEM text (with ssl.keystore.certificate.chain).'],
  ['ssl.keystore.certificate.chain', 'The certificate chain as PEM text.'],
  ['ssl.key.password', 'Password of an encrypted PEM private key.'],
  ['ssl.truststore.location', 'CA certificates (PEM) client certificates are verified against; reloaded when the file changes.'],
  ['ssl.truststore.type', 'PEM (other truststore types are refused).'],
  ['ssl.truststore.certificates', 'CA certificates as PEM text.'],
  ['ssl.client.auth', 'required, requested or none: whether TLS clients present a certificate.'],
  ['ssl.principal.mapping.rules', 'DEFAULT and RULE:pattern/replacement/[LU] rules mapping a client certificate\'s subject DN to the principal name.'],
  ['ssl.enabled.protocols', 'TLSv1.2 and/or TLSv1.3.'],
  ['ssl.cipher.suites', 'Cipher suites (OpenSSL names; TLS 1.3 suites by their IANA names).'],
]);

const STORED_ONLY_DOC = 'A Kafka setting Sluice accepts, stores and reports, but does not act on.';

function buildDefinitions(): ConfigDefinition[] {
  const overlays = new Map(SLUICE_SETTINGS.map((o) => [o.name, o]));
  // Broker keys that give topic configs their defaults: acted on exactly when the topic config is,
  // and held to the topic config's rules (in its unit), so server.properties problems show at once.
  const topicDefaults = new Map<string, { topic: string; actedOn: boolean; validate: (value: ConfigValue) => string | null }>();
  for (const t of topicConfigDefinitions) {
    for (const s of t.synonyms) {
      if (topicDefaults.has(s.key)) continue;
      const validate = (value: ConfigValue) =>
        value === null || typeof value === 'bigint' ? null : t.validate(typeof value === 'number' ? value * s.scale : value);
      topicDefaults.set(s.key, { topic: t.name, actedOn: !t.storedOnly, validate });
    }
  }
  const out: ConfigDefinition[] = [];
  for (const spec of kafkaBrokerConfigs) {
    const overlay = overlays.get(spec.name);
    overlays.delete(spec.name);
    if (overlay && overlay.type !== spec.type) throw new Error(`${spec.name}: Sluice says ${overlay.type}, Kafka ${spec.type}`);
    const topicDefault = topicDefaults.get(spec.name);
    const defaultValue = overlay ? overlay.defaultValue : spec.defaultValue;
    const validate = overlay?.validate ?? topicDefault?.validate;
    // Where the docs' valid values refuse Kafka's own default (controller.quorum.voters says
    // "non-empty list" but defaults to empty), the docs describe the validator loosely: skip it.
    const valid = spec.valid && spec.defaultValue !== null && kafkaValueProblem(spec.type, spec.valid, spec.defaultValue) !== null ? null : spec.valid;
    out.push({
      name: spec.name,
      type: spec.type,
      defaultValue,
      valid,
      ...(validate ? { validate } : {}),
      updateMode: spec.updateMode,
      actedOn: overlay ? !overlay.inert : KAFKA_SECURITY_SETTINGS.has(spec.name) || (topicDefault?.actedOn ?? false),
      kafka: true,
      doc: overlay?.doc ?? KAFKA_SECURITY_SETTINGS.get(spec.name) ?? (topicDefault ? `Default of the topic config ${topicDefault.topic}.` : STORED_ONLY_DOC),
    });
  }
  if (overlays.size) throw new Error(`not Kafka settings: ${[...overlays.keys()].join(', ')}`);
  for (const o of OWN_SETTINGS) {
    out.push({ name: o.name, type: o.type, defaultValue: o.defaultValue, valid: null, ...(o.validate ? { validate: o.validate } : {}), updateMode: 'read-only', actedOn: true, kafka: false, doc: o.doc });
  }
  return out;
}

export const brokerConfigDefinitions: readonly ConfigDefinition[] = buildDefinitions();

export { atLeast, oneOf };
