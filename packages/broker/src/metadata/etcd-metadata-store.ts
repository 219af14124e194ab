/**
 * MetadataStore on etcd (v3 API, npm `etcd3`): the cluster metadata of several brokers, each with
 * its own EtcdMetadataStore. Reads come from an in-memory view that only the load in open() and
 * one watch on the prefix update; every write is one compare-and-swap transaction and resolves
 * once the view has applied the watch event of its revision (read-your-writes).
 *
 * Layout under the prefix P (default `/sluice/`); values are JSON unless said otherwise:
 *
 *   P cluster-id                       the cluster id (a string), created once by a put-if-absent txn
 *   P topics/<name>                    { topicId, internal, createdAtMs }
 *   P partitions/<name>/<partition>    the partition's PartitionRegistration (replicas, leader,
 *                                      leaderEpoch, isr, partitionEpoch, adding/removingReplicas):
 *                                      one key each, so each partition is compared and swapped alone
 *   P topic-configs/<name>             the topic's explicit config overrides
 *   P broker-configs/<resource>        dynamic broker configs; resource `default` is Kafka's '' (the
 *                                      cluster-wide level), otherwise a node id
 *   P acls/<binding, URI-encoded>      one ACL binding each (its JSON value); the key is the
 *                                      binding's identity, so adding one twice is one key
 *   P client-quotas/<entity>           one quota entity's values, e.g. `user=alice,client-id@default`
 *   P producer-ids                     the next producer id not yet reserved (decimal string)
 *   P brokers/<nodeId>                 { host, port, rack, endpoints? }, attached to the broker's lease; the
 *                                      broker epoch is the key's mod revision (new at every registration)
 *   P controller/<lease id, hex>       a controller candidate (its node id), attached to the
 *                                      candidate's lease; the candidate with the lowest create
 *                                      revision is the controller and that revision its epoch
 *
 *   P topic-creations/<name>           the topic id of a creation under way that needs several txns
 *                                      (more partitions than --max-txn-ops), on the creator's lease
 *
 * A topic is created with one txn (topic, partitions, configs), so all its keys arrive in one
 * watch response and `topic-created` is emitted with the whole topic; a topic too wide for one
 * txn has its partition keys written first and its topic key last, and views build a topic only
 * when its topic key arrives. Deleting a topic is one txn.
 *
 * Every etcd call has a deadline (`requestTimeoutMs`): with etcd unreachable or without quorum a
 * write fails within it with REQUEST_TIMED_OUT (retriable), reads keep serving the last view, and
 * the watch reconnects and resumes from the last applied revision, so no event is missed.
 *
 * Sessions: the broker's lease has TTL ceil(broker.session.timeout.ms / 1000) s and is renewed
 * every broker.heartbeat.interval.ms. A controller that has not renewed for TTL minus one
 * heartbeat interval stops reporting itself controller (locally, before its lease can expire and
 * a successor be elected); when etcd lets it renew (or its lease is gone and it registers again)
 * it is a candidate again.
 */
import { randomBytes } from 'node:crypto';
import type { Etcd3, IKeyValue, IRequestOp, ICompare, ITxnResponse, IWatchResponse, IDuplexStream, IWatchRequest, IOptions } from 'etcd3';
// etcd3 loads gRPC and its protobuf definitions (~0.2 s): only a broker of a cluster pays for it, in open().
type Etcd3Library = typeof import('etcd3');
type GrpcLibrary = typeof import('@grpc/grpc-js');
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { Logger, LogLevel } from '../logger.js';
import {
  applyPartitionChange,
  partitionState,
  TopicExistsError,
  UnknownTopicError,
  type BrokerRegistration,
  type ListenerEndpoint,
  type ControllerGuard,
  type MetadataChange,
  type MetadataStore,
  type PartitionAssignment,
  type PartitionChange,
  type PartitionRegistration,
  type TopicMetadata,
  parseQuotaEntityKey,
  quotaEntityKey,
  type ClientQuotaEntity,
  type ClientQuotaRecord,
} from './metadata-store.js';
import { aclKey, type AclBinding } from '../security/acls.js';

export interface EtcdMetadataStoreOptions {
  /** etcd client URLs, e.g. ['http://127.0.0.1:2379']. */
  endpoints: readonly string[];
  /** Key prefix of this cluster (etcd.prefix); default `/sluice/`. */
  prefix?: string;
  /** This broker's node id. */
  nodeId: number;
  /** broker.session.timeout.ms: how long the registration outlives the last renewal. Default 9000. */
  sessionTimeoutMs?: number;
  /** broker.heartbeat.interval.ms: how often the lease is renewed. Default 2000. */
  heartbeatIntervalMs?: number;
  /** etcd.request.timeout.ms: deadline of every etcd call. Default 5000. */
  requestTimeoutMs?: number;
  /** etcd's --max-txn-ops (default 128): the most operations the store puts in one txn (wider topics are written in chunks). */
  maxTxnOps?: number;
  /** A Logger, or a function of (level, message). */
  logger?: Logger | ((level: LogLevel, message: string) => void);
}

interface TopicRecord {
  topicId: string;
  internal: boolean;
  createdAtMs: number;
}

interface BrokerRecord {
  host: string;
  port: number;
  rack: string | null;
  endpoints?: readonly ListenerEndpoint[];
}

interface Candidate {
  nodeId: number;
  createRevision: number;
  key: string;
}

