/**
 * The distributed herder. Connector configs, task configs and target states live in
 * `config.storage.topic` (keys `connector-<name>`, `task-<name>-<n>`, `commit-<name>`,
 * `target-state-<name>`, `task-count-record-<name>`, values `{"properties":…}`, `{"tasks":N}`,
 * `{"state":…}`, `{"task-count":N}`), statuses in
 * `status.storage.topic` (`status-connector-<name>`, `status-task-<name>-<n>`, values
 * `{"state","trace","worker_id","generation"}`), source offsets in `offset.storage.topic`.
 * Writes go through the leader (the REST layer forwards them). The leader assigns connector
 * instances and tasks separately, as Kafka's IncrementalCooperativeAssignor does, spreading each
 * kind evenly over the workers: the worker running a connector's instance publishes its task
 * configs; each task runs where it was assigned, from those configs (a task unit of the local
 * herder). Workers publish the statuses of what they run and follow target-state changes.
 */
import { Admin, Cluster } from '@sluice/client';
import { RestError, StandaloneHerder, type ConnectorInfo, type ConnectorStatus, type TargetState, type TaskStatus } from '../herder.js';
import type { Plugins } from '../plugins.js';
import type { WorkerConfig } from '../worker-config.js';
import { sinkGroupId } from '../worker-sink-task.js';
import { CONNECTOR_TASK, type ConnectAssignment, type WorkerMetadata } from './connect-protocol.js';
import { ConnectGroupMember } from './group-member.js';
import { KafkaLog, type LogRecord, type WorkerConnection } from './kafka-log.js';
import { KafkaOffsetStore } from './kafka-offset-store.js';
import { ConnectorOffsetStore } from './connector-offset-store.js';
import { alterSinkOffsets, offsetWritesOf, sinkOffsets } from '../offset-requests.js';

export interface DistributedSettings {
  groupId: string;
  configTopic: string;
  offsetTopic: string;
  statusTopic: string;
  configReplication: number;
  offsetReplication: number;
  statusReplication: number;
  offsetPartitions: number;
  statusPartitions: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  scheduledRebalanceMaxDelayMs: number;
}

export function distributedSettings(raw: Record<string, string>): DistributedSettings {
  const need = (k: string) => {
    const v = raw[k];
    if (!v) throw new Error(`Missing required configuration "${k}" which has no default value.`);
    return v;
  };
  const num = (k: string, d: number) => (raw[k] === undefined ? d : Number(raw[k]));
  return {
    groupId: need('group.id'),
    configTopic: need('config.storage.topic'),
    offsetTopic: need('offset.storage.topic'),
    statusTopic: need('status.storage.topic'),
    configReplication: num('config.storage.replication.factor', 3),
    offsetReplication: num('offset.storage.replication.factor', 3),
    statusReplication: num('status.storage.replication.factor', 3),
    offsetPartitions: num('offset.storage.partitions', 25),
    statusPartitions: num('status.storage.partitions', 5),
    sessionTimeoutMs: num('session.timeout.ms', 10_000),
    heartbeatIntervalMs: num('heartbeat.interval.ms', 3_000),
    rebalanceTimeoutMs: num('rebalance.timeout.ms', 60_000),
    scheduledRebalanceMaxDelayMs: num('scheduled.rebalance.max.delay.ms', 300_000),
  };
}

interface StatusValue {
  state: string;
  trace: string | null;
  worker_id: string;
  generation: number;
}

