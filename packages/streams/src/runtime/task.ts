/**
 * A stream task: one instance of a sub-topology's processors and stores, fed the records of one
 * partition of each of its source topics. Processing is synchronous (stores are synchronous), so
 * the driver around it — the TopologyTestDriver or a KafkaStreams thread — does all the I/O.
 */
import { join } from 'node:path';
import type { Cancellable, Processor, ProcessorContext, Punctuator, TaskId } from '../processor/processor.js';
import { PunctuationType, taskIdString } from '../processor/processor.js';
import { Headers, Record, type Header, type RecordMetadata } from '../processor/record.js';
import type { SinkNode, SourceNode, Topology, TopologyNode } from '../processor/topology.js';
import type { ChangeLogger, StateStore } from '../state/store.js';
import { StreamsError, type DeserializationExceptionHandler } from './errors.js';

/** Where sinks and change loggers send bytes. */
export interface RecordCollector {
  send(record: { topic: string; key: Buffer | null; value: Buffer | null; timestamp: number; headers: Header[]; partition?: number }): void;
  /** Partition count of a topic, when known (custom partitioners need it). */
  partitionCount(topic: string): number | undefined;
}

export interface TaskOptions {
  id: TaskId;
  applicationId: string;
  topology: Topology;
  nodes: TopologyNode[];
  stateDirectory: string;
  collector: RecordCollector;
  /** Resolves a topology topic name (internal topics get the application id prefix). */
  topicName(name: string): string;
  changelogLogger(storeName: string): ChangeLogger | null;
  deserializationHandler: DeserializationExceptionHandler;
  clock(): number;
  appConfigs: globalThis.Record<string, unknown>;
  /** Stores owned elsewhere (global stores), readable by name. */
  sharedStores?: ReadonlyMap<string, StateStore>;
}

interface Schedule {
  node: string;
  type: PunctuationType;
  interval: number;
  next: number;
  callback: Punctuator;
  cancelled: boolean;
}

interface RuntimeNode {
  def: TopologyNode;
  processor?: Processor<unknown, unknown, unknown, unknown>;
  context?: ProcessorContext;
}

export class StreamTask {
  readonly id: TaskId;
  readonly stores = new Map<string, StateStore>();
  private readonly nodes = new Map<string, RuntimeNode>();
  private readonly sourceByTopic = new Map<string, SourceNode>();
  private readonly schedules: Schedule[] = [];
  private current: RecordMetadata | undefined;
  private currentTimestamp = 0;
  private streamTime = -1;
  private currentNode: string | null = null;
  commitRequested = false;
  /** Records processed since creation (metrics and tests). */
  processed = 0;

  constructor(private readonly options: TaskOptions) {
    this.id = options.id;
    for (const def of options.nodes) {
      this.nodes.set(def.name, { def });
      if (def.type === 'source') for (const t of def.topics) this.sourceByTopic.set(options.topicName(t), def);
    }
  }

  get name(): string {
    return taskIdString(this.id);
  }

  get directory(): string {
    return join(this.options.stateDirectory, this.name);
  }

  /** The resolved topic names this task reads. */
  sourceTopics(): string[] {
    return [...this.sourceByTopic.keys()];
  }

  storeNames(): string[] {
    return [...new Set(this.options.nodes.flatMap((n) => (n.type === 'processor' ? n.stores : [])))].filter((s) => !this.options.sharedStores?.has(s));
  }

  /** Opens the stores (without initializing processors: restoration comes first). */
  openStores(): void {
    for (const name of this.storeNames()) {
      const builder = this.options.topology.storeBuilders.get(name);
      if (!builder) throw new StreamsError(`store ${name} has no builder`);
      const store = builder.build();
      store.init({ taskDirectory: this.directory, logger: store.loggingEnabled ? this.options.changelogLogger(name) : null, timestamp: () => this.currentTimestamp });
      this.stores.set(name, store);
    }
  }

  /** Instantiates and initializes the processors; stores must be open (and restored). */
  initializeProcessors(): void {
    for (const node of this.nodes.values()) {
      if (node.def.type !== 'processor') continue;
      node.processor = node.def.supplier();
      node.context = this.contextFor(node.def.name);
    }
    for (const node of this.nodes.values()) {
      if (node.processor?.init) {
        this.currentNode = node.def.name;
        node.processor.init(node.context as ProcessorContext);
      }
    }
    this.currentNode = null;
  }

  currentStreamTime(): number {
    return this.streamTime;
  }

  /** Processes one consumed record; returns false when the deserialization handler skipped it. */
  process(input: { topic: string; partition: number; offset: number; timestamp: number; key: Buffer | null; value: Buffer | null; headers: Header[] }): boolean {
    const source = this.sourceByTopic.get(input.topic);
    if (!source) throw new StreamsError(`task ${this.name} has no source for topic ${input.topic}`);
    let key: unknown;
    let value: unknown;
    try {
      key = source.keyDeserializer ? source.keyDeserializer.deserialize(input.topic, input.key) : input.key;
      value = source.valueDeserializer ? source.valueDeserializer.deserialize(input.topic, input.value) : input.value;
    } catch (e) {
      const failure = { topic: input.topic, partition: input.partition, offset: input.offset, error: e as Error };
      if (this.options.deserializationHandler(failure) === 'CONTINUE') return false;
      throw new StreamsError(`Deserialization exception handler is set to fail upon a deserialization error: ${input.topic}-${input.partition}@${input.offset}: ${(e as Error).message}`);
    }
    let timestamp = input.timestamp;
    if (source.timestampExtractor) timestamp = source.timestampExtractor({ topic: input.topic, key, value, timestamp: input.timestamp }, this.streamTime);
    if (timestamp < 0) {
      console.warn(`sluice-streams: skipping ${input.topic}-${input.partition}@${input.offset} with invalid timestamp ${timestamp}`);
      return false;
    }
    this.current = { topic: input.topic, partition: input.partition, offset: input.offset };
    this.currentTimestamp = timestamp;
    if (timestamp > this.streamTime) this.streamTime = timestamp;
    this.processed++;
    const record = new Record(key, value, timestamp, new Headers(input.headers));
    for (const child of source.children) this.deliver(child, record);
    this.current = undefined;
    this.punctuate(PunctuationType.STREAM_TIME, this.streamTime);
    return true;
  }

