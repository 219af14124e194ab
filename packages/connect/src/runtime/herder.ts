/**
 * The standalone herder: owns every connector and task on this worker, applies REST requests
 * (create, reconfigure, pause/resume/stop, restart, delete, offsets) and answers status queries
 * in Kafka Connect's shapes. As in Kafka's standalone mode, connector configs and statuses live
 * in memory; source offsets live in the offset file.
 */
import { Admin, Producer } from '@sluice/client';
import { Connector, SinkConnector, SinkTask, SourceTask, type TaskProps } from '../api/connector.js';
import { buildChain, validateConnectorConfig } from './connector-config.js';
import { ConnectException, ErrorHandler } from './error-handler.js';
import type { OffsetStoreResolver, SourceOffsetStore } from './offset-store.js';
import type { Plugins } from './plugins.js';
import { clientSecurity, connectorClientProps, withPrefix, type WorkerConfig } from './worker-config.js';
import { WorkerSinkTask, sinkGroupId } from './worker-sink-task.js';
import { WorkerSourceTask } from './worker-source-task.js';
import { RestError } from './rest-error.js';
import { TopicCreation } from './topic-creation.js';
import { alterSinkOffsets, offsetWritesOf, sinkOffsets } from './offset-requests.js';
import { transactionBoundaryOf, type ExactlyOnceSource, type TaskConverters, type WorkerTask } from './worker-task.js';

export type ConnectorStateName = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING';
export type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED';

export { RestError } from './rest-error.js';

interface ConnectorEntry {
  name: string;
  config: Record<string, string>;
  type: 'source' | 'sink';
  target: TargetState;
  instance: Connector | null;
  state: ConnectorStateName;
  trace: string | null;
  taskConfigs: TaskProps[];
  tasks: WorkerTask[];
  topics: Set<string>;
}

export interface ConnectorInfo {
  name: string;
  config: Record<string, string>;
  tasks: Array<{ connector: string; task: number }>;
  type: 'source' | 'sink';
}

export interface TaskStatus {
  id: number;
  state: string;
  worker_id: string;
  trace?: string;
}

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id: string; trace?: string };
  tasks: TaskStatus[];
  type: 'source' | 'sink';
}

function traceOf(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  return e.stack ?? `${e.name}: ${e.message}`;
}

