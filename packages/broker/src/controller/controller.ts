/**
 * The cluster controller (Kafka's QuorumController, its ReplicationControlManager part): every
 * broker runs one, and it acts only while the metadata store names this broker controller. It
 * watches broker registrations and moves partition leadership when brokers come and go: a leader
 * that left is replaced from the ISR and its leader epoch bumped, brokers that left leave ISRs,
 * offline partitions get a leader when an ISR member returns. Every write is guarded by the
 * controller epoch it won the office at and by the partition epoch it read, so a deposed controller
 * or a decision taken on stale state never lands. A write that loses a race is retried from the
 * fresh state; a periodic pass repairs whatever a missed event left behind.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { Logger } from '../logger.js';
import { partitionState, type MetadataChange, type MetadataStore, type PartitionRegistration, type TopicMetadata } from '../metadata/metadata-store.js';
import { completeReassignment, decideElection, decidePartition, ELECTION_PREFERRED, imbalancedPartitions, type PartitionDecision } from './partition-change.js';

export interface ControllerOptions {
  /** Whether unclean leader election is allowed for a topic (its `unclean.leader.election.enable`). */
  uncleanLeaderElection: (topic: TopicMetadata) => boolean;
  /** The safety-net pass over every partition while active. */
  recheckIntervalMs?: number;
  /** Kafka's auto leader rebalance: read at each check, so dynamic changes apply. */
  leaderRebalance?: () => { enabled: boolean; intervalMs: number; imbalancePercentage: number };
}

