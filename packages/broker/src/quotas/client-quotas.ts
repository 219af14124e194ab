/**
 * Client quotas (Kafka's ClientQuotaManager): producer_byte_rate, consumer_byte_rate,
 * request_percentage and controller_mutation_rate for users, client ids and their defaults.
 *
 * Which configured entity applies to a request of (user, client id) is decided per quota type in
 * Kafka's order, the first that sets the type wins:
 *   /users/<user>/clients/<client-id>, /users/<user>/clients/<default>, /users/<user>,
 *   /users/<default>/clients/<client-id>, /users/<default>/clients/<default>, /users/<default>,
 *   /clients/<client-id>, /clients/<default>.
 * Usage is measured per applied entity (defaults stand for the request's own user or client id,
 * so each user under a user default gets its own allowance) as a rate over `quota.window.num`
 * samples of `quota.window.size.seconds`, Kafka's Rate: the elapsed time is at least
 * `(samples - 1)` windows. A request that takes the rate over the quota is still served, and
 * answered with throttle_time_ms = (rate - quota) / quota × window; the connection then reads
 * nothing for that long (Kafka 2.0+, KIP-219).
 */
import type { ClientQuotaEntity, ClientQuotaRecord } from '../metadata/metadata-store.js';
import { quotaEntityKey } from '../metadata/metadata-store.js';

export const QUOTA_KEYS = ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'controller_mutation_rate'] as const;
export type QuotaKey = (typeof QUOTA_KEYS)[number];

export function isQuotaKey(key: string): key is QuotaKey {
  return (QUOTA_KEYS as readonly string[]).includes(key);
}

export interface QuotaWindow {
  samples: number;
  windowMs: number;
}

/** Kafka's SampledStat + Rate: a sum over rolling sample windows divided by the elapsed time. */
export class SampledRate {
  private readonly starts: number[] = [];
  private readonly values: number[] = [];

  constructor(private readonly window: QuotaWindow) {}

  record(value: number, nowMs: number): void {
    this.purge(nowMs);
    const last = this.starts.length - 1;
    if (last >= 0 && nowMs < this.starts[last] + this.window.windowMs) {
      this.values[last] += value;
    } else {
      this.starts.push(nowMs);
      this.values.push(value);
      if (this.starts.length > this.window.samples) {
        this.starts.shift();
        this.values.shift();
      }
    }
  }

  /** Per second. */
  rate(nowMs: number): number {
    this.purge(nowMs);
    return (this.values.reduce((a, b) => a + b, 0) * 1000) / this.windowSizeMs(nowMs);
  }

  /** Kafka's Rate.windowSize: time since the oldest sample, at least (samples - 1) whole windows. */
  windowSizeMs(nowMs: number): number {
    const oldest = this.starts.length ? this.starts[0] : nowMs;
    let elapsed = nowMs - oldest;
    const fullWindows = Math.floor(elapsed / this.window.windowMs);
    const minFull = this.window.samples - 1;
    if (fullWindows < minFull) elapsed += (minFull - fullWindows) * this.window.windowMs;
    return Math.max(elapsed, 1);
  }

  private purge(nowMs: number): void {
    const expireBefore = nowMs - this.window.samples * this.window.windowMs;
    // Kafka's SampledStat.purgeObsoleteSamples: a sample that started samples × window ago is gone.
    while (this.starts.length && this.starts[0] <= expireBefore) {
      this.starts.shift();
      this.values.shift();
    }
  }
}

/** The entity whose quota applies, and the usage key its sensor is kept under. */
export interface AppliedQuota {
  bound: number;
  sensorKey: string;
}

/** Kafka's precedence, from the configured entities; null when no entity sets `key`. */
export function resolveQuota(configured: ReadonlyMap<string, Record<string, number>>, key: QuotaKey, user: string, clientId: string): AppliedQuota | null {
  const candidates: { entity: ClientQuotaEntity; sensor: ClientQuotaEntity }[] = [
    { entity: { user, clientId }, sensor: { user, clientId } },
    { entity: { user, clientId: null }, sensor: { user, clientId } },
    { entity: { user }, sensor: { user } },
    { entity: { user: null, clientId }, sensor: { user, clientId } },
    { entity: { user: null, clientId: null }, sensor: { user, clientId } },
    { entity: { user: null }, sensor: { user } },
    { entity: { clientId }, sensor: { clientId } },
    { entity: { clientId: null }, sensor: { clientId } },
  ];
  for (const c of candidates) {
    const values = configured.get(quotaEntityKey(c.entity));
    const bound = values?.[key];
    if (bound !== undefined) return { bound, sensorKey: `${key}|${quotaEntityKey(c.sensor)}` };
  }
  return null;
}