export class StandaloneHerder {
  private readonly connectors = new Map<string, ConnectorEntry>();
  private readonly admin: Admin;
  /** host:port as other workers and clients reach this one (known once the REST server listens). */
  workerId: string;
  /** Serialises state changes: REST calls may overlap. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: WorkerConfig,
    readonly plugins: Plugins,
    /** The worker's offset store, or (distributed) a resolver honouring a connector's own offsets.storage.topic. */
    private readonly offsets: SourceOffsetStore | OffsetStoreResolver,
    private readonly log: (line: string) => void = (l) => console.error(l),
    /** Distributed workers with exactly.once.source.support=enabled give source tasks a transactional setup. */
    private readonly exactlyOnce: ((connector: string, taskId: number, config: Record<string, string>) => ExactlyOnceSource | null) | null = null,
    /**
     * Distributed workers: a connector instance here computes its task configs but starts no
     * tasks; tasks run as task units (startTaskUnit) wherever the group assigned each one.
     */
    private readonly tasksElsewhere = false,
  ) {
    // Connectors' admin work (topic creation, dead letter queues, sink offsets) with Kafka's admin settings: top-level, then admin.*.
    const adminProps = connectorClientProps('admin', config.raw, {});
    this.admin = new Admin({ brokers: bootstrapOf(adminProps, config), clientId: 'connect-admin', ...clientSecurity(adminProps, 'admin.') });
    this.workerId = new URL(config.advertisedUrl).host;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  connectorNames(): string[] {
    return [...this.connectors.keys()].sort();
  }

  private entry(name: string): ConnectorEntry {
    const e = this.connectors.get(name);
    if (!e) throw new RestError(404, `Connector ${name} not found`);
    return e;
  }

  has(name: string): boolean {
    return this.connectors.has(name);
  }

  info(name: string): ConnectorInfo {
    const e = this.entry(name);
    return { name, config: { ...e.config }, tasks: e.taskConfigs.map((_, task) => ({ connector: name, task })), type: e.type };
  }

  status(name: string): ConnectorStatus {
    const e = this.entry(name);
    return {
      name,
      connector: { state: e.state, worker_id: this.workerId, ...(e.trace ? { trace: e.trace } : {}) },
      tasks: e.tasks.map((t, id) => this.taskStatusOf(t, id)),
      type: e.type,
    };
  }

  private taskStatusOf(t: WorkerTask, id: number): TaskStatus {
    return { id, state: t.state, worker_id: this.workerId, ...(t.trace ? { trace: t.trace } : {}) };
  }

  taskStatus(name: string, taskId: number): TaskStatus {
    const e = this.entry(name);
    const t = e.tasks[taskId];
    if (!t) throw new RestError(404, `No status found for task ${name}-${taskId}`);
    return this.taskStatusOf(t, taskId);
  }

  taskConfigs(name: string): Array<{ id: { connector: string; task: number }; config: TaskProps }> {
    return this.entry(name).taskConfigs.map((config, task) => ({ id: { connector: name, task }, config }));
  }

  topics(name: string): Record<string, { topics: string[] }> {
    const topics = new Set([...(this.connectors.get(name)?.topics ?? this.entry(name).topics), ...(this.units.get(name)?.entry.topics ?? [])]);
    return { [name]: { topics: [...topics].sort() } };
  }

  /** Topics the task units of `name` here have used (distributed mode). */
  taskUnitTopics(name: string): string[] {
    return [...(this.units.get(name)?.entry.topics ?? [])];
  }

  resetTaskUnitTopics(name: string): void {
    this.units.get(name)?.entry.topics.clear();
  }

  resetTopics(name: string): void {
    this.entry(name).topics.clear();
  }

  validate(pluginName: string, config: Record<string, string>) {
    const plugin = this.plugins.connector(pluginName);
    if (!plugin) throw new RestError(404, `Failed to find any class that implements Connector and which name matches ${pluginName}, available connectors are: ${this.plugins.connectorPlugins().map((p) => p.className).join(', ')}`);
    return validateConnectorConfig(plugin, config, this.plugins, { exactlyOnceSource: this.exactlyOnce !== null, clientConfigOverridePolicy: this.config.clientConfigOverridePolicy });
  }

  /** Creates or replaces a connector; `created` is false when it replaced one. */
  putConnectorConfig(name: string, config: Record<string, string>, allowReplace: boolean, initialState: TargetState = 'STARTED'): Promise<{ created: boolean; info: ConnectorInfo }> {
    return this.serial(async () => {
      if (!name || name.trim() === '') throw new RestError(400, 'Connector name may not be empty');
      if (/[\u0000-\u001f\u007f]/.test(name)) throw new RestError(400, 'Connector name contains ISO control characters');
      const className = config['connector.class'];
      if (!className) throw new RestError(400, 'Connector config {' + Object.entries(config).map(([k, v]) => `${k}=${v}`).join(', ') + '} contains no connector type');
      const plugin = this.plugins.connector(className);
      if (!plugin) throw new RestError(500, `Failed to find any class that implements Connector and which name matches ${className}, available connectors are: ${this.plugins.connectorPlugins().map((p) => p.className).join(', ')}`);
      const validation = validateConnectorConfig(plugin, config, this.plugins, { exactlyOnceSource: this.exactlyOnce !== null, clientConfigOverridePolicy: this.config.clientConfigOverridePolicy });
      if (validation.error_count > 0) {
        const messages = validation.configs.flatMap((c) => (c.value.errors as string[]).map((m) => `${String(c.value.name)}: ${m}`));
        throw new RestError(400, `Connector configuration is invalid and contains the following ${validation.error_count} error(s):\n${messages.join('\n')}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``);
      }
      const existing = this.connectors.get(name);
      if (existing && !allowReplace) throw new RestError(409, `Connector ${name} already exists`);
      if (existing) await this.shutdown(existing);
      const entry: ConnectorEntry = existing ?? { name, config, type: plugin.type, target: initialState, instance: null, state: 'UNASSIGNED', trace: null, taskConfigs: [], tasks: [], topics: new Set() };
      entry.config = config;
      entry.type = plugin.type;
      this.connectors.set(name, entry);
      await this.startConnector(entry);
      return { created: !existing, info: this.info(name) };
    });
  }

  private async startConnector(e: ConnectorEntry): Promise<void> {
    e.trace = null;
    if (e.target === 'STOPPED') {
      e.state = 'STOPPED';
      e.taskConfigs = [];
      return;
    }
    const plugin = this.plugins.connector(e.config['connector.class'])!;
    const instance = new plugin.ctor();
    instance.context = {
      requestTaskReconfiguration: () => void this.serial(() => this.reconfigure(e)),
      raiseError: (err) => { e.state = 'FAILED'; e.trace = traceOf(err); },
    };
    e.instance = instance;
    try {
      await instance.start({ ...e.config });
      e.state = e.target === 'PAUSED' ? 'PAUSED' : 'RUNNING';
      e.taskConfigs = this.taskConfigsFor(e, instance);
    } catch (err) {
      e.state = 'FAILED';
      e.trace = traceOf(err);
      e.taskConfigs = [];
      this.log(`Connector ${e.name} failed to start: ${(err as Error).message}`);
      return;
    }
    if (!this.tasksElsewhere) e.tasks = e.taskConfigs.map((props, id) => this.startTask(e, id, props));
  }

  private taskConfigsFor(e: ConnectorEntry, instance: Connector): TaskProps[] {
    const max = Number(e.config['tasks.max'] ?? 1);
    const configs = instance.taskConfigs(max).slice(0, max);
    const taskClass = instance.taskClass().name;
    return configs.map((c) => {
      const props: TaskProps = { ...c, 'task.class': taskClass };
      if (instance instanceof SinkConnector) {
        if (e.config.topics) props.topics = e.config.topics;
        if (e.config['topics.regex']) props['topics.regex'] = e.config['topics.regex'];
      }
      return props;
    });
  }

  private startTask(e: ConnectorEntry, id: number, props: TaskProps): WorkerTask {
    const plugin = this.plugins.connector(e.config['connector.class'])!;
    const instance = e.instance ?? new plugin.ctor();
    const task = new (instance.taskClass())();
    const cfg = e.config;
    const worker = this.config;
    const keyClass = cfg['key.converter'] ?? worker.keyConverter;
    const valueClass = cfg['value.converter'] ?? worker.valueConverter;
    const headerClass = cfg['header.converter'] ?? worker.headerConverter;
    const converterProps = (prefix: string, ownClass: boolean) => ({ ...withPrefix(ownClass ? cfg : worker.raw, prefix) });
    const converters: TaskConverters = {
      key: this.plugins.newConverter(keyClass),
      value: this.plugins.newConverter(valueClass),
      header: this.plugins.newHeaderConverter(headerClass),
      keyClass, valueClass, headerClass,
    };
    converters.key.configure(converterProps('key.converter.', cfg['key.converter'] !== undefined), true);
    converters.value.configure(converterProps('value.converter.', cfg['value.converter'] !== undefined), false);
    converters.header.configure(converterProps('header.converter.', cfg['header.converter'] !== undefined));
    const dlqTopic = (cfg['errors.deadletterqueue.topic.name'] ?? '').trim();
    // Kafka Connect's client settings: producers the worker's producer.*, consumers its consumer.*, then the connector's *.override.*.
    const producerProps = connectorClientProps('producer', worker.raw, cfg);
    const consumerProps = connectorClientProps('consumer', worker.raw, cfg);
    const dlqProducer = e.type === 'sink' && dlqTopic ? new Producer({ brokers: bootstrapOf(producerProps, worker), clientId: `connector-dlq-producer-${e.name}-${id}`, acks: 'all', ...clientSecurity(producerProps, 'producer.') }) : null;
    if (dlqProducer) void this.ensureTopic(dlqTopic, Number(cfg['errors.deadletterqueue.topic.replication.factor'] ?? 3));
    const errors = new ErrorHandler({
      connector: e.name,
      taskId: id,
      tolerance: (cfg['errors.tolerance'] ?? 'none').toLowerCase() === 'all' ? 'all' : 'none',
      retryTimeoutMs: Number(cfg['errors.retry.timeout'] ?? 0),
      retryDelayMaxMs: Number(cfg['errors.retry.delay.max.ms'] ?? 60000),
      logEnable: cfg['errors.log.enable'] === 'true',
      logIncludeMessages: cfg['errors.log.include.messages'] === 'true',
      dlqTopic,
      dlqContextHeaders: cfg['errors.deadletterqueue.context.headers.enable'] === 'true',
      dlq: dlqProducer ? { send: (r) => dlqProducer.send(r) } : null,
      log: this.log,
    });
    const topicCreation = e.type === 'source' ? TopicCreation.of(worker.raw, cfg) : null;
    const topicAdmin = topicCreation ? this.connectorAdmin(e.name, id, cfg) : null;
    const runtime = {
      connector: e.name,
      taskId: id,
      props,
      converters,
      chain: buildChain(cfg, this.plugins),
      errors,
      bootstrapServers: bootstrapOf(e.type === 'sink' ? consumerProps : producerProps, worker),
      offsetFlushIntervalMs: worker.offsetFlushIntervalMs,
      clientProps: e.type === 'sink' ? consumerProps : producerProps,
      clientSecurity: e.type === 'sink' ? clientSecurity(consumerProps, 'consumer.') : clientSecurity(producerProps, 'producer.'),
      log: this.log,
      onTopic: (t: string) => e.topics.add(t),
      createTopic: topicCreation && topicAdmin ? topicCreator(topicAdmin, topicCreation) : null,
      ownedClients: topicAdmin && topicAdmin !== this.admin ? [topicAdmin] : [],
      exactlyOnce: e.type === 'source' && this.exactlyOnce ? this.exactlyOnce(e.name, id, cfg) : null,
      // Only exactly-once source tasks have transactions to bound (validation checked the setting).
      transactionBoundary: e.type === 'source' && this.exactlyOnce ? transactionBoundaryOf(cfg, worker.offsetFlushIntervalMs, instance) : undefined,
    };
    const wt = task instanceof SinkTask ? new WorkerSinkTask(runtime, task, dlqProducer) : task instanceof SourceTask ? new WorkerSourceTask(runtime, task, this.offsetStore(e.name, cfg)) : null;
    if (!wt) throw new ConnectException(`Task class ${task.constructor.name} is neither a SourceTask nor a SinkTask`);
    wt.start(e.target === 'PAUSED');
    return wt;
  }

  private offsetStore(connector: string, config: Record<string, string>): SourceOffsetStore {
    return typeof this.offsets === 'function' ? this.offsets(connector, config) : this.offsets;
  }

  /** The shared admin client, or one of the task's own when the connector gives admin.override.* settings. */
  private connectorAdmin(connector: string, taskId: number, cfg: Record<string, string>): Admin {
    if (!Object.keys(cfg).some((k) => k.startsWith('admin.override.'))) return this.admin;
    const props = connectorClientProps('admin', this.config.raw, cfg);
    const security = clientSecurity(props, 'admin.override.');
    return new Admin({ brokers: bootstrapOf(props, this.config), clientId: `connector-adminclient-${connector}-${taskId}`, ...security });
  }

  private async ensureTopic(topic: string, replicationFactor: number): Promise<void> {
    try {
      await this.admin.createTopics([{ topic, numPartitions: 1, replicationFactor }], { ignoreExisting: true });
    } catch (err) {
      this.log(`Could not create dead letter queue topic ${topic}: ${(err as Error).message}`);
    }
  }

  private async stopTasks(e: ConnectorEntry): Promise<void> {
    await Promise.all(e.tasks.map(async (t) => {
      await t.stop(this.config.gracefulShutdownMs);
      if (t instanceof WorkerSinkTask) await t.closeDeadLetterQueue();
    }));
    e.tasks = [];
  }

  private async shutdown(e: ConnectorEntry): Promise<void> {
    await this.stopTasks(e);
    if (e.instance) {
      try {
        await e.instance.stop();
      } catch (err) {
        this.log(`Connector ${e.name} failed to stop cleanly: ${(err as Error).message}`);
      }
      e.instance = null;
    }
  }

  private async reconfigure(e: ConnectorEntry): Promise<void> {
    if (!e.instance || e.state !== 'RUNNING') return;
    const next = this.taskConfigsFor(e, e.instance);
    if (JSON.stringify(next) === JSON.stringify(e.taskConfigs)) return;
    if (this.tasksElsewhere) {
      e.taskConfigs = next; // published by the distributed herder; the task units follow
      return;
    }
    await this.stopTasks(e);
    e.taskConfigs = next;
    e.tasks = next.map((props, id) => this.startTask(e, id, props));
  }

  deleteConnector(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name);
      await this.shutdown(e);
      this.connectors.delete(name);
    });
  }

  pause(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name);
      if (e.target === 'STOPPED') return; // Kafka leaves a stopped connector stopped
      e.target = 'PAUSED';
      if (e.state === 'RUNNING') e.state = 'PAUSED';
      for (const t of e.tasks) t.pause();
    });
  }

  resume(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name);
      const wasStopped = e.target === 'STOPPED';
      e.target = 'STARTED';
      if (wasStopped) {
        await this.startConnector(e);
        return;
      }
      if (e.state === 'PAUSED') e.state = 'RUNNING';
      for (const t of e.tasks) t.resume();
    });
  }

  stop(name: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name);
      e.target = 'STOPPED';
      await this.shutdown(e);
      e.state = 'STOPPED';
      e.taskConfigs = [];
    });
  }

  /** POST /connectors/{name}/restart. Returns the status to answer with (202) or null (204). */
  restart(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatus | null> {
    return this.serial(async () => {
      const e = this.entry(name);
      const restartConnector = !onlyFailed || e.state === 'FAILED';
      const taskIds = includeTasks ? e.tasks.map((t, i) => [t, i] as const).filter(([t]) => !onlyFailed || t.state === 'FAILED').map(([, i]) => i) : [];
      const answer = includeTasks || onlyFailed ? this.status(name) : null;
      if (answer) {
        if (restartConnector) answer.connector.state = 'RESTARTING';
        for (const id of taskIds) answer.tasks[id] = { ...answer.tasks[id], state: 'RESTARTING' };
        for (const t of answer.tasks) if (t.state === 'RESTARTING') delete t.trace;
        if (restartConnector) delete answer.connector.trace;
      }
      if (restartConnector && (includeTasks && taskIds.length === e.tasks.length)) {
        await this.shutdown(e);
        await this.startConnector(e);
        return answer;
      }
      if (restartConnector) {
        // Only the Connector instance: its tasks keep running.
        if (e.instance) await e.instance.stop();
        const instance = new (this.plugins.connector(e.config['connector.class'])!.ctor)();
        instance.context = e.instance?.context ?? { requestTaskReconfiguration: () => undefined, raiseError: () => undefined };
        e.instance = instance;
        e.trace = null;
        try {
          await instance.start({ ...e.config });
          e.state = e.target === 'PAUSED' ? 'PAUSED' : e.target === 'STOPPED' ? 'STOPPED' : 'RUNNING';
          if (!e.tasks.length && e.target !== 'STOPPED') {
            e.taskConfigs = this.taskConfigsFor(e, instance);
            if (!this.tasksElsewhere) e.tasks = e.taskConfigs.map((props, id) => this.startTask(e, id, props));
          }
        } catch (err) {
          e.state = 'FAILED';
          e.trace = traceOf(err);
        }
      }
      for (const id of taskIds) await this.restartTaskNow(e, id);
      return answer;
    });
  }

  restartTask(name: string, taskId: number): Promise<void> {
    return this.serial(async () => {
      const e = this.entry(name);
      if (!e.taskConfigs[taskId]) throw new RestError(404, `Task not found: ${name}-${taskId}`);
      await this.restartTaskNow(e, taskId);
    });
  }

  private async restartTaskNow(e: ConnectorEntry, id: number): Promise<void> {
    const old = e.tasks[id];
    if (old) {
      await old.stop(this.config.gracefulShutdownMs);
      if (old instanceof WorkerSinkTask) await old.closeDeadLetterQueue();
    }
    e.tasks[id] = this.startTask(e, id, e.taskConfigs[id]);
  }

  // ---- task units (distributed mode): one task of a connector whose instance may run elsewhere ----

  private readonly units = new Map<string, { entry: ConnectorEntry; tasks: Map<number, { props: TaskProps; task: WorkerTask | null }> }>();

  /** Starts (or restarts, with these settings) task `id` of connector `name` here, as Kafka's Worker.startTask. */
  startTaskUnit(name: string, config: Record<string, string>, target: TargetState, id: number, props: TaskProps): Promise<void> {
    return this.serial(async () => {
      const plugin = this.plugins.connector(config['connector.class']);
      if (!plugin) throw new ConnectException(`Failed to find any class that implements Connector and which name matches ${config['connector.class']}`);
      let unit = this.units.get(name);
      if (!unit) {
        unit = { entry: { name, config, type: plugin.type, target, instance: null, state: 'RUNNING', trace: null, taskConfigs: [], tasks: [], topics: new Set() }, tasks: new Map() };
        this.units.set(name, unit);
      }
      unit.entry.config = config;
      unit.entry.type = plugin.type;
      unit.entry.target = target;
      await this.stopUnitTask(unit.tasks.get(id)?.task ?? null);
      unit.tasks.set(id, { props, task: target === 'STOPPED' ? null : this.startTask(unit.entry, id, props) });
    });
  }

  /** Stops task `id` of `name` here (revoked, or its connector deleted). */
  stopTaskUnit(name: string, id: number): Promise<void> {
    return this.serial(async () => {
      const unit = this.units.get(name);
      const held = unit?.tasks.get(id);
      if (!unit || !held) return;
      unit.tasks.delete(id);
      if (unit.tasks.size === 0) this.units.delete(name);
      await this.stopUnitTask(held.task);
    });
  }

  private async stopUnitTask(task: WorkerTask | null): Promise<void> {
    if (!task) return;
    await task.stop(this.config.gracefulShutdownMs);
    if (task instanceof WorkerSinkTask) await task.closeDeadLetterQueue();
  }

  /** The task units of `name` here: id, the settings they run with, their status. */
  taskUnits(name: string): Array<{ id: number; config: Record<string, string>; props: TaskProps; status: TaskStatus | null }> {
    const unit = this.units.get(name);
    if (!unit) return [];
    return [...unit.tasks].sort(([a], [b]) => a - b).map(([id, held]) => ({ id, config: unit.entry.config, props: held.props, status: held.task ? this.taskStatusOf(held.task, id) : null }));
  }

  /** A target-state change for the task units of `name` here. */
  setTaskUnitsTarget(name: string, target: TargetState): Promise<void> {
    return this.serial(async () => {
      const unit = this.units.get(name);
      if (!unit) return;
      const wasStopped = unit.entry.target === 'STOPPED';
      unit.entry.target = target;
      for (const [id, held] of unit.tasks) {
        if (target === 'STOPPED') {
          await this.stopUnitTask(held.task);
          held.task = null;
        } else if (!held.task || wasStopped) {
          held.task = this.startTask(unit.entry, id, held.props);
        } else if (target === 'PAUSED') held.task.pause();
        else held.task.resume();
      }
    });
  }

  /** Restarts task units of `name` here (all, or the FAILED ones); `only` limits it to one id. */
  restartTaskUnits(name: string, onlyFailed: boolean, only?: number): Promise<void> {
    return this.serial(async () => {
      const unit = this.units.get(name);
      if (!unit) return;
      for (const [id, held] of unit.tasks) {
        if (only !== undefined && id !== only) continue;
        if (onlyFailed && held.task?.state !== 'FAILED') continue;
        await this.stopUnitTask(held.task);
        held.task = unit.entry.target === 'STOPPED' ? null : this.startTask(unit.entry, id, held.props);
      }
    });
  }

  hasTaskUnit(name: string, id: number): boolean {
    return this.units.get(name)?.tasks.has(id) ?? false;
  }

  async getOffsets(name: string): Promise<{ offsets: Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> | null }> }> {
    const e = this.entry(name);
    if (e.type === 'source') return { offsets: this.offsetStore(name, e.config).forConnector(name) };
    return { offsets: await sinkOffsets(this.admin, name) };
  }

  private requireStopped(e: ConnectorEntry): void {
    if (e.state !== 'STOPPED') {
      throw new RestError(400, `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${e.name}/stop' endpoint`);
    }
  }

  resetOffsets(name: string): Promise<{ message: string }> {
    return this.serial(async () => {
      const e = this.entry(name);
      this.requireStopped(e);
      if (e.type === 'source') {
        const store = this.offsetStore(name, e.config);
        await store.set(name, store.forConnector(name).map((o) => ({ partition: o.partition, offset: null })));
      } else {
        const groups = await this.admin.listGroups();
        if (groups.some((g) => g.groupId === sinkGroupId(name))) await this.admin.deleteGroups([sinkGroupId(name)]);
      }
      return { message: 'The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses.' };
    });
  }

  alterOffsets(name: string, body: unknown): Promise<{ message: string }> {
    return this.serial(async () => {
      const e = this.entry(name);
      this.requireStopped(e);
      const writes = offsetWritesOf(body);
      if (e.type === 'source') await this.offsetStore(name, e.config).set(name, writes);
      else await alterSinkOffsets(this.admin, name, writes);
      return { message: 'The offsets for this connector have been altered successfully' };
    });
  }

  async clusterId(): Promise<string> {
    return (await this.admin.describeCluster()).clusterId;
  }

  async close(): Promise<void> {
    await this.serial(async () => {
      await Promise.all([...this.connectors.values()].map((e) => this.shutdown(e)));
      await Promise.all([...this.units.values()].flatMap((u) => [...u.tasks.values()].map((held) => this.stopUnitTask(held.task))));
      this.units.clear();
    });
    await this.admin.close();
  }
}

/** A client's bootstrap.servers: its own setting (producer.*, consumer.*, admin.*, *.override.*) or the worker's. */
function bootstrapOf(props: Record<string, string>, worker: WorkerConfig): string[] {
  const own = (props['bootstrap.servers'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return own.length ? own : worker.bootstrapServers;
}

/** Creates a source task's topics by its topic.creation rules (an existing topic is left alone). */
function topicCreator(admin: Admin, creation: TopicCreation | null): ((topic: string) => Promise<void>) | null {
  if (!creation) return null;
  return async (topic) => {
    await admin.createTopics([creation.newTopic(topic)], { ignoreExisting: true });
  };
}