export class Controller {
  private epoch = -1;
  private pass: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private rebalanceTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly nodeId: number,
    private readonly metadata: MetadataStore,
    private readonly logger: Logger,
    private readonly options: ControllerOptions,
  ) {}

  /** True while this broker is the active controller. */
  get active(): boolean {
    return this.epoch >= 0;
  }

  get controllerEpoch(): number {
    return this.epoch;
  }

  start(): void {
    this.metadata.onChange((change) => this.onChange(change));
    this.follow(this.metadata.controllerId(), this.metadata.controllerEpoch());
    const interval = this.options.recheckIntervalMs ?? 5000;
    this.timer = setInterval(() => {
      if (this.active) this.requestPass();
    }, interval);
    this.timer.unref();
    this.scheduleRebalance();
  }

  stop(): void {
    this.stopped = true;
    this.epoch = -1;
    if (this.timer) clearInterval(this.timer);
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
  }

  private scheduleRebalance(): void {
    const settings = this.options.leaderRebalance?.();
    if (!settings || this.stopped) return;
    this.rebalanceTimer = setTimeout(() => {
      const now = this.options.leaderRebalance!();
      const run = this.active && now.enabled ? this.rebalanceLeaders(now.imbalancePercentage) : Promise.resolve();
      run.catch((err: unknown) => this.logger.warn(`controller: leader rebalance failed: ${(err as Error).message}`)).finally(() => this.scheduleRebalance());
    }, settings.intervalMs);
    this.rebalanceTimer.unref();
  }

  /** Moves leadership back to preferred replicas on brokers whose imbalance is above the threshold. */
  async rebalanceLeaders(imbalancePercentage: number): Promise<number> {
    const epoch = this.epoch;
    if (epoch < 0) return 0;
    const live = new Set(this.metadata.brokers().map((b) => b.nodeId));
    const partitions = this.metadata.topics().flatMap((topic) => topic.partitions.map((p) => ({ topic: topic.name, state: partitionState(p) })));
    let moved = 0;
    for (const i of imbalancedPartitions(partitions.map((p) => p.state), live, imbalancePercentage)) {
      const { topic, state } = partitions[i];
      const outcome = decideElection(ELECTION_PREFERRED, state, live);
      if (!('change' in outcome)) continue;
      try {
        await this.metadata.alterPartition(topic, state.partition, state.partitionEpoch, outcome.change, { controllerEpoch: epoch });
        moved++;
      } catch (err) {
        if (err instanceof KafkaError && err.code === ErrorCode.NOT_CONTROLLER) return moved;
        // A race with another change: the next check looks again.
      }
    }
    if (moved) this.logger.info(`controller: auto leader rebalance moved ${moved} partition(s) back to their preferred leaders`);
    return moved;
  }

  /** Resolves once the passes asked for so far are done (tests, controlled shutdown). */
  async idle(): Promise<void> {
    while (this.pass) await this.pass;
  }

  private onChange(change: MetadataChange): void {
    if (this.stopped) return;
    switch (change.kind) {
      case 'controller-changed':
        this.follow(change.controllerId, change.controllerEpoch);
        return;
      case 'broker-registered':
      case 'broker-unregistered':
      case 'topic-created':
      case 'partitions-added':
        if (this.active) this.requestPass();
        return;
      case 'partition-changed':
        // A leader given up (controlled shutdown with no successor, or an old decision) may need a
        // new one; a reassignment may be ready to finish (its new replicas joined the ISR).
        if (this.active && (change.current.leader < 0 || !this.isLive(change.current.leader) || completeReassignment(change.current))) this.requestPass();
        return;
      default:
        return;
    }
  }

  private follow(controllerId: number, controllerEpoch: number): void {
    const mine = controllerId === this.nodeId && controllerEpoch >= 0;
    if (mine && this.epoch !== controllerEpoch) {
      this.epoch = controllerEpoch;
      this.logger.info(`broker ${this.nodeId} is the controller (epoch ${controllerEpoch})`);
      this.requestPass();
    } else if (!mine && this.epoch >= 0) {
      this.logger.info(`broker ${this.nodeId} is no longer the controller (now ${controllerId < 0 ? 'none' : controllerId}, epoch ${controllerEpoch})`);
      this.epoch = -1;
    }
  }

  private isLive(nodeId: number): boolean {
    return this.metadata.brokers().some((b) => b.nodeId === nodeId);
  }

  /** Passes run one at a time; asking during one runs another right after (events coalesce). */
  private requestPass(): void {
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = (async () => {
      try {
        do {
          this.again = false;
          await this.electionPass();
        } while (this.again && this.active && !this.stopped);
      } finally {
        this.pass = null;
      }
    })();
  }

  /** One pass over every partition: each decision written as a guarded CAS. */
  private async electionPass(): Promise<void> {
    const epoch = this.epoch;
    if (epoch < 0) return;
    const live = new Set(this.metadata.brokers().map((b) => b.nodeId));
    let retry = false;
    for (const topic of this.metadata.topics()) {
      for (const assignment of topic.partitions) {
        if (this.epoch !== epoch || this.stopped) return;
        const state = partitionState(assignment);
        const decision = decidePartition(state, live, this.options.uncleanLeaderElection(topic)) ?? reassignmentStep(state);
        if (!decision) continue;
        const where = `${topic.name}-${state.partition}`;
        try {
          await this.metadata.alterPartition(topic.name, state.partition, state.partitionEpoch, decision.change, { controllerEpoch: epoch });
          const line = `controller: ${where}: ${decision.reason} (leader epoch ${state.leaderEpoch}${decision.change.leader !== undefined && decision.change.leader !== state.leader ? ` -> ${state.leaderEpoch + 1}` : ''})`;
          if (decision.unclean || decision.change.leader === -1) this.logger.warn(line);
          else this.logger.info(line);
        } catch (err) {
          const code = err instanceof KafkaError ? err.code : -1;
          if (code === ErrorCode.NOT_CONTROLLER) return;
          // Lost a race (the leader changed the ISR meanwhile) or the topic went: decide again on fresh state.
          if (code === ErrorCode.INVALID_UPDATE_VERSION || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) retry = true;
          else {
            this.logger.warn(`controller: ${where}: ${(err as Error).message}`);
            retry = true;
          }
        }
      }
    }
    if (retry) {
      await new Promise((r) => setTimeout(r, 100));
      this.again = true;
    }
  }
}

/** A reassignment whose new replicas are all in sync: finish it (drop the removing replicas). */
function reassignmentStep(state: PartitionRegistration): PartitionDecision | null {
  const change = completeReassignment(state);
  if (!change) return null;
  return { change, reason: `reassignment complete: replicas ${state.replicas.join(',')} -> ${change.replicas!.join(',')}`, unclean: false };
}