export class DistributedHerder {
  private readonly configs = new Map<string, Record<string, string>>();
  private readonly targets = new Map<string, TargetState>();
  private readonly taskCounts = new Map<string, number>();
  /** KIP-618: `task-count-record-<name>`, the task count the leader last fenced up to. */
  private readonly fencedTaskCounts = new Map<string, number>();
  private readonly exactlyOnceSource: boolean;
  private readonly taskProps = new Map<string, Record<string, string>>();
  private readonly statuses = new Map<string, StatusValue>();
  private readonly configLog: KafkaLog;
  /** The config topic's records up to start-up have been read (later restart requests are acted on). */
  private configHistoryRead = false;
  private readonly statusLog: KafkaLog;
  readonly offsets: KafkaOffsetStore;
  private readonly local: StandaloneHerder;
  private readonly admin: Admin;
  private member: ConnectGroupMember | null = null;
  private cluster: Cluster | null = null;
  /** Connectors whose instance runs here. */
  private owned = new Set<string>();
  /** Tasks that run here, by connector. */
  private ownedTasks = new Map<string, Set<number>>();
  private leaderUrl: string | null = null;
  private isLeader = false;
  private published = new Map<string, string>();
  /** Leader's memory of the last plan (unit key -> member), to notice a departed worker's work. */
  private previousOwners = new Map<string, string>();
  private lostDeadlines = new Map<string, number>();
  private statusTimer: NodeJS.Timeout | null = null;
  private applying: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: WorkerConfig, private readonly settings: DistributedSettings, readonly plugins: Plugins, private readonly log: (line: string) => void) {
    const id = `${settings.groupId}-${process.pid}`;
    // The worker's own clients (internal topics, group membership, fencing) use its top-level security settings.
    const connection = { brokers: config.bootstrapServers, ...config.security };
    this.offsets = new KafkaOffsetStore(connection, settings.offsetTopic, `${id}-offsets`);
    this.configLog = new KafkaLog(connection, settings.configTopic, (r) => this.onConfig(r), `${id}-configs`);
    this.statusLog = new KafkaLog(connection, settings.statusTopic, (r) => this.onStatus(r), `${id}-statuses`);
    const eos = (config.raw['exactly.once.source.support'] ?? 'disabled').toLowerCase();
    if (!['disabled', 'preparing', 'enabled'].includes(eos)) throw new Error(`Invalid value ${eos} for configuration exactly.once.source.support: String must be one of: enabled, preparing, disabled`);
    this.exactlyOnceSource = eos === 'enabled';
    this.connection = connection;
    this.clientIdBase = id;
    this.local = new StandaloneHerder(config, plugins, (connector, cfg) => this.offsetsFor(cfg), log, eos === 'enabled'
      ? (connector, taskId, cfg) => {
          // Records and offsets commit in one transaction, to the connector's own offsets topic when it has one.
          const store = this.offsetsFor(cfg);
          const own = store instanceof ConnectorOffsetStore ? store : null;
          const target = own?.primary ?? this.offsets;
          return {
            transactionalId: `${settings.groupId}-${connector}-${taskId}`,
            offsetsTopic: target.log.topic,
            catchUp: async () => {
              await own?.ready();
              await target.log.readToEnd();
            },
            remember: (c, w) => {
              target.remember(c, w);
              if (own) void own.copyToWorker(c, w);
            },
          };
        }
      : null, true);
    this.admin = new Admin(connection);
    this.advertisedUrl = config.advertisedUrl;
    this.local.workerId = new URL(config.advertisedUrl).host;
  }

  private advertisedUrl: string;
  private readonly connection: WorkerConnection;
  private readonly clientIdBase: string;
  /** Connectors' own offsets topics (offsets.storage.topic), each read once and shared. */
  private readonly connectorOffsets = new Map<string, { store: KafkaOffsetStore; started: Promise<void> }>();

  /**
   * The offset store of a source connector: the worker's, or (KIP-618) its own offsets.storage.topic
   * read before the worker's, created with the worker's offset topic settings if missing.
   */
  private offsetsFor(config: Record<string, string>): KafkaOffsetStore | ConnectorOffsetStore {
    const topic = (config['offsets.storage.topic'] ?? '').trim();
    if (!topic || topic === this.settings.offsetTopic) return this.offsets;
    let entry = this.connectorOffsets.get(topic);
    if (!entry) {
      const store = new KafkaOffsetStore(this.connection, topic, `${this.clientIdBase}-offsets-${topic}`);
      const started = store.log.start(this.settings.offsetPartitions, this.settings.offsetReplication);
      entry = { store, started };
      this.connectorOffsets.set(topic, entry);
      // A failed start (the topic could not be created) is tried again by the next task.
      started.catch(() => {
        if (this.connectorOffsets.get(topic) === entry) this.connectorOffsets.delete(topic);
      });
    }
    return new ConnectorOffsetStore(entry.store, this.offsets, entry.started, this.log);
  }

  /** The URL other workers reach this one at (group metadata) and its worker_id (host:port). */
  advertise(url: string): void {
    this.advertisedUrl = url;
    this.local.workerId = new URL(url).host;
  }

  async start(): Promise<void> {
    await this.offsets.log.start(this.settings.offsetPartitions, this.settings.offsetReplication);
    await this.statusLog.start(this.settings.statusPartitions, this.settings.statusReplication);
    await this.configLog.start(1, this.settings.configReplication);
    // Restart requests already in the topic are history: a starting worker starts everything anyway.
    this.configHistoryRead = true;
    this.cluster = new Cluster({ brokers: this.config.bootstrapServers, ...this.config.security, clientId: `connect-${this.settings.groupId}` });
    this.member = new ConnectGroupMember(this.cluster, { groupId: this.settings.groupId, sessionTimeoutMs: this.settings.sessionTimeoutMs, heartbeatIntervalMs: this.settings.heartbeatIntervalMs, rebalanceTimeoutMs: this.settings.rebalanceTimeoutMs }, {
      metadata: (): WorkerMetadata => ({ url: this.advertisedUrl, configOffset: 0n, owned: this.ownedUnits() }),
      assign: (leaderId, members) => this.assign(leaderId, members),
      assigned: (a) => this.serial(() => this.assigned(a)),
      log: this.log,
    });
    this.member.start();
    this.statusTimer = setInterval(() => void this.serial(() => this.publish()).catch(() => undefined), 1000);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.applying.then(fn, fn);
    this.applying = next.catch(() => undefined);
    return next;
  }

  // ---- internal topics ----

  private onConfig(r: LogRecord): void {
    const v = r.value as Record<string, unknown> | null;
    let m: RegExpExecArray | null;
    if ((m = /^connector-(.+)$/.exec(r.key))) {
      const name = m[1];
      const existed = this.configs.has(name);
      if (v === null) {
        this.configs.delete(name);
        this.targets.delete(name);
        this.taskCounts.delete(name);
      } else {
        this.configs.set(name, (v.properties ?? {}) as Record<string, string>);
      }
      if (this.isLeader && existed !== this.configs.has(name)) this.member?.requestRejoin();
      else if (v !== null) {
        if (this.owned.has(name)) void this.serial(() => this.applyOwned(name));
        // Tasks run with their connector's settings (converters, transforms, errors.*).
        if (this.ownedTasks.get(name)?.size) void this.serial(() => this.refreshOwnedTasks(name));
      }
    } else if ((m = /^target-state-(.+)$/.exec(r.key))) {
      const name = m[1];
      const wasStopped = this.targets.get(name) === 'STOPPED';
      if (v === null) this.targets.delete(name);
      else this.targets.set(name, ((v.state as string) ?? 'STARTED') as TargetState);
      if (this.owned.has(name)) void this.serial(() => this.applyTarget(name));
      if (this.ownedTasks.get(name)?.size) void this.serial(() => this.local.setTaskUnitsTarget(name, this.targets.get(name) ?? 'STARTED').then(() => this.publish()));
      // A stopped connector has no tasks: they are revoked, and assigned again on resume.
      if (this.isLeader && wasStopped !== (this.targets.get(name) === 'STOPPED')) this.member?.requestRejoin();
    } else if (!r.key.startsWith('task-count-record-') && (m = /^task-(.+)-(\d+)$/.exec(r.key))) {
      if (v !== null) this.taskProps.set(`${m[1]}\u0000${m[2]}`, (v.properties ?? {}) as Record<string, string>);
    } else if ((m = /^commit-(.+)$/.exec(r.key))) {
      const name = m[1];
      if (v !== null) {
        const before = this.taskCounts.get(name);
        this.taskCounts.set(name, Number(v.tasks ?? 0));
        // New task configs: a different count means tasks to assign or revoke; tasks here whose
        // configs changed restart with them.
        if (this.isLeader && before !== this.taskCounts.get(name)) this.member?.requestRejoin();
        if (this.isLeader) void this.fenceZombies(name).catch((err: unknown) => this.log(`Fencing zombie tasks of ${name}: ${(err as Error).message}`));
        if (this.ownedTasks.get(name)?.size) void this.serial(() => this.refreshOwnedTasks(name));
      }
    } else if ((m = /^task-count-record-(.+)$/.exec(r.key))) {
      if (v !== null) this.fencedTaskCounts.set(m[1], Number(v['task-count'] ?? 0));
    } else if ((m = /^restart-connector-(.+)$/.exec(r.key))) {
      // KIP-745: the workers running the connector and its tasks carry out a restart request from the config topic.
      const name = m[1];
      if (v !== null && this.configHistoryRead) {
        const includeTasks = v['include-tasks'] === true;
        const onlyFailed = v['only-failed'] === true;
        const fail = (err: unknown) => this.log(`Restarting ${name}: ${(err as Error).message}`);
        if (this.owned.has(name) && this.local.has(name)) void this.serial(() => this.local.restart(name, false, onlyFailed).then(() => this.publish())).catch(fail);
        if (includeTasks && this.ownedTasks.get(name)?.size) void this.serial(() => this.local.restartTaskUnits(name, onlyFailed).then(() => this.publish())).catch(fail);
      }
    }
  }

  private onStatus(r: LogRecord): void {
    if (r.value === null) this.statuses.delete(r.key);
    else this.statuses.set(r.key, r.value as StatusValue);
  }

  // ---- group ----

  /**
   * Incremental cooperative assignment, Kafka's IncrementalCooperativeAssignor: connector instances
   * and tasks are assigned separately, each kind spread evenly over the workers. What a live worker
   * runs stays there; work of a departed worker waits `scheduled.rebalance.max.delay.ms` for it to
   * come back, then goes to the least loaded workers; deleted work and a worker's excess over its
   * fair share of either kind are revoked and placed in the follow-up round.
   */
  private async assign(leaderId: string, members: Array<{ memberId: string; metadata: WorkerMetadata }>): Promise<Map<string, ConnectAssignment>> {
    const configOffset = await this.configLog.readToEnd();
    const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
    const leaderUrl = members.find((m) => m.memberId === leaderId)!.metadata.url;
    const plan = new Map<string, ConnectAssignment>(sorted.map((m) => [m.memberId, { error: 0, leader: leaderId, leaderUrl, configOffset, assignment: new Map(), revoked: new Map(), scheduledDelayMs: 0 }]));
    const add = (work: Map<string, number[]>, name: string, task: number) => work.set(name, [...(work.get(name) ?? []), task]);
    const unitKey = (name: string, task: number) => `${name}\u0000${task}`;
    // Every unit there should be: each connector's instance, and its tasks unless it is stopped.
    const units: Array<{ name: string; task: number }> = [];
    for (const name of [...this.configs.keys()].sort()) {
      units.push({ name, task: CONNECTOR_TASK });
      const count = this.targets.get(name) === 'STOPPED' ? 0 : (this.taskCounts.get(name) ?? 0);
      for (let task = 0; task < count; task++) units.push({ name, task });
    }
    const wanted = new Set(units.map((u) => unitKey(u.name, u.task)));
    const kindOf = (task: number) => (task === CONNECTOR_TASK ? 'connectors' : 'tasks');
    const load = new Map(sorted.map((m) => [m.memberId, { connectors: [] as Array<{ name: string; task: number }>, tasks: [] as Array<{ name: string; task: number }> }]));
    const owner = new Map<string, string>();
    const revoked = new Set<string>();
    for (const m of sorted) {
      for (const [name, tasks] of m.metadata.owned) {
        for (const task of tasks) {
          const key = unitKey(name, task);
          if (!wanted.has(key) || owner.has(key)) {
            add(plan.get(m.memberId)!.revoked, name, task);
            revoked.add(key);
            continue;
          }
          owner.set(key, m.memberId);
          load.get(m.memberId)![kindOf(task)].push({ name, task });
        }
      }
    }
    for (const kind of ['connectors', 'tasks'] as const) {
      const total = units.filter((u) => kindOf(u.task) === kind).length;
      const fair = Math.ceil(total / sorted.length);
      for (const m of sorted) {
        const mine = load.get(m.memberId)![kind];
        while (mine.length > fair) {
          const unit = mine.pop()!;
          const key = unitKey(unit.name, unit.task);
          owner.delete(key);
          revoked.add(key);
          add(plan.get(m.memberId)!.revoked, unit.name, unit.task);
        }
      }
    }
    const now = Date.now();
    const live = new Set(sorted.map((m) => m.memberId));
    let delay = 0;
    for (const unit of units) {
      const key = unitKey(unit.name, unit.task);
      if (owner.has(key) || revoked.has(key)) continue;
      const previous = this.previousOwners.get(key);
      if (previous && !live.has(previous) && this.settings.scheduledRebalanceMaxDelayMs > 0) {
        const deadline = this.lostDeadlines.get(key) ?? now + this.settings.scheduledRebalanceMaxDelayMs;
        this.lostDeadlines.set(key, deadline);
        if (deadline > now) {
          delay = Math.max(delay, deadline - now);
          continue;
        }
      }
      this.lostDeadlines.delete(key);
      const kind = kindOf(unit.task);
      const target = sorted.reduce((best, m) => (load.get(m.memberId)![kind].length < load.get(best.memberId)![kind].length ? m : best), sorted[0]);
      load.get(target.memberId)![kind].push(unit);
      owner.set(key, target.memberId);
      add(plan.get(target.memberId)!.assignment, unit.name, unit.task);
    }
    for (const p of plan.values()) p.scheduledDelayMs = delay;
    // A new leader finishes fencing a predecessor may not have done.
    for (const name of this.configs.keys()) void this.fenceZombies(name).catch((err: unknown) => this.log(`Fencing zombie tasks of ${name}: ${(err as Error).message}`));
    // Units waiting for their departed owner keep it as their previous owner.
    for (const [key, member] of this.previousOwners) if (!owner.has(key) && this.lostDeadlines.has(key)) owner.set(key, member);
    this.previousOwners = owner;
    return plan;
  }

  /** What this worker runs, as its group metadata says: connector -> task ids (-1: the instance). */
  private ownedUnits(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const name of this.owned) out.set(name, [CONNECTOR_TASK]);
    for (const [name, tasks] of this.ownedTasks) if (tasks.size) out.set(name, [...(out.get(name) ?? []), ...[...tasks].sort((a, b) => a - b)]);
    return out;
  }

  /** Starts an assigned task here from its published config (a no-op until that config has been read). */
  private async startOwnedTask(name: string, task: number): Promise<void> {
    const config = this.configs.get(name);
    const props = this.taskProps.get(`${name}\u0000${task}`);
    if (!config || !props || !this.ownedTasks.get(name)?.has(task)) return;
    await this.local.startTaskUnit(name, config, this.targets.get(name) ?? 'STARTED', task, props).catch((err: unknown) => this.log(`Could not start task ${name}-${task}: ${(err as Error).message}`));
  }

  /**
   * KIP-618's zombie fencing, by the leader: when an exactly-once source connector's task count
   * drops below the count last recorded (`task-count-record-<name>`), the transactional ids of the
   * tasks that no longer exist are fenced (Admin.fenceProducers), so a task of the old generation
   * still running somewhere cut off can commit nothing more; then the new count is recorded.
   * Tasks that remain are fenced by their next instance's initTransactions.
   */
  private async fenceZombies(name: string): Promise<void> {
    const config = this.configs.get(name);
    if (!this.exactlyOnceSource || !config || this.typeOf(config) !== 'source') return;
    const count = this.taskCounts.get(name) ?? 0;
    const recorded = this.fencedTaskCounts.get(name);
    if (recorded === count) return;
    if (recorded !== undefined && recorded > count) {
      const ids = Array.from({ length: recorded - count }, (_, i) => `${this.settings.groupId}-${name}-${count + i}`);
      await this.admin.fenceProducers(ids);
      this.log(`Fenced the producers of ${name}'s removed tasks: ${ids.join(', ')}`);
    }
    await this.configLog.send(`task-count-record-${name}`, { 'task-count': count });
    this.fencedTaskCounts.set(name, count);
  }

  /** Restarts the tasks of `name` here whose connector config or task config changed (or that never started). */
  private async refreshOwnedTasks(name: string): Promise<void> {
    const running = new Map(this.local.taskUnits(name).map((u) => [u.id, u]));
    for (const task of this.ownedTasks.get(name) ?? []) {
      const current = running.get(task);
      const config = this.configs.get(name);
      const props = this.taskProps.get(`${name}\u0000${task}`);
      if (current && JSON.stringify(current.config) === JSON.stringify(config) && JSON.stringify(current.props) === JSON.stringify(props)) continue;
      await this.startOwnedTask(name, task);
    }
    await this.publish();
  }

  private async revokeAll(): Promise<void> {
    await Promise.all([...this.owned].map((name) => this.local.deleteConnector(name).catch(() => undefined)));
    this.owned.clear();
    for (const [name, tasks] of this.ownedTasks) for (const task of tasks) await this.local.stopTaskUnit(name, task);
    this.ownedTasks.clear();
  }

  private async assigned(a: ConnectAssignment): Promise<void> {
    this.leaderUrl = a.leaderUrl;
    this.isLeader = a.leader === this.member?.memberId;
    for (const [name, tasks] of a.revoked) {
      for (const task of tasks) {
        if (task === CONNECTOR_TASK) {
          this.owned.delete(name);
          if (this.local.has(name)) await this.local.deleteConnector(name).catch(() => undefined);
        } else {
          this.ownedTasks.get(name)?.delete(task);
          await this.local.stopTaskUnit(name, task);
        }
      }
    }
    await this.configLog.readToEnd();
    await this.offsets.log.readToEnd();
    for (const [name, tasks] of a.assignment) {
      for (const task of tasks) {
        if (task === CONNECTOR_TASK) {
          this.owned.add(name);
          await this.applyOwned(name);
        } else {
          let mine = this.ownedTasks.get(name);
          if (!mine) this.ownedTasks.set(name, (mine = new Set()));
          mine.add(task);
          await this.startOwnedTask(name, task);
        }
      }
    }
    // Connectors deleted from the config topic stop here too, whoever the leader is.
    for (const name of [...this.owned]) {
      if (this.configs.has(name)) continue;
      this.owned.delete(name);
      if (this.local.has(name)) await this.local.deleteConnector(name).catch(() => undefined);
    }
    for (const [name, tasks] of [...this.ownedTasks]) {
      if (this.configs.has(name)) continue;
      for (const task of tasks) await this.local.stopTaskUnit(name, task);
      this.ownedTasks.delete(name);
    }
    await this.publish();
    const describe = (work: Map<string, number[]>) => [...work].map(([name, tasks]) => tasks.map((t) => (t === CONNECTOR_TASK ? name : `${name}-${t}`)).join(', ')).join(', ') || 'nothing';
    this.log(`Connect group generation ${this.member?.generation}: ${this.isLeader ? 'leader' : 'follower'}; assigned ${describe(a.assignment)}, revoked ${describe(a.revoked)}, running ${describe(this.ownedUnits())}`);
  }

  private async applyOwned(name: string): Promise<void> {
    const config = this.configs.get(name);
    if (!config || !this.owned.has(name)) return;
    const current = this.local.has(name) ? this.local.info(name).config : null;
    if (current && JSON.stringify(current) === JSON.stringify(config)) return this.applyTarget(name);
    try {
      await this.local.putConnectorConfig(name, config, true, this.targets.get(name) ?? 'STARTED');
    } catch (err) {
      this.log(`Could not start connector ${name}: ${(err as Error).message}`);
      return;
    }
    await this.publish();
  }

  private async applyTarget(name: string): Promise<void> {
    if (!this.local.has(name)) return;
    const target = this.targets.get(name) ?? 'STARTED';
    if (target === 'PAUSED') await this.local.pause(name);
    else if (target === 'STOPPED') await this.local.stop(name);
    else await this.local.resume(name);
    await this.publish();
  }

  /** Task configs and statuses of what this worker runs, written when they change. */
  private async publish(): Promise<void> {
    const generation = this.member?.generation ?? -1;
    for (const name of this.owned) {
      if (!this.local.has(name)) continue;
      const tasks = this.local.taskConfigs(name);
      const taskKey = `tasks:${name}`;
      const taskJson = JSON.stringify(tasks);
      if (this.published.get(taskKey) !== taskJson && (this.targets.get(name) ?? 'STARTED') !== 'STOPPED') {
        for (const t of tasks) await this.configLog.send(`task-${name}-${t.id.task}`, { properties: t.config });
        await this.configLog.send(`commit-${name}`, { tasks: tasks.length });
        this.published.set(taskKey, taskJson);
      }
      const status = this.local.status(name);
      const writes: Array<[string, StatusValue]> = [[`status-connector-${name}`, { state: status.connector.state, trace: status.connector.trace ?? null, worker_id: status.connector.worker_id, generation }]];
      for (const t of status.tasks) writes.push([`status-task-${name}-${t.id}`, { state: t.state, trace: t.trace ?? null, worker_id: t.worker_id, generation }]);
      await this.writeStatuses(writes);
    }
    for (const name of this.ownedTasks.keys()) {
      const writes: Array<[string, StatusValue]> = [];
      for (const unit of this.local.taskUnits(name)) {
        if (unit.status) writes.push([`status-task-${name}-${unit.id}`, { state: unit.status.state, trace: unit.status.trace ?? null, worker_id: unit.status.worker_id, generation }]);
      }
      await this.writeStatuses(writes);
    }
  }

  private async writeStatuses(writes: Array<[string, StatusValue]>): Promise<void> {
    for (const [key, value] of writes) {
      const json = JSON.stringify(value);
      if (this.published.get(key) === json) continue;
      await this.statusLog.send(key, value);
      this.statuses.set(key, value);
      this.published.set(key, json);
    }
  }

  // ---- REST ----

  awaitingLeader(): boolean {
    return this.leaderUrl === null;
  }

  /** The leader's URL when this worker is not the leader (writes are forwarded there). */
  forwardTo(): string | null {
    return this.isLeader || this.leaderUrl === null ? null : this.leaderUrl.replace(/\/$/, '');
  }

  /** Where the connector's instance (or, with `task`, that task) runs, as the status topic says. */
  ownerUrl(name: string, task?: number): string | null {
    const s = this.statuses.get(task === undefined ? `status-connector-${name}` : `status-task-${name}-${task}`);
    // worker_id is host:port; the workers of a cluster share one scheme (http or https).
    return s?.worker_id ? `${new URL(this.advertisedUrl).protocol}//${s.worker_id}` : null;
  }

  ownsLocally(name: string, task?: number): boolean {
    return task === undefined ? this.local.has(name) : this.local.hasTaskUnit(name, task);
  }

  connectorNames(): string[] {
    return [...this.configs.keys()].sort();
  }

  has(name: string): boolean {
    return this.configs.has(name);
  }

  private require(name: string): Record<string, string> {
    const c = this.configs.get(name);
    if (!c) throw new RestError(404, `Connector ${name} not found`);
    return c;
  }

  private typeOf(config: Record<string, string>): 'source' | 'sink' {
    return this.plugins.connector(config['connector.class'])?.type ?? 'source';
  }

  info(name: string): ConnectorInfo {
    const config = this.require(name);
    const n = (this.targets.get(name) === 'STOPPED') ? 0 : this.taskCounts.get(name) ?? 0;
    return { name, config: { ...config }, tasks: Array.from({ length: n }, (_, task) => ({ connector: name, task })), type: this.typeOf(config) };
  }

  status(name: string): ConnectorStatus {
    const config = this.require(name);
    const c = this.statuses.get(`status-connector-${name}`);
    const stopped = this.targets.get(name) === 'STOPPED';
    const tasks: TaskStatus[] = [];
    for (let id = 0; !stopped && id < (this.taskCounts.get(name) ?? 0); id++) {
      const s = this.statuses.get(`status-task-${name}-${id}`);
      tasks.push({ id, state: s?.state ?? 'UNASSIGNED', worker_id: s?.worker_id ?? '', ...(s?.trace ? { trace: s.trace } : {}) });
    }
    return { name, connector: { state: c?.state ?? 'UNASSIGNED', worker_id: c?.worker_id ?? '', ...(c?.trace ? { trace: c.trace } : {}) }, tasks, type: this.typeOf(config) };
  }

  taskStatus(name: string, taskId: number): TaskStatus {
    const t = this.status(name).tasks[taskId];
    if (!t) throw new RestError(404, `No status found for task ${name}-${taskId}`);
    return t;
  }

  taskConfigs(name: string): Array<{ id: { connector: string; task: number }; config: Record<string, string> }> {
    return this.info(name).tasks.map(({ task }) => ({ id: { connector: name, task }, config: this.taskProps.get(`${name}\u0000${task}`) ?? {} }));
  }

  topics(name: string): Record<string, { topics: string[] }> {
    this.require(name);
    return { [name]: { topics: this.local.taskUnitTopics(name).sort() } };
  }

  resetTopics(name: string): void {
    this.local.resetTaskUnitTopics(name);
  }

  validate(pluginName: string, config: Record<string, string>) {
    return this.local.validate(pluginName, config);
  }

  async putConnectorConfig(name: string, config: Record<string, string>, allowReplace: boolean, initialState: TargetState = 'STARTED'): Promise<{ created: boolean; info: ConnectorInfo }> {
    await this.configLog.readToEnd();
    const existed = this.configs.has(name);
    if (existed && !allowReplace) throw new RestError(409, `Connector ${name} already exists`);
    if (!config['connector.class']) throw new RestError(400, 'Connector config contains no connector type');
    const plugin = this.plugins.connector(config['connector.class']);
    if (!plugin) throw new RestError(500, `Failed to find any class that implements Connector and which name matches ${config['connector.class']}`);
    const validation = this.local.validate(config['connector.class'], config);
    if (validation.error_count > 0) {
      const messages = validation.configs.flatMap((c) => (c.value.errors as string[]).map((m) => `${String(c.value.name)}: ${m}`));
      throw new RestError(400, `Connector configuration is invalid and contains the following ${validation.error_count} error(s):\n${messages.join('\n')}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``);
    }
    if (!existed) await this.configLog.send(`target-state-${name}`, { state: initialState });
    await this.configLog.send(`connector-${name}`, { properties: config });
    await this.configLog.readToEnd();
    return { created: !existed, info: this.info(name) };
  }

  async deleteConnector(name: string): Promise<void> {
    this.require(name);
    await this.configLog.send(`connector-${name}`, null);
    await this.configLog.send(`target-state-${name}`, null);
    await this.configLog.readToEnd();
  }

  private async setTarget(name: string, state: TargetState): Promise<void> {
    this.require(name);
    await this.configLog.send(`target-state-${name}`, { state });
    await this.configLog.readToEnd();
  }

  pause(name: string): Promise<void> { return this.setTarget(name, 'PAUSED'); }
  resume(name: string): Promise<void> { return this.setTarget(name, 'STARTED'); }
  stop(name: string): Promise<void> { return this.setTarget(name, 'STOPPED'); }

  /**
   * A plain restart (the connector only) runs on its owner, where the REST layer forwards it. With
   * includeTasks or onlyFailed (KIP-745) the leader writes a `restart-connector-<name>` record to
   * the config topic, as Kafka Connect does, and answers with the plan: what restarts shows
   * RESTARTING. The worker running the connector acts on the record.
   */
  async restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatus | null> {
    this.require(name);
    if (!includeTasks && !onlyFailed) {
      if (!this.local.has(name)) throw new RestError(409, `Connector ${name} is not running on this worker; retry the request`);
      return this.local.restart(name, includeTasks, onlyFailed);
    }
    const plan = this.status(name);
    const restartConnector = !onlyFailed || plan.connector.state === 'FAILED';
    await this.configLog.send(`restart-connector-${name}`, { 'include-tasks': includeTasks, 'only-failed': onlyFailed });
    if (restartConnector) {
      plan.connector.state = 'RESTARTING';
      delete plan.connector.trace;
    }
    plan.tasks = plan.tasks.map((t) => (!onlyFailed || t.state === 'FAILED' ? (({ trace: _trace, ...rest }) => ({ ...rest, state: 'RESTARTING' }))(t) : t));
    return plan;
  }

  async restartTask(name: string, taskId: number): Promise<void> {
    this.require(name);
    if (!this.local.hasTaskUnit(name, taskId)) throw new RestError(409, `Task ${name}-${taskId} is not running on this worker; retry the request`);
    await this.local.restartTaskUnits(name, false, taskId);
    await this.serial(() => this.publish());
  }

  async getOffsets(name: string): Promise<{ offsets: Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> | null }> }> {
    const config = this.require(name);
    if (this.typeOf(config) === 'source') {
      const store = this.offsetsFor(config);
      await (store instanceof ConnectorOffsetStore ? store.readToEnd() : store.log.readToEnd());
      return { offsets: store.forConnector(name) };
    }
    return { offsets: await sinkOffsets(this.admin, name) };
  }

  private requireStopped(name: string): void {
    this.require(name);
    if (this.targets.get(name) !== 'STOPPED') throw new RestError(400, `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`);
  }

  async resetOffsets(name: string): Promise<{ message: string }> {
    this.requireStopped(name);
    const config = this.configs.get(name)!;
    if (this.typeOf(config) === 'source') {
      const store = this.offsetsFor(config);
      if (store instanceof ConnectorOffsetStore) await store.readToEnd();
      await store.set(name, store.forConnector(name).map((o) => ({ partition: o.partition, offset: null })));
    }
    else if ((await this.admin.listGroups()).some((g) => g.groupId === sinkGroupId(name))) await this.admin.deleteGroups([sinkGroupId(name)]);
    return { message: 'The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses.' };
  }

  async alterOffsets(name: string, body: unknown): Promise<{ message: string }> {
    this.requireStopped(name);
    const writes = offsetWritesOf(body);
    const config = this.configs.get(name)!;
    if (this.typeOf(config) === 'source') {
      const store = this.offsetsFor(config);
      if (store instanceof ConnectorOffsetStore) await store.ready();
      await store.set(name, writes);
    }
    else await alterSinkOffsets(this.admin, name, writes);
    return { message: 'The offsets for this connector have been altered successfully' };
  }

  async clusterId(): Promise<string> {
    return (await this.admin.describeCluster()).clusterId;
  }

  async close(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.serial(() => this.revokeAll());
    await this.member?.stop();
    this.cluster?.close();
    await this.local.close();
    await Promise.all([this.configLog.stop(), this.statusLog.stop(), this.offsets.log.stop(), ...[...this.connectorOffsets.values()].map(async (e) => {
      await e.started.catch(() => undefined);
      await e.store.log.stop();
    })]);
    await this.admin.close();
  }
}
