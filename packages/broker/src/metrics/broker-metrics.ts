/**
 * What the broker counts while it serves: per topic (Kafka's BrokerTopicMetrics), per API and
 * version (RequestMetrics: counts and the request time split into its parts) and per listener
 * (connections). Every meter is a plain object found once per topic / API version and kept, and
 * counting is `+=` on its fields, once per partition of a request (never per record). Everything
 * that can be read off the broker's state (partitions, groups, logs, lag) is computed at scrape
 * time instead, in collectors.ts.
 */
import { apiInfo } from '@sluice/protocol';
import { MsHistogram, register, type Sample } from './exposition.js';
import type { Registry } from 'prom-client';
import type { GroupEvents } from '../groups/requests.js';
import type { ConsumerLag } from './consumer-lag.js';

export class TopicMeters {
  messagesIn = 0;
  bytesIn = 0;
  bytesOut = 0;
  replicationBytesOut = 0;
  failedProduceRequests = 0;
  failedFetchRequests = 0;
  totalProduceRequests = 0;
  totalFetchRequests = 0;
  constructor(readonly topic: string) {}
}

/** The parts of a request's time, as Kafka's RequestMetrics splits it. */
export class RequestMeters {
  requests = 0;
  errors = 0;
  readonly requestQueueTime = new MsHistogram();
  readonly localTime = new MsHistogram();
  readonly remoteTime = new MsHistogram();
  readonly throttleTime = new MsHistogram();
  readonly responseQueueTime = new MsHistogram();
  readonly responseSendTime = new MsHistogram();
  readonly totalTime = new MsHistogram();
  constructor(
    readonly request: string,
    readonly version: number,
  ) {}
}

export class ListenerMeters {
  connectionCreations = 0;
  connectionCloses = 0;
  connections = 0;
  constructor(readonly listener: string) {}
}

/** A request's timestamps (performance.now()), kept by the connection while it is in flight. */
export interface RequestTiming {
  readonly meters: RequestMeters;
  /** When the frame was taken for dispatch. */
  readonly startedAt: number;
  /** How long it waited to be dispatched (ms). */
  readonly queuedMs: number;
  /** When the handler's synchronous part returned. */
  localDoneAt: number;
  /** When its response was ready. */
  doneAt: number;
  /** When its response was handed to the socket. */
  writtenAt: number;
  /** The quota throttle its response carried (ms). */
  throttleMs: number;
}

/** The connection's view of request metrics (see network/connection.ts). */
export interface RequestObserver {
  /** A new frame is dispatched; null for a frame too short to name its API. */
  begin(frame: Buffer, queuedMs: number): RequestTiming | null;
  /** The response has reached the socket (sentAt), or there was none (sentAt = doneAt). */
  end(timing: RequestTiming, sentAt: number): void;
  /** The request closed its connection instead (malformed, unsupported, a handler fault). */
  failed(timing: RequestTiming): void;
}

const MAX_VERSION = 64;

export class BrokerMetrics implements RequestObserver {
  private readonly topicMeters = new Map<string, TopicMeters>();
  /** Indexed by apiKey * MAX_VERSION + version. */
  private readonly requestMeters: (RequestMeters | undefined)[] = [];
  private readonly listenerMeters = new Map<string, ListenerMeters>();
  rebalancesStarted = 0;
  rebalancesCompleted = 0;
  offsetCommits = 0;
  /** Set once the broker has its lag evaluator; commits feed its windows. */
  lag: ConsumerLag | null = null;

  /** The group coordinator's events (see GroupCoordinatorEnvironment.events). */
  readonly groupEvents: GroupEvents = {
    rebalanceStarted: () => {
      this.rebalancesStarted++;
    },
    rebalanceCompleted: () => {
      this.rebalancesCompleted++;
    },
    offsetCommitted: (group, topic, partition, offset, timestampMs) => {
      this.offsetCommits++;
      this.lag?.onCommit(group, topic, partition, offset, timestampMs);
    },
  };

  topic(name: string): TopicMeters {
    let m = this.topicMeters.get(name);
    if (m === undefined) {
      m = new TopicMeters(name);
      this.topicMeters.set(name, m);
    }
    return m;
  }