/** One key's change, from the watch or from comparing a reload with the view. */
interface KeyEvent {
  type: 'put' | 'delete';
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

/** A policy that runs the call once: retries are ours, bounded by the deadline (etcd3's retry would replay CAS writes blindly). */
const once = { execute: async <T>(fn: (context: PolicyContext) => T | Promise<T>): Promise<T> => fn({ signal: new AbortController().signal, attempt: 1 }) };

type PolicyContext = { signal: AbortSignal; attempt: number };

/**
 * Per endpoint: a member that refused a connection is skipped for a second (while another may be
 * tried), so the calls of an outage go to the members that are up. Throwing before the call is
 * how etcd3's pool learns to try the next member.
 */
/** Its own class, so etcd3 does not take it for a gRPC error (which it would type as a refusal by etcd). */
class MemberSkippedError extends Error {}

function endpointPolicy() {
  let downUntil = 0;
  return {
    async execute<T>(fn: (context: PolicyContext) => T | Promise<T>): Promise<T> {
      if (Date.now() < downUntil) throw new MemberSkippedError('etcd member skipped: it refused a connection less than a second ago');
      try {
        return await fn({ signal: new AbortController().signal, attempt: 1 });
      } catch (err) {
        if (err instanceof Error && /UNAVAILABLE/.test(err.message)) downUntil = Date.now() + 1000;
        throw err;
      }
    },
  };
}

/**
 * A pause between attempts of a call that is still wanted: it keeps the process alive. (Unref'd, a
 * broker whose first etcd call was retrying while gRPC was between connections had nothing else
 * holding the event loop, and exited at start-up without a word.)
 */
/** How long a wide topic's creation claim outlives a creator without a broker session (seconds). */
const WIDE_TOPIC_CLAIM_TTL_S = 60;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class EtcdMetadataStore implements MetadataStore {
  readonly clustered = true;
  readonly nodeId: number;
  private readonly prefix: string;
  private readonly endpoints: readonly string[];
  private readonly sessionTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxTxnOps: number;
  private readonly log: (level: LogLevel, message: string) => void;
  private lib: Etcd3Library | null = null;
  /** gRPC call options of the watch: etcd's require-leader metadata (see startWatch). */
  private watchCallOptions: import('@grpc/grpc-js').CallOptions | undefined;
  private client: Etcd3 | null = null;
  private closed = false;

  // The view: only applyEvents() changes it.
  private id: string | null = null;
  private readonly topicsByName = new Map<string, TopicMetadata>();
  private readonly topicsById = new Map<string, TopicMetadata>();
  private readonly registrations = new Map<number, BrokerRegistration>();
  private readonly configsByResource = new Map<string, Record<string, string>>();
  private readonly aclBindings = new Map<string, AclBinding>();
  private readonly quotasByEntity = new Map<string, Record<string, number>>();
  private readonly candidates = new Map<string, Candidate>();
  private nextProducerId = 0n;
  /** Every key of the prefix as last seen (value and revisions), for reload diffs. */
  private readonly raw = new Map<string, KeyEvent>();
  private appliedRevision = 0;
  private revisionWaiters: { revision: number; resolve: () => void; reject: (err: Error) => void }[] = [];

  /** What listeners were last told about the controller (-1/-1: none, or this broker stepped down). */
  private reportedController = { id: -1, epoch: -1 };
  private readonly listeners = new Set<(change: MetadataChange) => void>();

  // This broker's session.
  private registration: Omit<BrokerRegistration, 'brokerEpoch'> | null = null;
  private leaseId: string | null = null;
  private leaseTtlMs = 0;
  /** When the last keepalive that etcd answered was sent. */
  private lastRenewalMs = 0;
  /** True while this broker's lease may have lapsed: it must not act as controller. */
  private fenced = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private fenceTimer: NodeJS.Timeout | null = null;
  private sessionTask: Promise<void> = Promise.resolve();

  private watchStream: IDuplexStream<IWatchRequest, IWatchResponse> | null = null;
  private watchBackoffMs = 100;
  private watchTimer: NodeJS.Timeout | null = null;

  constructor(options: EtcdMetadataStoreOptions) {
    if (!options.endpoints.length) throw new Error('EtcdMetadataStore needs at least one etcd endpoint');
    this.endpoints = options.endpoints;
    this.prefix = options.prefix ?? '/sluice/';
    this.nodeId = options.nodeId;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 9000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 2000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.maxTxnOps = options.maxTxnOps ?? 128;
    const logger = options.logger;
    this.log = !logger ? () => undefined : typeof logger === 'function' ? logger : (level, message) => logger[level](message);
  }

  // ---- etcd calls -------------------------------------------------------------------------

  private get etcd(): Etcd3 {
    if (!this.client || this.closed) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'cluster metadata store is closed');
    return this.client;
  }

