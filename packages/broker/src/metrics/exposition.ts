/**
 * The few building blocks the broker's metrics are made of. The hot path only adds to plain
 * numbers in objects it looked up once (per topic, per API and version); prom-client's own
 * labelled children hash their label values on every increment, so they are not used there.
 * At scrape time a `ScrapedMetric` turns those numbers (or anything else its callback computes)
 * into samples, and prom-client's Registry renders the page.
 */
import type { Registry } from 'prom-client';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  /** For histograms: the series name (`…_bucket`, `…_sum`, `…_count`). */
  metricName?: string;
}

/** What prom-client's Registry needs of a metric: a name, help, type and get(). */
export class ScrapedMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly collect: () => Sample[] | Promise<Sample[]>,
  ) {}

  async get(): Promise<{ name: string; help: string; type: MetricType; aggregator: string; values: Sample[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: await this.collect() };
  }

  reset(): void {}
}

export function register(registry: Registry, name: string, help: string, type: MetricType, collect: () => Sample[] | Promise<Sample[]>): void {
  registry.registerMetric(new ScrapedMetric(name, help, type, collect) as never);
}

/** Upper bounds in milliseconds for request-time histograms (Kafka reports these times in ms). */
export const TIME_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** A histogram kept as plain numbers: observe() is a short scan and three additions. */
export class MsHistogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[] = TIME_BUCKETS_MS) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(ms: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (ms <= b[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += ms;
    this.count++;
  }

  /** The Prometheus series of this histogram: cumulative buckets, +Inf, sum and count. */
  samples(name: string, labels: Record<string, string | number>, out: Sample[]): void {
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i];
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: this.bounds[i] }, value: cumulative });
    }
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: this.count });
    out.push({ metricName: `${name}_sum`, labels, value: this.sum });
    out.push({ metricName: `${name}_count`, labels, value: this.count });
  }
}