  /** Forgets a deleted topic's meters (its series disappear from the page). */
  forgetTopic(name: string): void {
    this.topicMeters.delete(name);
  }

  listener(name: string): ListenerMeters {
    let m = this.listenerMeters.get(name);
    if (m === undefined) {
      m = new ListenerMeters(name);
      this.listenerMeters.set(name, m);
    }
    return m;
  }

  request(apiKey: number, version: number): RequestMeters | null {
    if (apiKey < 0 || version < 0 || version >= MAX_VERSION) return null;
    const index = apiKey * MAX_VERSION + version;
    let m = this.requestMeters[index];
    if (m === undefined) {
      const info = apiInfo.get(apiKey);
      if (!info) return null;
      m = new RequestMeters(info.name, version);
      this.requestMeters[index] = m;
    }
    return m;
  }

  begin(frame: Buffer, queuedMs: number): RequestTiming | null {
    if (frame.length < 4) return null;
    const meters = this.request(frame.readInt16BE(0), frame.readInt16BE(2));
    if (meters === null) return null;
    const now = performance.now();
    return { meters, startedAt: now, queuedMs, localDoneAt: now, doneAt: now, writtenAt: now, throttleMs: 0 };
  }

  end(t: RequestTiming, sentAt: number): void {
    const m = t.meters;
    m.requests++;
    const local = t.localDoneAt - t.startedAt;
    const remote = t.doneAt - t.localDoneAt;
    const responseQueue = t.writtenAt - t.doneAt;
    const send = sentAt - t.writtenAt;
    m.requestQueueTime.observe(t.queuedMs);
    m.localTime.observe(local);
    m.remoteTime.observe(remote);
    m.throttleTime.observe(t.throttleMs);
    m.responseQueueTime.observe(responseQueue);
    m.responseSendTime.observe(send);
    m.totalTime.observe(t.queuedMs + local + remote + responseQueue + send);
  }

  /** A request the connection could not answer (malformed, unsupported): it closes. */
  failed(t: RequestTiming): void {
    t.meters.errors++;
  }