  /** Fires wall-clock punctuators due at `now`. */
  punctuateWallClock(now: number): void {
    this.punctuate(PunctuationType.WALL_CLOCK_TIME, now);
  }

  private punctuate(type: PunctuationType, now: number): void {
    if (now < 0) return;
    for (const s of this.schedules) {
      if (s.cancelled || s.type !== type || s.next > now) continue;
      this.currentNode = s.node;
      this.current = undefined;
      this.currentTimestamp = now;
      s.callback(now);
      // After missed intervals, the next punctuation is one interval from now (as in Kafka Streams).
      s.next = s.next + s.interval > now ? s.next + s.interval : now + s.interval;
    }
    this.currentNode = null;
  }

  private deliver(name: string, record: Record<unknown, unknown>): void {
    const node = this.nodes.get(name);
    if (!node) throw new StreamsError(`unknown node ${name}`);
    if (node.def.type === 'sink') return this.sink(node.def, record);
    if (node.def.type !== 'processor' || !node.processor) throw new StreamsError(`node ${name} is not initialized`);
    const previous = this.currentNode;
    const previousTimestamp = this.currentTimestamp;
    this.currentNode = name;
    this.currentTimestamp = record.timestamp;
    try {
      node.processor.process(record);
    } finally {
      this.currentNode = previous;
      this.currentTimestamp = previousTimestamp;
    }
  }

  private sink(def: SinkNode, record: Record<unknown, unknown>): void {
    const topic = typeof def.topic === 'string' ? this.options.topicName(def.topic) : def.topic(record.key, record.value, { ...this.current });
    const key = def.keySerializer ? def.keySerializer.serialize(topic, record.key) : (record.key as Buffer | null);
    const value = def.valueSerializer ? def.valueSerializer.serialize(topic, record.value) : (record.value as Buffer | null);
    if ((key !== null && !Buffer.isBuffer(key)) || (value !== null && !Buffer.isBuffer(value))) {
      throw new StreamsError(`sink ${def.name} to ${topic} got a key or value that is not bytes: give it serdes (Produced.with)`);
    }
    let partition: number | undefined;
    if (def.partitioner) {
      const count = this.options.collector.partitionCount(topic);
      if (count !== undefined) partition = def.partitioner(topic, record.key, record.value, count);
    }
    this.options.collector.send({ topic, key, value, timestamp: record.timestamp, headers: record.headers.toArray(), partition });
  }

  private contextFor(nodeName: string): ProcessorContext {
    const task = this;
    const def = this.nodes.get(nodeName)?.def;
    const children = def && def.type !== 'sink' ? def.children : [];
    return {
      applicationId: this.options.applicationId,
      taskId: this.id,
      appConfigs: this.options.appConfigs,
      recordMetadata: () => (task.current ? { ...task.current } : undefined),
      currentStreamTimeMs: () => task.streamTime,
      currentSystemTimeMs: () => task.options.clock(),
      forward(record, childName) {
        if (childName !== undefined) {
          if (!children.includes(childName)) throw new StreamsError(`Unknown downstream node: ${childName} either does not exist or is not connected to this processor (${nodeName}).`);
          task.deliver(childName, record as Record<unknown, unknown>);
          return;
        }
        for (const c of children) task.deliver(c, record as Record<unknown, unknown>);
      },
      getStateStore<S extends StateStore>(name: string): S {
        const store = task.stores.get(name) ?? task.options.sharedStores?.get(name);
        if (!store) throw new StreamsError(`Processor ${nodeName} has no access to StateStore ${name}`);
        return store as S;
      },
      schedule(intervalMs, type, callback): Cancellable {
        if (!(intervalMs >= 1)) throw new StreamsError('The minimum supported scheduling interval is 1 millisecond.');
        const next = type === PunctuationType.STREAM_TIME ? 0 : task.options.clock() + intervalMs;
        const s: Schedule = { node: nodeName, type, interval: intervalMs, next, callback, cancelled: false };
        task.schedules.push(s);
        return { cancel: () => void (s.cancelled = true) };
      },
      commit() {
        task.commitRequested = true;
      },
    };
  }

  flushStores(): void {
    for (const s of this.stores.values()) s.flush();
  }

  close(): void {
    for (const node of this.nodes.values()) {
      try {
        node.processor?.close?.();
      } catch (e) {
        console.warn(`sluice-streams: processor ${node.def.name} failed to close: ${(e as Error).message}`);
      }
    }
    for (const s of this.stores.values()) s.close();
    this.stores.clear();
  }
}
