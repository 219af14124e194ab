/**
 * Client metrics, named as Kafka's Java clients name them (producer-metrics, consumer-fetch-manager-
 * metrics, consumer-coordinator-metrics), kept as plain numbers: `producer.metrics()` and
 * `consumer.metrics()` return a snapshot object. Rates, averages and maxima are over Kafka's
 * default window (metrics.num.samples=2 samples of metrics.sample.window.ms=30 s).
 *
 * `registerMetrics(registry)` puts them on a prom-client Registry the application passes in,
 * as the Prometheus JMX exporter would render them (`kafka_producer_producer_metrics_record_send_rate
 * {client_id}`). The client never imports prom-client: it only calls the registry's
 * `registerMetric` with objects shaped as prom-client expects (prom-client is an optional peer).
 */

const SAMPLE_MS = 30_000;

/** Kafka's SampledStat over two samples: sum, count and max per sample. */
export class Windowed {
  private readonly samples = [
    { start: 0, sum: 0, count: 0, max: -Infinity },
    { start: 0, sum: 0, count: 0, max: -Infinity },
  ];
  private current = 0;
  private readonly createdAt: number;

  constructor(now = Date.now()) {
    this.createdAt = now;
    this.samples[0].start = now;
    this.samples[1].start = now - SAMPLE_MS;
  }

  record(value: number, now = Date.now()): void {
    let s = this.samples[this.current];
    if (now - s.start >= SAMPLE_MS) {
      this.current ^= 1;
      s = this.samples[this.current];
      s.start = now;
      s.sum = 0;
      s.count = 0;
      s.max = -Infinity;
    }
    s.sum += value;
    s.count++;
    if (value > s.max) s.max = value;
  }

  private live(now: number) {
    return this.samples.filter((s) => now - s.start < 2 * SAMPLE_MS && s.count > 0);
  }

  /** Sum of values per second over the window (Kafka's Rate). */
  rate(now = Date.now()): number {
    const live = this.live(now);
    const sum = live.reduce((n, s) => n + s.sum, 0);
    const oldest = Math.max(this.createdAt, now - 2 * SAMPLE_MS);
    const elapsed = Math.max(1, now - oldest) / 1000;
    return sum / elapsed;
  }

  avg(now = Date.now()): number {
    const live = this.live(now);
    const count = live.reduce((n, s) => n + s.count, 0);
    return count === 0 ? NaN : live.reduce((n, s) => n + s.sum, 0) / count;
  }

  max(now = Date.now()): number {
    const live = this.live(now);
    return live.length === 0 ? NaN : Math.max(...live.map((s) => s.max));
  }
}

export interface ProducerMetricsSnapshot {
  'record-send-rate': number;
  'record-send-total': number;
  'record-error-rate': number;
  'record-error-total': number;
  'request-rate': number;
  'request-latency-avg': number;
  'request-latency-max': number;
  'batch-size-avg': number;
  'batch-size-max': number;
  'compression-rate-avg': number;
  'records-per-request-avg': number;
  'buffer-total-bytes': number;
  'buffer-available-bytes': number;
}

export class ProducerMetrics {
  private readonly sends = new Windowed();
  private readonly errors = new Windowed();
  private readonly latency = new Windowed();
  private readonly batchSize = new Windowed();
  private readonly compression = new Windowed();
  private readonly perRequest = new Windowed();
  private readonly requests = new Windowed();
  sendTotal = 0;
  errorTotal = 0;

  constructor(private readonly buffer: () => { total: number; available: number }) {}

  recordsSent(n: number): void {
    this.sendTotal += n;
    this.sends.record(n);
  }

  recordsFailed(n: number): void {
    this.errorTotal += n;
    this.errors.record(n);
  }

  request(latencyMs: number, records: number): void {
    this.latency.record(latencyMs);
    this.perRequest.record(records);
    this.requests.record(1);
  }

  batchBuilt(builtBytes: number, uncompressedBytes: number): void {
    this.batchSize.record(builtBytes);
    if (uncompressedBytes > 0) this.compression.record(builtBytes / uncompressedBytes);
  }

  snapshot(): ProducerMetricsSnapshot {
    const now = Date.now();
    const buffer = this.buffer();
    return {
      'record-send-rate': this.sends.rate(now),
      'record-send-total': this.sendTotal,
      'record-error-rate': this.errors.rate(now),
      'record-error-total': this.errorTotal,
      'request-rate': this.requests.rate(now),
      'request-latency-avg': this.latency.avg(now),
      'request-latency-max': this.latency.max(now),
      'batch-size-avg': this.batchSize.avg(now),
      'batch-size-max': this.batchSize.max(now),
      'compression-rate-avg': this.compression.avg(now),
      'records-per-request-avg': this.perRequest.avg(now),
      'buffer-total-bytes': buffer.total,
      'buffer-available-bytes': buffer.available,
    };
  }
}