export interface QuotaSource {
  clientQuotas(): readonly ClientQuotaRecord[];
}

const IDLE_SENSOR_MS = 3_600_000;

export class ClientQuotaManager {
  private configured = new Map<string, Record<string, number>>();
  private readonly sensors = new Map<string, { rate: SampledRate; lastMs: number }>();
  private lastSweepMs = 0;

  constructor(
    private readonly source: QuotaSource,
    private readonly window: QuotaWindow,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.reload();
  }

  /** The quotas changed in the metadata: re-read them. */
  reload(): void {
    const m = new Map<string, Record<string, number>>();
    for (const r of this.source.clientQuotas()) m.set(quotaEntityKey(r.entity), r.values);
    this.configured = m;
  }

  /** True when any quota is configured (the hot path skips all work otherwise). */
  get active(): boolean {
    return this.configured.size > 0;
  }

  /**
   * Records `value` (bytes, or percent-seconds for request_percentage, or partition mutations)
   * against the applicable quota; resolves the throttle time in ms (0: within the quota).
   */
  record(key: QuotaKey, user: string, clientId: string, value: number): number {
    if (this.configured.size === 0) return 0;
    const applied = resolveQuota(this.configured, key, user, clientId);
    if (!applied) return 0;
    const now = this.now();
    const sensor = this.sensor(applied.sensorKey, now);
    sensor.rate.record(value, now);
    return this.throttleOf(sensor.rate, applied.bound, now);
  }

  /** Throttle time the sensor already owes (controller mutations are checked before they are made). */
  check(key: QuotaKey, user: string, clientId: string): number {
    if (this.configured.size === 0) return 0;
    const applied = resolveQuota(this.configured, key, user, clientId);
    if (!applied) return 0;
    const now = this.now();
    const sensor = this.sensors.get(applied.sensorKey);
    return sensor ? this.throttleOf(sensor.rate, applied.bound, now) : 0;
  }

  private throttleOf(rate: SampledRate, bound: number, now: number): number {
    const r = rate.rate(now);
    if (r <= bound) return 0;
    if (bound <= 0) return this.window.samples * this.window.windowMs;
    const ms = ((r - bound) / bound) * rate.windowSizeMs(now);
    return Math.min(Math.round(ms), this.window.samples * this.window.windowMs);
  }

  private sensor(key: string, now: number): { rate: SampledRate; lastMs: number } {
    if (now - this.lastSweepMs > IDLE_SENSOR_MS) {
      this.lastSweepMs = now;
      for (const [k, s] of this.sensors) if (now - s.lastMs > IDLE_SENSOR_MS) this.sensors.delete(k);
    }
    let s = this.sensors.get(key);
    if (!s) this.sensors.set(key, (s = { rate: new SampledRate(this.window), lastMs: now }));
    s.lastMs = now;
    return s;
  }
}

/**
 * controller_mutation_rate (KIP-599) for one CreateTopics / CreatePartitions / DeleteTopics
 * request: partitions created or deleted are the mutations. Versions that know
 * THROTTLING_QUOTA_EXCEEDED (`strict`) get it for a topic while the principal is over its quota;
 * older versions are only throttled.
 */
export class MutationQuota {
  private throttleMs = 0;

  constructor(
    private readonly quotas: ClientQuotaManager,
    private readonly user: string,
    private readonly clientId: string,
    private readonly strict: boolean,
  ) {}

  /** True when the next mutation must be refused with THROTTLING_QUOTA_EXCEEDED. */
  exceeded(): boolean {
    if (!this.strict || !this.quotas.active) return false;
    const owed = this.quotas.check('controller_mutation_rate', this.user, this.clientId);
    this.throttleMs = Math.max(this.throttleMs, owed);
    return owed > 0;
  }

  record(partitions: number): void {
    if (!this.quotas.active || partitions <= 0) return;
    this.throttleMs = Math.max(this.throttleMs, this.quotas.record('controller_mutation_rate', this.user, this.clientId, partitions));
  }

  get throttleTimeMs(): number {
    return this.throttleMs;
  }
}
