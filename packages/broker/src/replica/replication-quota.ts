/**
 * Replication throttles (Kafka's ReplicationQuotaManager), used while partitions move: a leader
 * sends throttled replicas at most `leader.replication.throttled.rate` bytes/s, a follower fetches
 * them at most `follower.replication.throttled.rate`. Which replicas are throttled is a topic
 * setting (`leader.replication.throttled.replicas` / `follower.replication.throttled.replicas`:
 * `*` or `partition:broker` pairs, the broker being the one that applies the throttle). Replicas
 * in the ISR are never throttled, so a throttle cannot hold back acks=all.
 *
 * The rate is Kafka's: bytes recorded in `replication.quota.window.num` samples of
 * `replication.quota.window.size.seconds`, over the time those samples span but at least all the
 * windows but one, so a transfer that just started may burst, then settles at the rate.
 */

export interface ReplicationQuotaConfig {
  /** The bound in bytes/s, read at each check (a dynamic broker config); null when unset. */
  rate(): number | null;
  windowMs: number;
  windows: number;
}

interface Sample {
  start: number;
  bytes: number;
}

export class ReplicationQuota {
  private readonly samples: Sample[] = [];

  constructor(private readonly config: ReplicationQuotaConfig, private readonly now: () => number = Date.now) {}

  /** Bytes of throttled replicas just sent (leader) or received (follower). */
  record(bytes: number): void {
    if (bytes <= 0) return;
    const now = this.now();
    this.expire(now);
    const last = this.samples[this.samples.length - 1];
    if (last !== undefined && now - last.start < this.config.windowMs) last.bytes += bytes;
    else this.samples.push({ start: now, bytes });
  }

  /** Bytes/s over the samples kept (Kafka's Rate.measure). */
  measuredRate(): number {
    const now = this.now();
    this.expire(now);
    if (this.samples.length === 0) return 0;
    const total = this.samples.reduce((sum, s) => sum + s.bytes, 0);
    let elapsed = now - this.samples[0].start;
    const fullWindows = Math.floor(elapsed / this.config.windowMs);
    const minFullWindows = this.config.windows - 1;
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * this.config.windowMs;
    return total / (Math.max(elapsed, 1) / 1000);
  }

  /** True when a rate is set and the measured rate is above it. */
  isQuotaExceeded(): boolean {
    const bound = this.config.rate();
    return bound !== null && this.measuredRate() > bound;
  }

  /** How long until the measured rate is back at the bound if nothing more is recorded (0 when it is). */
  delayMs(): number {
    const bound = this.config.rate();
    if (bound === null || bound <= 0) return 0;
    const now = this.now();
    this.expire(now);
    if (this.samples.length === 0) return 0;
    const total = this.samples.reduce((sum, s) => sum + s.bytes, 0);
    const elapsed = Math.max(now - this.samples[0].start, (this.config.windows - 1) * this.config.windowMs);
    return Math.max(0, Math.ceil((total / bound) * 1000 - elapsed));
  }

  private expire(now: number): void {
    const horizon = now - this.config.windows * this.config.windowMs;
    while (this.samples.length > 0 && this.samples[0].start + this.config.windowMs <= horizon) this.samples.shift();
  }
}

/** Whether `partition`'s replica on `brokerId` is listed in a throttled-replicas setting. */
export function isThrottledReplica(throttledReplicas: readonly string[], partition: number, brokerId: number): boolean {
  if (throttledReplicas.length === 1 && throttledReplicas[0] === '*') return true;
  const entry = `${partition}:${brokerId}`;
  return throttledReplicas.some((r) => r.trim() === entry);
}