  /** Registers the counted metrics on `registry`. */
  registerOn(registry: Registry): void {
    const perTopic = (name: string, help: string, field: keyof Omit<TopicMeters, 'topic'>) =>
      register(registry, name, help, 'counter', () => [...this.topicMeters.values()].map((m) => ({ labels: { topic: m.topic }, value: m[field] })));
    perTopic('kafka_server_brokertopicmetrics_messagesin_total', 'Records appended to the topic by clients (BrokerTopicMetrics MessagesInPerSec).', 'messagesIn');
    perTopic('kafka_server_brokertopicmetrics_bytesin_total', 'Record-batch bytes produced to the topic by clients (BytesInPerSec).', 'bytesIn');
    perTopic('kafka_server_brokertopicmetrics_bytesout_total', 'Record-batch bytes fetched from the topic by consumers (BytesOutPerSec; replica fetches excluded).', 'bytesOut');
    perTopic('kafka_server_brokertopicmetrics_replicationbytesout_total', 'Record-batch bytes fetched from the topic by follower brokers (ReplicationBytesOutPerSec).', 'replicationBytesOut');
    perTopic('kafka_server_brokertopicmetrics_failedproducerequests_total', 'Produce partitions that failed (FailedProduceRequestsPerSec).', 'failedProduceRequests');
    perTopic('kafka_server_brokertopicmetrics_failedfetchrequests_total', 'Fetch partitions that failed (FailedFetchRequestsPerSec).', 'failedFetchRequests');
    perTopic('kafka_server_brokertopicmetrics_totalproducerequests_total', 'Produce partitions requested (TotalProduceRequestsPerSec).', 'totalProduceRequests');
    perTopic('kafka_server_brokertopicmetrics_totalfetchrequests_total', 'Fetch partitions requested (TotalFetchRequestsPerSec).', 'totalFetchRequests');

    const requests = () => this.requestMeters.filter((m): m is RequestMeters => m !== undefined);
    register(registry, 'kafka_network_requestmetrics_requests_total', 'Requests answered, by API and version (RequestMetrics RequestsPerSec).', 'counter', () =>
      requests().map((m) => ({ labels: { request: m.request, version: m.version }, value: m.requests })),
    );
    register(registry, 'kafka_network_requestmetrics_errors_total', 'Requests that closed their connection (malformed, unsupported version), by API.', 'counter', () =>
      requests().map((m) => ({ labels: { request: m.request, version: m.version }, value: m.errors })),
    );
    const timeHistogram = (name: string, help: string, pick: (m: RequestMeters) => MsHistogram) =>
      register(registry, name, help, 'histogram', () => {
        const out: Sample[] = [];
        // One histogram per API (versions summed would need merging; the API is what dashboards split by).
        const byApi = new Map<string, MsHistogram>();
        for (const m of requests()) {
          const h = pick(m);
          let merged = byApi.get(m.request);
          if (!merged) byApi.set(m.request, (merged = new MsHistogram(h.bounds)));
          for (let i = 0; i < h.counts.length; i++) merged.counts[i] += h.counts[i];
          merged.sum += h.sum;
          merged.count += h.count;
        }
        for (const [request, h] of byApi) h.samples(name, { request }, out);
        return out;
      });
    timeHistogram('kafka_network_requestmetrics_requestqueuetimems', 'Milliseconds a request waited before dispatch (RequestQueueTimeMs).', (m) => m.requestQueueTime);
    timeHistogram('kafka_network_requestmetrics_localtimems', 'Milliseconds in the handler before it first waited (LocalTimeMs).', (m) => m.localTime);
    timeHistogram('kafka_network_requestmetrics_remotetimems', 'Milliseconds waiting on disk, replicas, coordinators or long polls (RemoteTimeMs).', (m) => m.remoteTime);
    timeHistogram('kafka_network_requestmetrics_throttletimems', 'Milliseconds a client quota throttled the response (ThrottleTimeMs).', (m) => m.throttleTime);
    timeHistogram('kafka_network_requestmetrics_responsequeuetimems', 'Milliseconds a ready response waited behind earlier ones on its connection (ResponseQueueTimeMs).', (m) => m.responseQueueTime);
    timeHistogram('kafka_network_requestmetrics_responsesendtimems', 'Milliseconds until the socket took the whole response (ResponseSendTimeMs).', (m) => m.responseSendTime);
    timeHistogram('kafka_network_requestmetrics_totaltimems', 'Milliseconds from dispatch wait to response sent (TotalTimeMs).', (m) => m.totalTime);

    register(registry, 'kafka_server_group_coordinator_metrics_offset_commit_total', 'Offsets committed (one per partition of an OffsetCommit).', 'counter', () => [{ labels: {}, value: this.offsetCommits }]);
    register(registry, 'kafka_server_group_coordinator_metrics_group_rebalance_started_total', 'Rebalances begun (groups entering PreparingRebalance).', 'counter', () => [{ labels: {}, value: this.rebalancesStarted }]);
    register(registry, 'kafka_server_group_coordinator_metrics_group_completed_rebalance_total', 'Rebalances completed (groups reaching Stable).', 'counter', () => [{ labels: {}, value: this.rebalancesCompleted }]);

    const listeners = () => [...this.listenerMeters.values()];
    register(registry, 'kafka_server_socket_server_metrics_connection_count', 'Open client connections, per listener.', 'gauge', () =>
      listeners().map((m) => ({ labels: { listener: m.listener }, value: m.connections })),
    );
    register(registry, 'kafka_server_socket_server_metrics_connection_creation_total', 'Connections accepted, per listener (rate() gives connection-creation-rate).', 'counter', () =>
      listeners().map((m) => ({ labels: { listener: m.listener }, value: m.connectionCreations })),
    );
    register(registry, 'kafka_server_socket_server_metrics_connection_close_total', 'Connections closed, per listener.', 'counter', () =>
      listeners().map((m) => ({ labels: { listener: m.listener }, value: m.connectionCloses })),
    );
  }
}