export interface ConsumerMetricsSnapshot {
  'records-consumed-rate': number;
  'records-consumed-total': number;
  'fetch-rate': number;
  'fetch-latency-avg': number;
  'fetch-latency-max': number;
  'records-lag-max': number;
  /** Per assigned partition (`topic-partition`): high watermark minus position. */
  'records-lag': Record<string, number>;
  'commit-latency-avg': number;
  'commit-latency-max': number;
  'commit-total': number;
  'rebalance-total': number;
  'rebalance-latency-avg': number;
  'rebalance-latency-max': number;
  /** Seconds since the last successful heartbeat; NaN before the first (or without a group). */
  'last-heartbeat-seconds-ago': number;
}

export class ConsumerMetrics {
  private readonly consumed = new Windowed();
  private readonly fetches = new Windowed();
  private readonly fetchCount = new Windowed();
  private readonly commits = new Windowed();
  private readonly rebalances = new Windowed();
  consumedTotal = 0;
  commitTotal = 0;
  rebalanceTotal = 0;
  lastHeartbeatAt: number | null = null;
  private rebalanceStartedAt: number | null = null;

  constructor(private readonly lags: () => Record<string, number>) {}

  recordsConsumed(n: number): void {
    this.consumedTotal += n;
    this.consumed.record(n);
  }

  fetched(latencyMs: number): void {
    this.fetches.record(latencyMs);
    this.fetchCount.record(1);
  }

  committed(latencyMs: number): void {
    this.commitTotal++;
    this.commits.record(latencyMs);
  }

  rebalanceStarted(): void {
    this.rebalanceStartedAt ??= Date.now();
  }

  rebalanceCompleted(): void {
    const started = this.rebalanceStartedAt;
    this.rebalanceStartedAt = null;
    this.rebalanceTotal++;
    if (started !== null) this.rebalances.record(Date.now() - started);
  }

  heartbeat(): void {
    this.lastHeartbeatAt = Date.now();
  }

  snapshot(): ConsumerMetricsSnapshot {
    const now = Date.now();
    const lags = this.lags();
    const values = Object.values(lags);
    return {
      'records-consumed-rate': this.consumed.rate(now),
      'records-consumed-total': this.consumedTotal,
      'fetch-rate': this.fetchCount.rate(now),
      'fetch-latency-avg': this.fetches.avg(now),
      'fetch-latency-max': this.fetches.max(now),
      'records-lag-max': values.length === 0 ? NaN : Math.max(...values),
      'records-lag': lags,
      'commit-latency-avg': this.commits.avg(now),
      'commit-latency-max': this.commits.max(now),
      'commit-total': this.commitTotal,
      'rebalance-total': this.rebalanceTotal,
      'rebalance-latency-avg': this.rebalances.avg(now),
      'rebalance-latency-max': this.rebalances.max(now),
      'last-heartbeat-seconds-ago': this.lastHeartbeatAt === null ? NaN : (now - this.lastHeartbeatAt) / 1000,
    };
  }
}

/** What the client needs of a prom-client Registry (structural: prom-client is not imported). */
export interface MetricRegistry {
  registerMetric(metric: unknown): void;
}

type Sample = { labels: Record<string, string>; value: number };

/** Registers every numeric field of `snapshot()` as a gauge `<prefix>_<name with _>{client_id}`; `records-lag` per partition. */
export function registerSnapshot(registry: MetricRegistry, prefix: string, clientId: string, snapshot: () => object): void {
  const first = snapshot() as Record<string, number | Record<string, number>>;
  for (const [key, v] of Object.entries(first)) {
    const name = `${prefix}_${key.replace(/-/g, '_')}`;
    const get = async () => {
      const value = (snapshot() as Record<string, number | Record<string, number>>)[key];
      const values: Sample[] =
        typeof value === 'number'
          ? Number.isNaN(value)
            ? []
            : [{ labels: { client_id: clientId }, value }]
          : Object.entries(value).map(([tp, lag]) => {
              const dash = tp.lastIndexOf('-');
              return { labels: { client_id: clientId, topic: tp.slice(0, dash), partition: tp.slice(dash + 1) }, value: lag };
            });
      return { name, help: `Kafka client metric ${key}${typeof v === 'number' ? '' : ' per partition'}.`, type: 'gauge', aggregator: 'sum', values };
    };
    registry.registerMetric({ name, help: `Kafka client metric ${key}.`, type: 'gauge', aggregator: 'sum', get, reset() {} });
  }
}