  private unreachable(err: unknown): KafkaError {
    const why = err instanceof Error ? err.message : String(err);
    return new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `cluster metadata store (etcd at ${this.endpoints.join(',')}) unreachable: ${why}`);
  }

  /**
   * Runs `fn` with a gRPC deadline until it succeeds or `deadlineMs` has passed, retrying failures
   * of the connection (another endpoint may answer). Everything we retry is either a read or a
   * compare-and-swap whose caller recognises its own earlier success in the compare's failure.
   */
  private async call<T>(fn: (options: { deadline: Date }) => Promise<T>, deadlineMs = this.requestTimeoutMs, attempts?: { count: number }): Promise<T> {
    const deadline = Date.now() + deadlineMs;
    let lastError: unknown = new Error('no attempt');
    for (let attempt = 0; ; attempt++) {
      if (attempts) attempts.count = attempt + 1;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) throw this.unreachable(lastError);
      // One attempt gets a part of the deadline: a proposal a follower forwarded to a leader that
      // just died is never answered, and another member (or the new leader) answers a retry.
      const attemptMs = Math.min(left, Math.max(500, Math.floor(deadlineMs / 3)));
      let timer: NodeJS.Timeout | undefined;
      try {
        // The timer is a backstop should a call not honour its gRPC deadline.
        return await Promise.race([
          fn({ deadline: new Date(Date.now() + attemptMs) }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${attemptMs} ms`)), attemptMs + 50);
          }),
        ]);
      } catch (err) {
        // A skipped member says less than the failure that made us skip it.
        if (!(err instanceof MemberSkippedError) || attempt === 0) lastError = err;
        const lib = this.lib!;
        if (err instanceof KafkaError || err instanceof lib.EtcdLeaseInvalidError) throw err;
        // etcd answered and refused (a bad request, a limit): retrying cannot help.
        if ((err instanceof lib.GRPCGenericError || err instanceof lib.EtcdError) && !lib.isRecoverableError(err)) {
          throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `cluster metadata store (etcd at ${this.endpoints.join(',')}) refused the request: ${err.message}`);
        }
      } finally {
        clearTimeout(timer);
      }
      await sleep(Math.min(50 * 2 ** Math.min(attempt, 3), Math.max(0, deadline - Date.now())));
    }
  }

  private key(suffix: string): Buffer {
    return Buffer.from(this.prefix + suffix);
  }

  /** One transaction; `attempts` tells the caller whether an earlier attempt may have applied it. */
  private txn(compare: ICompare[], success: IRequestOp[], failure: IRequestOp[] = [], attempts?: { count: number }): Promise<ITxnResponse> {
    return this.call((options) => this.etcd.kv.txn({ compare, success, failure }, options), this.requestTimeoutMs, attempts);
  }

  private static put(key: Buffer, value: unknown, lease?: string): IRequestOp {
    return { request_put: { key, value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), ...(lease ? { lease } : {}) } };
  }

  private static get(key: Buffer, rangeEnd?: Buffer): IRequestOp {
    return { request_range: { key, ...(rangeEnd ? { range_end: rangeEnd } : {}) } };
  }

  private static del(key: Buffer, rangeEnd?: Buffer): IRequestOp {
    return { request_delete_range: { key, ...(rangeEnd ? { range_end: rangeEnd } : {}) } };
  }

  private static absent(key: Buffer): ICompare {
    return { key, target: 'Create', result: 'Equal', create_revision: 0 } as ICompare;
  }

  private static present(key: Buffer): ICompare {
    return { key, target: 'Create', result: 'Greater', create_revision: 0 } as ICompare;
  }

  /** The kvs of the i-th range in a txn's responses. */
  private static kvsOf(res: ITxnResponse, i: number): IKeyValue[] {
    return res.responses[i]?.response_range?.kvs ?? [];
  }

  // ---- open and the view -----------------------------------------------------------------

  async open(): Promise<void> {
    const options: IOptions = {
      hosts: [...this.endpoints],
      dialTimeout: this.requestTimeoutMs,
      faultHandling: { global: once as never, host: () => endpointPolicy() as never },
      grpcOptions: {
        // Reconnect promptly when etcd comes back (gRPC's default backoff grows to minutes). No gRPC
        // keepalive pings: against etcd's default enforcement each ping dropped the connection (the
        // watch was interrupted every interval); a lost etcd shows through the lease keepalives,
        // which have deadlines.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.use_local_subchannel_pool': 1,
      },
    };
    this.lib ??= await import('etcd3');
    this.watchCallOptions ??= requireLeader(await import('@grpc/grpc-js'));
    this.client = new this.lib.Etcd3(options);
    try {
      const idKey = this.key('cluster-id');
      const created = await this.txn([EtcdMetadataStore.absent(idKey)], [EtcdMetadataStore.put(idKey, randomBytes(16).toString('base64url'))]);
      if (created.succeeded) this.log('info', `created cluster id in etcd at ${this.endpoints.join(',')}`);
      await this.reload(false);
      this.startWatch();
      this.fenceTimer = setInterval(() => this.checkFence(), Math.max(50, Math.min(250, this.heartbeatIntervalMs / 4)));
      this.fenceTimer.unref();
    } catch (err) {
      this.client.close();
      this.client = null;
      throw err;
    }
  }

  get clusterId(): string {
    if (this.id === null) throw new Error('metadata store is not open');
    return this.id;
  }

  /** Loads the whole prefix at one revision and applies the difference to the view (emitting it when `emit`). */
  private async reload(emit: boolean): Promise<void> {
    const prefix = Buffer.from(this.prefix);
    const res = await this.call((options) => this.etcd.kv.range({ key: prefix, range_end: prefixEnd(prefix) }, options));
    const revision = Number(res.header.revision);
    const seen = new Set<string>();
    const events: KeyEvent[] = [];
    for (const kv of res.kvs) {
      const e = this.toEvent('put', kv);
      seen.add(e.key);
      const old = this.raw.get(e.key);
      if (!old || old.modRevision !== e.modRevision) events.push(e);
    }
    for (const [key, old] of this.raw) if (!seen.has(key)) events.push({ ...old, type: 'delete', modRevision: revision });
    this.applyEvents(events, emit);
    this.advance(revision);
  }

  private toEvent(type: 'put' | 'delete', kv: IKeyValue): KeyEvent {
    return {
      type,
      key: kv.key.toString().slice(this.prefix.length),
      value: kv.value?.toString() ?? '',
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  private startWatch(): void {
    if (this.closed || !this.client) return;
    const prefix = Buffer.from(this.prefix);
    this.etcd.watchClient
      .watch(this.watchCallOptions)
      .then((stream) => {
        if (this.closed) {
          stream.cancel();
          return;
        }
        this.watchStream = stream;
        let failed = false;
        const fail = (err: unknown) => {
          if (failed) return;
          failed = true;
          if (this.watchStream === stream) this.watchStream = null;
          stream.cancel();
          if (!this.closed) this.log('warn', `etcd watch interrupted (${err instanceof Error ? err.message : String(err)}); resuming from revision ${this.appliedRevision + 1}`);
          this.retryWatch();
        };
        stream.on('data', (res: IWatchResponse) => {
          try {
            this.onWatchResponse(res, fail);
          } catch (err) {
            this.log('error', `etcd watch: ${err instanceof Error ? err.stack : String(err)}`);
          }
        });
        stream.on('error', fail);
        stream.on('end', () => fail(new Error('watch stream ended')));
        stream.write({ create_request: { key: prefix, range_end: prefixEnd(prefix), start_revision: this.appliedRevision + 1, progress_notify: true } });
      })
      .catch(() => this.retryWatch());
  }

  private retryWatch(): void {
    if (this.closed || this.watchTimer) return;
    this.watchTimer = setTimeout(() => {
      this.watchTimer = null;
      this.startWatch();
    }, this.watchBackoffMs);
    this.watchBackoffMs = Math.min(this.watchBackoffMs * 2, 1000);
  }

  private onWatchResponse(res: IWatchResponse, fail: (err: Error) => void): void {
    if (res.canceled) {
      if (Number(res.compact_revision) > 0) {
        // The revisions we missed were compacted away: load everything and emit the difference.
        this.log('warn', `etcd watch: revision ${this.appliedRevision + 1} was compacted; reloading the metadata`);
        this.reload(true).then(
          () => fail(new Error('reloaded after compaction')),
          (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
        );
        return;
      }
      fail(new Error(`watch canceled: ${res.cancel_reason}`));
      return;
    }
    this.watchBackoffMs = 100;
    if (res.created) return;
    if (!res.events.length) {
      // A progress notification: every event up to this revision has been sent.
      this.advance(Number(res.header.revision));
      return;
    }
    // One txn is one revision: apply each revision's events together.
    let group: KeyEvent[] = [];
    let revision = 0;
    for (const ev of res.events) {
      const e = this.toEvent(String(ev.type).toUpperCase() === 'DELETE' ? 'delete' : 'put', ev.kv);
      if (e.modRevision <= this.appliedRevision) continue;
      if (group.length && e.modRevision !== revision) {
        this.applyEvents(group, true);
        this.advance(revision);
        group = [];
      }
      revision = e.modRevision;
      group.push(e);
    }
    if (group.length) {
      this.applyEvents(group, true);
      this.advance(revision);
    }
  }

  private advance(revision: number): void {
    if (revision <= this.appliedRevision) return;
    this.appliedRevision = revision;
    const ready = this.revisionWaiters.filter((w) => w.revision <= revision);
    if (!ready.length) return;
    this.revisionWaiters = this.revisionWaiters.filter((w) => w.revision > revision);
    for (const w of ready) w.resolve();
  }

  /** Resolves once the view has applied `revision` (a write's), so the writer reads its write. */
  private waitForRevision(revision: number): Promise<void> {
    if (revision <= this.appliedRevision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { revision, resolve: () => (clearTimeout(timer), resolve()), reject };
      const timer = setTimeout(() => {
        this.revisionWaiters = this.revisionWaiters.filter((w) => w !== waiter);
        reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `cluster metadata store: the change at revision ${revision} was written but the watch of etcd at ${this.endpoints.join(',')} has not delivered it within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.revisionWaiters.push(waiter);
    });
  }

  /** Applies the events of one revision (or a reload) to the view and tells the listeners, in a fixed order. */
  private applyEvents(events: KeyEvent[], emit: boolean): void {
    const out: MetadataChange[] = [];
    const created = new Set<string>();
    const deleted: TopicMetadata[] = [];
    const touchedPartitions: { topic: string; partition: number; value: PartitionRegistration | null }[] = [];
    const touchedConfigs = new Set<string>();
    let controllerTouched = false;
    let aclsTouched = false;

    // The raw keys first: a topic's partitions follow its topic key in the txn that creates it.
    for (const e of events) {
      if (e.type === 'put') this.raw.set(e.key, e);
      else this.raw.delete(e.key);
    }
    for (const e of events) {
      const slash = e.key.indexOf('/');
      const kind = slash < 0 ? e.key : e.key.slice(0, slash);
      const rest = slash < 0 ? '' : e.key.slice(slash + 1);
      switch (kind) {
        case 'cluster-id':
          if (e.type === 'put') this.id = e.value;
          break;
        case 'topics': {
          const existing = this.topicsByName.get(rest);
          if (e.type === 'delete') {
            if (existing) {
              this.topicsByName.delete(rest);
              this.topicsById.delete(existing.topicId);
              deleted.push(existing);
            }
          } else if (!existing) {
            const record = JSON.parse(e.value) as TopicRecord;
            const topic: TopicMetadata = { name: rest, topicId: record.topicId, internal: record.internal, createdAtMs: record.createdAtMs, partitions: [], configs: {} };
            // Partitions and configs written before (a reload) or in this same txn.
            for (const [k, kv] of this.raw) {
              if (k.startsWith(`partitions/${rest}/`)) topic.partitions.push(JSON.parse(kv.value) as PartitionRegistration);
              else if (k === `topic-configs/${rest}`) topic.configs = JSON.parse(kv.value) as Record<string, string>;
            }
            topic.partitions.sort((a, b) => a.partition - b.partition);
            this.topicsByName.set(rest, topic);
            this.topicsById.set(topic.topicId, topic);
            created.add(rest);
          }
          break;
        }
        case 'partitions': {
          const cut = rest.lastIndexOf('/');
          touchedPartitions.push({ topic: rest.slice(0, cut), partition: Number(rest.slice(cut + 1)), value: e.type === 'put' ? (JSON.parse(e.value) as PartitionRegistration) : null });
          break;
        }
        case 'topic-configs': {
          const topic = this.topicsByName.get(rest);
          if (topic && !created.has(rest)) {
            topic.configs = e.type === 'put' ? (JSON.parse(e.value) as Record<string, string>) : {};
            touchedConfigs.add(rest);
          }
          break;
        }
        case 'broker-configs': {
          const resource = rest === 'default' ? '' : rest;
          const configs = e.type === 'put' ? (JSON.parse(e.value) as Record<string, string>) : {};
          if (Object.keys(configs).length) this.configsByResource.set(resource, configs);
          else this.configsByResource.delete(resource);
          out.push({ kind: 'broker-configs', resourceName: resource, configs: { ...configs } });
          break;
        }
        case 'acls': {
          const key = decodeURIComponent(rest);
          if (e.type === 'put') this.aclBindings.set(key, JSON.parse(e.value) as AclBinding);
          else this.aclBindings.delete(key);
          aclsTouched = true;
          break;
        }
        case 'client-quotas': {
          const values = e.type === 'put' ? (JSON.parse(e.value) as Record<string, number>) : {};
          if (Object.keys(values).length) this.quotasByEntity.set(rest, values);
          else this.quotasByEntity.delete(rest);
          out.push({ kind: 'client-quotas', entity: parseQuotaEntityKey(rest), values: { ...values } });
          break;
        }
        case 'producer-ids': {
          const next = e.type === 'put' ? BigInt(e.value) : 0n;
          if (next > this.nextProducerId) out.push({ kind: 'producer-ids-reserved', first: this.nextProducerId, count: Number(next - this.nextProducerId) });
          this.nextProducerId = next;
          break;
        }
        case 'brokers': {
          const nodeId = Number(rest);
          if (e.type === 'put') {
            const record = JSON.parse(e.value) as BrokerRecord;
            const registration: BrokerRegistration = { nodeId, brokerEpoch: BigInt(e.modRevision), host: record.host, port: record.port, rack: record.rack, ...(record.endpoints ? { endpoints: record.endpoints } : {}) };
            this.registrations.set(nodeId, registration);
            out.push({ kind: 'broker-registered', broker: registration });
          } else {
            const registration = this.registrations.get(nodeId);
            if (registration) {
              this.registrations.delete(nodeId);
              out.push({ kind: 'broker-unregistered', broker: registration });
            }
          }
          break;
        }
        case 'controller':
          if (e.type === 'put') this.candidates.set(e.key, { key: e.key, nodeId: Number(e.value), createRevision: e.createRevision });
          else this.candidates.delete(e.key);
          controllerTouched = true;
          break;
        default:
          break;
      }
    }

    // Partition keys: changes of existing partitions, partitions added to existing topics.
    const added = new Map<string, PartitionAssignment[]>();
    const changed: MetadataChange[] = [];
    for (const p of touchedPartitions) {
      const topic = this.topicsByName.get(p.topic);
      if (!topic || created.has(p.topic) || !p.value) continue;
      const index = topic.partitions.findIndex((q) => q.partition === p.partition);
      if (index >= 0) {
        const previous = partitionState(topic.partitions[index]);
        topic.partitions[index] = p.value;
        changed.push({ kind: 'partition-changed', topic, previous, current: p.value });
      } else {
        topic.partitions.push(p.value);
        topic.partitions.sort((a, b) => a.partition - b.partition);
        const list = added.get(p.topic) ?? [];
        list.push(p.value);
        added.set(p.topic, list);
      }
    }

    const ordered: MetadataChange[] = [];
    for (const topic of deleted) ordered.push({ kind: 'topic-deleted', topic });
    for (const name of created) ordered.push({ kind: 'topic-created', topic: this.topicsByName.get(name)! });
    for (const [name, list] of added) ordered.push({ kind: 'partitions-added', topic: this.topicsByName.get(name)!, added: list });
    ordered.push(...changed);
    for (const name of touchedConfigs) ordered.push({ kind: 'topic-configs', topic: this.topicsByName.get(name)! });
    ordered.push(...out);
    if (aclsTouched) ordered.push({ kind: 'acls' });
    if (emit) for (const change of ordered) this.emit(change);
    if (controllerTouched || !emit) this.reportController(emit);
  }

  private emit(change: MetadataChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log('error', `metadata listener failed on ${change.kind}: ${err instanceof Error ? err.stack : String(err)}`);
      }
    }
  }

  /** The elected controller as the view has it: the candidate with the lowest create revision. */
  private winner(): Candidate | null {
    let best: Candidate | null = null;
    for (const c of this.candidates.values()) if (!best || c.createRevision < best.createRevision) best = c;
    return best;
  }

  /** The controller this store reports: the winner, unless the winner is this broker and it may have lost its lease. */
  private currentController(): { id: number; epoch: number } {
    const w = this.winner();
    if (!w) return { id: -1, epoch: -1 };
    if (w.nodeId === this.nodeId && this.fenced) return { id: -1, epoch: -1 };
    return { id: w.nodeId, epoch: w.createRevision };
  }

  private reportController(emit: boolean): void {
    const now = this.currentController();
    if (now.id === this.reportedController.id && now.epoch === this.reportedController.epoch) return;
    this.reportedController = now;
    if (emit) this.emit({ kind: 'controller-changed', controllerId: now.id, controllerEpoch: now.epoch });
  }

  topics(): readonly TopicMetadata[] {
    return [...this.topicsByName.values()];
  }

  topic(name: string): TopicMetadata | undefined {
    return this.topicsByName.get(name);
  }

  topicById(topicId: string): TopicMetadata | undefined {
    return this.topicsById.get(topicId);
  }

  brokers(): readonly BrokerRegistration[] {
    return [...this.registrations.values()];
  }

  controllerId(): number {
    return this.reportedController.id;
  }

  controllerEpoch(): number {
    return this.reportedController.epoch;
  }

  brokerConfigs(resourceName: string): Record<string, string> {
    return { ...this.configsByResource.get(resourceName) };
  }

  onChange(listener: (change: MetadataChange) => void): void {
    this.listeners.add(listener);
  }

  // ---- writes ----------------------------------------------------------------------------

  async createTopic(topic: TopicMetadata): Promise<void> {
    // One txn when it fits, so the topic appears whole; etcd caps a txn at --max-txn-ops.
    if (topic.partitions.length + 2 > this.maxTxnOps) return this.createWideTopic(topic);
    const topicKey = this.key(`topics/${topic.name}`);
    const ops = [EtcdMetadataStore.put(topicKey, EtcdMetadataStore.topicRecord(topic))];
    for (const p of topic.partitions) ops.push(EtcdMetadataStore.put(this.key(`partitions/${topic.name}/${p.partition}`), partitionState(p)));
    ops.push(EtcdMetadataStore.put(this.key(`topic-configs/${topic.name}`), topic.configs));
    const res = await this.txn(
      [EtcdMetadataStore.absent(topicKey)],
      ops,
      [EtcdMetadataStore.get(topicKey)],
    );
    if (res.succeeded) return this.waitForRevision(Number(res.header.revision));
    return this.createLostOrTaken(topic, res);
  }

  private static topicRecord(topic: TopicMetadata): TopicRecord {
    return { topicId: topic.topicId, internal: topic.internal, createdAtMs: topic.createdAtMs };
  }

  /** After a create txn failed on the topic key (fetched as range 0): our own create applied by an attempt whose answer was lost, or the name is taken. */
  private async createLostOrTaken(topic: TopicMetadata, res: ITxnResponse): Promise<void> {
    const existing = EtcdMetadataStore.kvsOf(res, 0)[0];
    if (existing && (JSON.parse(existing.value.toString()) as TopicRecord).topicId === topic.topicId) return this.waitForRevision(Number(existing.mod_revision));
    throw new TopicExistsError(topic.name);
  }

  /**
   * A topic with more partitions than one txn may carry: its partition keys are written in
   * chunks first, invisible to every view until the topic key exists (the view only builds a
   * topic when that key arrives, from whatever partition keys it holds), and the topic key is
   * written last. A claim key held on a lease (`topic-creations/<name>`, the topic id) keeps two
   * creators of one name apart; the first chunk also clears partition keys an interrupted
   * creation left behind. A creator that dies mid-way leaves no topic, and its claim ends with
   * its lease.
   */
  private async createWideTopic(topic: TopicMetadata): Promise<void> {
    const topicKey = this.key(`topics/${topic.name}`);
    const claimKey = this.key(`topic-creations/${topic.name}`);
    const partitionsPrefix = this.key(`partitions/${topic.name}/`);
    const chunkSize = this.maxTxnOps - 2;
    const claimed: ICompare = { key: claimKey, target: 'Value', result: 'Equal', value: Buffer.from(topic.topicId) } as ICompare;
    const puts = topic.partitions.map((p) => EtcdMetadataStore.put(this.key(`partitions/${topic.name}/${p.partition}`), partitionState(p)));
    // The broker's session lease when it has one; otherwise one for this creation alone.
    let ownLease: string | null = null;
    const lease = this.leaseId ?? (ownLease = (await this.call((options) => this.etcd.leaseClient.leaseGrant({ TTL: WIDE_TOPIC_CLAIM_TTL_S }, options))).ID);
    try {
      const first = await this.txn(
        [EtcdMetadataStore.absent(topicKey), EtcdMetadataStore.absent(claimKey)],
        // (etcd refuses a put inside a range the same txn deletes, so the chunks follow.)
        [EtcdMetadataStore.del(partitionsPrefix, prefixEnd(partitionsPrefix)), EtcdMetadataStore.put(claimKey, topic.topicId, lease)],
        [EtcdMetadataStore.get(topicKey), EtcdMetadataStore.get(claimKey)],
      );
      if (!first.succeeded) {
        const claim = EtcdMetadataStore.kvsOf(first, 1)[0];
        // Not ours (ours would be an attempt whose answer was lost, and carries on).
        if (!claim || claim.value.toString() !== topic.topicId) {
          if (EtcdMetadataStore.kvsOf(first, 0).length) return await this.createLostOrTaken(topic, first);
          throw new TopicExistsError(topic.name, `Topic '${topic.name}' is being created by another request (or by one that was interrupted; its claim ends with its creator's etcd lease).`);
        }
      }
      for (let at = 0; at < puts.length; at += chunkSize) {
        const res = await this.txn([claimed], puts.slice(at, at + chunkSize));
        if (!res.succeeded) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `Topic '${topic.name}': the creation's claim in etcd lapsed after ${at} of ${puts.length} partitions (its lease expired); nothing was created.`);
      }
      const last = await this.txn(
        [EtcdMetadataStore.absent(topicKey), claimed],
        [EtcdMetadataStore.put(topicKey, EtcdMetadataStore.topicRecord(topic)), EtcdMetadataStore.put(this.key(`topic-configs/${topic.name}`), topic.configs), EtcdMetadataStore.del(claimKey)],
        [EtcdMetadataStore.get(topicKey)],
      );
      if (last.succeeded) return await this.waitForRevision(Number(last.header.revision));
      if (EtcdMetadataStore.kvsOf(last, 0).length) return await this.createLostOrTaken(topic, last);
      throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `Topic '${topic.name}': the creation's claim in etcd lapsed before the topic was written (its lease expired); nothing was created.`);
    } finally {
      if (ownLease !== null) {
        const id = ownLease;
        await this.call((options) => this.etcd.leaseClient.leaseRevoke({ ID: id }, options)).catch(() => undefined);
      }
    }
  }

  async deleteTopic(name: string): Promise<TopicMetadata> {
    const known = this.topicsByName.get(name);
    const topicKey = this.key(`topics/${name}`);
    const partitions = this.key(`partitions/${name}/`);
    const attempts = { count: 0 };
    const res = await this.txn(
      [EtcdMetadataStore.present(topicKey)],
      [EtcdMetadataStore.del(topicKey), EtcdMetadataStore.del(partitions, prefixEnd(partitions)), EtcdMetadataStore.del(this.key(`topic-configs/${name}`))],
      [],
      attempts,
    );
    // Gone on a retry after an attempt whose answer was lost: that attempt deleted it.
    if (!res.succeeded && !(attempts.count > 1 && known)) throw new UnknownTopicError(name);
    await this.waitForRevision(Number(res.header.revision));
    // The view dropped it on the watch event; what it held then is what was removed.
    return known ?? { name, topicId: '', internal: false, partitions: [], configs: {}, createdAtMs: 0 };
  }

  async addPartitions(name: string, added: PartitionAssignment[]): Promise<TopicMetadata> {
    // In chunks that fit a txn, lowest partitions first, so the topic's partitions stay
    // contiguous: if this is interrupted the topic has grown less than asked, never with gaps.
    const topicKey = this.key(`topics/${name}`);
    const ordered = [...added].sort((a, b) => a.partition - b.partition);
    const chunkSize = this.maxTxnOps - 1;
    for (let at = 0; at < ordered.length; at += chunkSize) {
      const chunk = ordered.slice(at, at + chunkSize);
      const compare = [EtcdMetadataStore.present(topicKey)];
      const ops: IRequestOp[] = [];
      for (const p of chunk) {
        const k = this.key(`partitions/${name}/${p.partition}`);
        compare.push(EtcdMetadataStore.absent(k));
        ops.push(EtcdMetadataStore.put(k, partitionState(p)));
      }
      const attempts = { count: 0 };
      const res = await this.txn(compare, ops, [EtcdMetadataStore.get(topicKey)], attempts);
      if (!res.succeeded) {
        if (!EtcdMetadataStore.kvsOf(res, 0).length) throw new UnknownTopicError(name);
        // An attempt whose answer was lost wrote them.
        if (attempts.count > 1) continue;
        throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic '${name}': partitions ${chunk.map((p) => p.partition).join(',')} already exist.`);
      }
      await this.waitForRevision(Number(res.header.revision));
    }
    const topic = this.topicsByName.get(name);
    if (!topic) throw new UnknownTopicError(name);
    return topic;
  }

  async setTopicConfigs(name: string, configs: Record<string, string>): Promise<TopicMetadata> {
    const res = await this.txn([EtcdMetadataStore.present(this.key(`topics/${name}`))], [EtcdMetadataStore.put(this.key(`topic-configs/${name}`), configs)]);
    if (!res.succeeded) throw new UnknownTopicError(name);
    await this.waitForRevision(Number(res.header.revision));
    const topic = this.topicsByName.get(name);
    if (!topic) throw new UnknownTopicError(name);
    return topic;
  }

  async alterPartition(topicName: string, partition: number, expectedPartitionEpoch: number, change: PartitionChange, guard?: ControllerGuard): Promise<PartitionRegistration> {
    const k = this.key(`partitions/${topicName}/${partition}`);
    const compare: ICompare[] = [];
    if (guard) {
      // The candidate key that won at that epoch must still exist: while it does it is the
      // lowest, so that controller still holds the office.
      const holder = [...this.candidates.values()].find((c) => c.createRevision === guard.controllerEpoch);
      if (!holder || this.fenced && holder.nodeId === this.nodeId) throw new KafkaError(ErrorCode.NOT_CONTROLLER, `controller epoch ${guard.controllerEpoch} is stale (now ${this.controllerEpoch()}).`);
      compare.push({ key: this.key(holder.key), target: 'Create', result: 'Equal', create_revision: guard.controllerEpoch } as ICompare);
    }
    // Compare against etcd, not the view: read the partition, validate, then swap on its mod revision.
    for (;;) {
      const got = await this.call((options) => this.etcd.kv.range({ key: k }, options));
      const kv = got.kvs[0];
      if (!kv) throw new UnknownTopicError(topicName);
      const current = partitionState(JSON.parse(kv.value.toString()) as PartitionAssignment);
      const next = applyPartitionChange(topicName, current, expectedPartitionEpoch, change);
      const attempts = { count: 0 };
      const res = await this.txn([...compare, { key: k, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision } as ICompare], [EtcdMetadataStore.put(k, next)], [EtcdMetadataStore.get(k)], attempts);
      if (res.succeeded) {
        await this.waitForRevision(Number(res.header.revision));
        return next;
      }
      const now = EtcdMetadataStore.kvsOf(res, 0)[0];
      if (now && now.mod_revision === kv.mod_revision) {
        // The partition did not move, so the guard failed.
        throw new KafkaError(ErrorCode.NOT_CONTROLLER, `controller epoch ${guard?.controllerEpoch} is no longer current (now ${this.controllerEpoch()}).`);
      }
      if (attempts.count > 1 && now && same(JSON.parse(now.value.toString()), next)) {
        await this.waitForRevision(Number(now.mod_revision));
        return next; // our own write, applied by an attempt whose answer was lost
      }
      // The partition changed meanwhile: the next round reports the stale epoch (or applies if it still matches).
    }
  }

  async setBrokerConfigs(resourceName: string, configs: Record<string, string>): Promise<void> {
    const k = this.key(`broker-configs/${resourceName === '' ? 'default' : resourceName}`);
    const op = Object.keys(configs).length ? EtcdMetadataStore.put(k, configs) : EtcdMetadataStore.del(k);
    const res = await this.txn([], [op]);
    await this.waitForRevision(Number(res.header.revision));
  }

  acls(): readonly AclBinding[] {
    return [...this.aclBindings.values()];
  }

  async updateAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    const ops = new Map<string, IRequestOp>();
    for (const b of remove) ops.set(aclKey(b), EtcdMetadataStore.del(this.key(`acls/${encodeURIComponent(aclKey(b))}`)));
    for (const b of add) ops.set(aclKey(b), EtcdMetadataStore.put(this.key(`acls/${encodeURIComponent(aclKey(b))}`), b));
    if (ops.size === 0) return;
    // Puts and deletes of whole keys: replaying an attempt whose answer was lost is harmless.
    const res = await this.txn([], [...ops.values()]);
    await this.waitForRevision(Number(res.header.revision));
  }

  clientQuotas(): readonly ClientQuotaRecord[] {
    return [...this.quotasByEntity].map(([key, values]) => ({ entity: parseQuotaEntityKey(key), values: { ...values } }));
  }

  async setClientQuotas(entity: ClientQuotaEntity, values: Record<string, number>): Promise<void> {
    const k = this.key(`client-quotas/${quotaEntityKey(entity)}`);
    const op = Object.keys(values).length ? EtcdMetadataStore.put(k, values) : EtcdMetadataStore.del(k);
    const res = await this.txn([], [op]);
    await this.waitForRevision(Number(res.header.revision));
  }

  async reserveProducerIds(count: number): Promise<bigint> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`cannot reserve ${count} producer ids`);
    const k = this.key('producer-ids');
    for (;;) {
      const got = await this.call((options) => this.etcd.kv.range({ key: k }, options));
      const kv = got.kvs[0];
      const first = kv ? BigInt(kv.value.toString()) : 0n;
      const compare = kv ? ({ key: k, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision } as ICompare) : EtcdMetadataStore.absent(k);
      // A replayed attempt (its first answer lost) fails the compare, so a block is never handed out twice.
      const res = await this.txn([compare], [EtcdMetadataStore.put(k, String(first + BigInt(count)))]);
      if (res.succeeded) {
        await this.waitForRevision(Number(res.header.revision));
        return first;
      }
    }
  }

  // ---- the broker's session and the controller election --------------------------------

  async registerBroker(broker: Omit<BrokerRegistration, 'brokerEpoch'>): Promise<BrokerRegistration> {
    if (broker.nodeId !== this.nodeId) throw new Error(`this store belongs to node ${this.nodeId}, not ${broker.nodeId}`);
    this.registration = { nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: broker.rack, ...(broker.endpoints ? { endpoints: broker.endpoints } : {}) };
    // A broker restarted within its session timeout finds its previous incarnation still
    // registered: as Kafka's controller does, refuse until that session expires, and retry until
    // then. Still held after a whole session timeout, the node id is another live broker's.
    const giveUpAt = Date.now() + this.sessionTimeoutMs + this.heartbeatIntervalMs;
    let revision: number;
    for (;;) {
      const run = this.sessionTask.then(() => this.establishSession());
      this.sessionTask = run.then(
        () => undefined,
        () => undefined,
      );
      try {
        revision = await run;
        break;
      } catch (err) {
        if (!(err instanceof KafkaError) || err.code !== ErrorCode.DUPLICATE_BROKER_REGISTRATION || Date.now() >= giveUpAt) throw err;
        this.log('info', `node ${this.nodeId} is still registered in etcd (a previous incarnation whose session has not expired yet, or another live broker); retrying until ${this.sessionTimeoutMs} ms have passed`);
        while (this.registrations.has(this.nodeId) && Date.now() < giveUpAt) await sleep(50);
      }
    }
    await this.waitForRevision(revision);
    const registration = this.registrations.get(this.nodeId);
    if (!registration) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `node ${this.nodeId}: registration lost right after it was written`);
    this.startHeartbeats();
    return registration;
  }

  /** Grants a lease if we have none, and writes the registration and the candidacy on it. Returns the write's revision. */
  private async establishSession(): Promise<number> {
    const reg = this.registration;
    if (!reg) throw new Error('not registered');
    let fresh = false;
    if (!this.leaseId) {
      const ttlSeconds = Math.max(1, Math.ceil(this.sessionTimeoutMs / 1000));
      const sentAt = Date.now();
      const granted = await this.call((options) => this.etcd.leaseClient.leaseGrant({ TTL: ttlSeconds }, options));
      this.leaseId = granted.ID;
      this.leaseTtlMs = Number(granted.TTL) * 1000;
      this.lastRenewalMs = sentAt;
      fresh = true;
    }
    const lease = this.leaseId;
    const brokerKey = this.key(`brokers/${reg.nodeId}`);
    const candidateKey = this.key(`controller/${BigInt(lease).toString(16)}`);
    const value: BrokerRecord = { host: reg.host, port: reg.port, rack: reg.rack, ...(reg.endpoints ? { endpoints: reg.endpoints } : {}) };
    const ops = [EtcdMetadataStore.put(brokerKey, value, lease), EtcdMetadataStore.put(candidateKey, String(reg.nodeId), lease)];
    // Free, or held by our own lease (a re-registration): anything else is another live broker with our node id.
    let res: ITxnResponse;
    try {
      res = await this.txn([EtcdMetadataStore.absent(brokerKey)], ops, [EtcdMetadataStore.get(brokerKey)]);
    } catch (err) {
      if (!(err instanceof this.lib!.EtcdLeaseInvalidError) || fresh) throw err;
      // Our lease expired while nobody renewed it (a long outage): start a new session.
      this.log('warn', `node ${reg.nodeId}: etcd lease ${BigInt(lease).toString(16)} expired; registering with a new lease`);
      this.leaseId = null;
      return this.establishSession();
    }
    if (!res.succeeded) {
      const holder = EtcdMetadataStore.kvsOf(res, 0)[0];
      if (holder && holder.lease === lease) {
        res = await this.txn([{ key: brokerKey, target: 'Lease', result: 'Equal', lease } as ICompare], ops);
      }
      if (!res.succeeded) {
        if (fresh) await this.revokeLease();
        throw new KafkaError(ErrorCode.DUPLICATE_BROKER_REGISTRATION, `node id ${reg.nodeId} is already registered in etcd at ${this.endpoints.join(',')} by another live broker (lease ${holder ? BigInt(holder.lease).toString(16) : '?'}, renewed for longer than broker.session.timeout.ms ${this.sessionTimeoutMs}); two brokers cannot share a node.id`);
      }
    }
    return Number(res.header.revision);
  }

  private startHeartbeats(): void {
    if (this.heartbeatTimer || this.closed) return;
    const beat = async () => {
      if (!this.leaseId || this.closed) return;
      const lease = this.leaseId;
      const sentAt = Date.now();
      try {
        const ttl = await this.keepaliveOnce(lease);
        if (ttl > 0) {
          this.lastRenewalMs = sentAt;
          this.checkFence();
          return;
        }
        // etcd no longer knows the lease: it expired (we were cut off too long) or was revoked.
        this.log('warn', `node ${this.nodeId}: etcd lease ${BigInt(lease).toString(16)} was lost; registering again with a new lease`);
        if (this.leaseId === lease) this.leaseId = null;
        this.fenced = true;
        this.reportController(true);
        const run = this.sessionTask.then(() => this.establishSession());
        this.sessionTask = run.then(
          () => undefined,
          () => undefined,
        );
        const revision = await run;
        this.log('info', `node ${this.nodeId}: registered again in etcd (lease ${BigInt(this.leaseId ?? '0').toString(16)}, revision ${revision})`);
        this.checkFence();
      } catch (err) {
        this.log('debug', `node ${this.nodeId}: lease renewal failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const loop = () => {
      this.heartbeatTimer = setTimeout(() => {
        beat().finally(() => {
          if (!this.closed && this.heartbeatTimer) loop();
        });
      }, this.heartbeatIntervalMs);
      this.heartbeatTimer.unref();
    };
    loop();
  }

  /** One keepalive on a short-lived stream; resolves with the TTL etcd granted (0: the lease is gone). */
  private keepaliveOnce(lease: string): Promise<number> {
    return this.call(async (options) => {
      const stream = await this.etcd.leaseClient.leaseKeepAlive(options);
      try {
        return await new Promise<number>((resolve, reject) => {
          stream.on('data', (res) => resolve(Number(res.TTL)));
          stream.on('error', reject);
          stream.on('end', () => reject(new Error('keepalive stream ended')));
          stream.write({ ID: lease });
        });
      } finally {
        stream.cancel();
      }
    }, Math.min(this.requestTimeoutMs, this.heartbeatIntervalMs));
  }

  /** Steps down (locally) once the lease may have lapsed; stands again once it was renewed. */
  private checkFence(): void {
    if (!this.leaseId && !this.fenced) return;
    const margin = this.heartbeatIntervalMs;
    const fenced = !this.leaseId || Date.now() - this.lastRenewalMs > this.leaseTtlMs - margin;
    if (fenced === this.fenced) return;
    this.fenced = fenced;
    if (fenced) this.log('warn', `node ${this.nodeId}: no lease renewal for ${Date.now() - this.lastRenewalMs} ms (TTL ${this.leaseTtlMs} ms); not acting as controller until etcd answers`);
    this.reportController(true);
  }

  private async revokeLease(): Promise<void> {
    const lease = this.leaseId;
    this.leaseId = null;
    if (!lease) return;
    await this.call((options) => this.etcd.leaseClient.leaseRevoke({ ID: lease }, options));
  }

  async unregisterBroker(nodeId: number): Promise<void> {
    if (nodeId === this.nodeId && this.leaseId) {
      this.stopHeartbeats();
      this.registration = null;
      await this.sessionTask;
      const before = this.appliedRevision;
      await this.revokeLease();
      // The revoke deletes the registration and the candidacy; wait until the view has seen that.
      const brokerKey = `brokers/${nodeId}`;
      if (this.raw.has(brokerKey)) {
        const got = await this.call((options) => this.etcd.kv.range({ key: this.key(brokerKey), limit: 1 }, options));
        await this.waitForRevision(Math.max(before, Number(got.header.revision)));
      }
      return;
    }
    // Another broker's registration (an operator's unregister): delete its keys.
    const ops: IRequestOp[] = [EtcdMetadataStore.del(this.key(`brokers/${nodeId}`))];
    for (const c of this.candidates.values()) if (c.nodeId === nodeId) ops.push(EtcdMetadataStore.del(this.key(c.key)));
    const res = await this.txn([], ops);
    await this.waitForRevision(Number(res.header.revision));
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stopHeartbeats();
    if (this.fenceTimer) clearInterval(this.fenceTimer);
    this.fenceTimer = null;
    if (this.client) {
      try {
        // A clean stop leaves at once rather than after the session timeout.
        await this.revokeLease();
      } catch (err) {
        this.log('warn', `node ${this.nodeId}: could not revoke the etcd lease on close (${err instanceof Error ? err.message : String(err)}); the registration ends when the session times out`);
      }
    }
    this.closed = true;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = null;
    this.watchStream?.cancel();
    this.watchStream = null;
    for (const w of this.revisionWaiters) w.reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'cluster metadata store closed'));
    this.revisionWaiters = [];
    this.listeners.clear();
    this.client?.close();
    this.client = null;
  }
}

/**
 * etcd's require-leader (clientv3's WithRequireLeader: metadata `hasleader: true`). A member cut
 * off from the Raft majority answers a plain watch by going silent while the others move on; with
 * this it cancels the watch ("no leader"), and the store's retry reconnects, through another
 * endpoint when it has one, instead of serving a view that silently stopped.
 */
function requireLeader(grpc: GrpcLibrary): import('@grpc/grpc-js').CallOptions {
  const interceptor: import('@grpc/grpc-js').Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set('hasleader', 'true');
        next(metadata, listener);
      },
    });
  return { interceptors: [interceptor] };
}
