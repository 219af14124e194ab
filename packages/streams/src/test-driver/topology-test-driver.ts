/**
 * Runs a topology without a broker, as Kafka Streams' TopologyTestDriver does: input topics are
 * piped record by record, everything runs in one task (partition 0 of every topic), records
 * written to topics the topology reads (repartition topics) are fed back at once, and output
 * topics collect the rest. Wall-clock time only moves when the test advances it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Headers, type Header } from '../processor/record.js';
import type { Topology } from '../processor/topology.js';
import { StreamsConfig, type StreamsProperties } from '../config.js';
import type { Deserializer, Serializer } from '../serdes.js';
import { StreamTask, type RecordCollector } from '../runtime/task.js';
import type { KeyValueStore, KeyValue } from '../state/key-value-store.js';
import type { StateStore } from '../state/store.js';
import type { SessionStore, WindowStore } from '../state/window-store.js';
import { unwrapTimestamped, type ValueAndTimestamp } from '../state/timestamped.js';

export interface TestRecord<K, V> {
  key: K | null;
  value: V | null;
  timestamp: number;
  headers: Header[];
}

interface RawRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Header[];
}

export class TopologyTestDriver {
  private readonly task: StreamTask;
  private readonly globalTask: StreamTask | null;
  private readonly outputs = new Map<string, RawRecord[]>();
  private readonly produced = new Set<string>();
  private readonly offsets = new Map<string, number>();
  private readonly config: StreamsConfig;
  private readonly stateDirectory: string;
  private wallClock: number;
  private readonly pending: RawRecord[] = [];
  private draining = false;
  private closed = false;

  constructor(
    private readonly topology: Topology,
    properties: StreamsProperties = {},
    initialWallClockTimeMs = Date.now(),
  ) {
    this.config = new StreamsConfig(properties, { defaultApplicationId: 'dummy-topology-test-driver-app-id' });
    topology.serdeDefaults.key = this.config.defaultKeySerde;
    topology.serdeDefaults.value = this.config.defaultValueSerde;
    topology.dslStoreType = this.config.dslStoreType;
    this.wallClock = initialWallClockTimeMs;
    this.stateDirectory = mkdtempSync(join(properties['state.dir'] ?? tmpdir(), 'sluice-ttd-'));
    const collector: RecordCollector = {
      send: (r) => {
        const raw = { topic: r.topic, key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers };
        this.produced.add(r.topic);
        if (this.task.sourceTopics().includes(r.topic)) this.pending.push(raw);
        else {
          if (!this.outputs.has(r.topic)) this.outputs.set(r.topic, []);
          (this.outputs.get(r.topic) as RawRecord[]).push(raw);
        }
      },
      partitionCount: () => 1,
    };
    const common = {
      applicationId: this.config.applicationId,
      topology,
      stateDirectory: this.stateDirectory,
      collector,
      topicName: (name: string) => (topology.internalTopics.has(name) ? `${this.config.applicationId}-${name}` : name),
      changelogLogger: () => null,
      deserializationHandler: this.config.deserializationHandler,
      clock: () => this.wallClock,
      appConfigs: properties,
    };
    const globalNames = new Set(topology.globalStores.flatMap((g) => [g.sourceName, g.processorName]));
    const globalNodes = topology.allNodes().filter((n) => globalNames.has(n.name));
    this.globalTask = globalNodes.length ? new StreamTask({ ...common, id: { subtopology: -1, partition: 0 }, nodes: globalNodes }) : null;
    this.globalTask?.openStores();
    this.globalTask?.initializeProcessors();
    this.task = new StreamTask({
      ...common,
      id: { subtopology: 0, partition: 0 },
      nodes: topology.allNodes().filter((n) => !globalNames.has(n.name)),
      sharedStores: this.globalTask?.stores,
    });
    this.task.openStores();
    this.task.initializeProcessors();
  }

  /** Feeds one record to the topology (and any records it writes back to its own inputs). */
  pipeRaw(record: RawRecord): void {
    if (this.closed) throw new Error('the TopologyTestDriver is closed');
    this.pending.push(record);
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.length) {
        const r = this.pending.shift() as RawRecord;
        const offset = this.offsets.get(r.topic) ?? 0;
        this.offsets.set(r.topic, offset + 1);
        const input = { ...r, partition: 0, offset };
        if (this.globalTask?.sourceTopics().includes(r.topic)) this.globalTask.process(input);
        else if (this.task.sourceTopics().includes(r.topic)) this.task.process(input);
        else throw new Error(`Unknown topic: ${r.topic}`);
      }
    } finally {
      this.draining = false;
      this.pending.length = 0;
    }
  }

  createInputTopic<K, V>(topic: string, keySerializer: Serializer<K>, valueSerializer: Serializer<V>, startTimestampMs = this.wallClock, autoAdvanceMs = 0): TestInputTopic<K, V> {
    return new TestInputTopic(this, topic, keySerializer, valueSerializer, startTimestampMs, autoAdvanceMs);
  }

  createOutputTopic<K, V>(topic: string, keyDeserializer: Deserializer<K>, valueDeserializer: Deserializer<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(this, topic, keyDeserializer, valueDeserializer);
  }

  /** Takes the oldest unread output record of a topic. */
  readOutput(topic: string): RawRecord | undefined {
    return this.outputs.get(topic)?.shift();
  }

  outputQueueSize(topic: string): number {
    return this.outputs.get(topic)?.length ?? 0;
  }

  producedTopicNames(): Set<string> {
    return new Set(this.produced);
  }

  advanceWallClockTime(ms: number): void {
    if (ms < 0) throw new Error('advanceWallClockTime needs a non-negative duration');
    this.wallClock += ms;
    this.task.punctuateWallClock(this.wallClock);
    this.globalTask?.punctuateWallClock(this.wallClock);
  }

  private store(name: string): StateStore | undefined {
    return this.task.stores.get(name) ?? this.globalTask?.stores.get(name);
  }

  getAllStateStores(): Map<string, StateStore> {
    return new Map([...(this.globalTask?.stores ?? []), ...this.task.stores]);
  }

  getStateStore<S extends StateStore>(name: string): S | undefined {
    return this.store(name) as S | undefined;
  }

  /** A key-value store with plain values (timestamped DSL stores are unwrapped). */
  getKeyValueStore<K, V>(name: string): KeyValueStore<K, V> | undefined {
    const s = this.store(name);
    if (!s || s.kind !== 'keyValue') return undefined;
    return unwrapTimestamped(s) as unknown as KeyValueStore<K, V>;
  }

  getTimestampedKeyValueStore<K, V>(name: string): KeyValueStore<K, ValueAndTimestamp<V>> | undefined {
    const s = this.store(name);
    return s && s.kind === 'keyValue' ? (s as unknown as KeyValueStore<K, ValueAndTimestamp<V>>) : undefined;
  }

  getWindowStore<K, V>(name: string): WindowStore<K, V> | undefined {
    const s = this.store(name);
    return s && s.kind === 'window' ? (unwrapTimestamped(s) as unknown as WindowStore<K, V>) : undefined;
  }

  getSessionStore<K, V>(name: string): SessionStore<K, V> | undefined {
    const s = this.store(name);
    return s && s.kind === 'session' ? (s as unknown as SessionStore<K, V>) : undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.task.close();
    this.globalTask?.close();
    rmSync(this.stateDirectory, { recursive: true, force: true });
  }
}

export class TestInputTopic<K, V> {
  private nextTimestamp: number;

  constructor(
    private readonly driver: TopologyTestDriver,
    readonly name: string,
    private readonly keySerializer: Serializer<K>,
    private readonly valueSerializer: Serializer<V>,
    startTimestampMs: number,
    private readonly autoAdvanceMs: number,
  ) {
    this.nextTimestamp = startTimestampMs;
  }

  /** Moves the time of the records piped without a timestamp. */
  advanceTime(ms: number): void {
    if (ms < 0) throw new Error('advanceTime needs a non-negative duration');
    this.nextTimestamp += ms;
  }

  pipeInput(key: K | null, value: V | null, timestamp?: number, headers: Header[] = []): void {
    const ts = timestamp ?? this.nextTimestamp;
    if (timestamp === undefined) this.nextTimestamp += this.autoAdvanceMs;
    this.driver.pipeRaw({ topic: this.name, key: this.keySerializer.serialize(this.name, key), value: this.valueSerializer.serialize(this.name, value), timestamp: ts, headers });
  }

  /** A record with a null key. */
  pipeValue(value: V | null, timestamp?: number): void {
    this.pipeInput(null, value, timestamp);
  }

  pipeValueList(values: Array<V | null>): void {
    for (const v of values) this.pipeValue(v);
  }

  pipeKeyValueList(records: Array<KeyValue<K, V>>): void {
    for (const r of records) this.pipeInput(r.key, r.value);
  }

  pipeRecordList(records: Array<{ key?: K | null; value: V | null; timestamp?: number; headers?: Header[] }>): void {
    for (const r of records) this.pipeInput(r.key ?? null, r.value, r.timestamp, r.headers);
  }
}

export class TestOutputTopic<K, V> {
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly name: string,
    private readonly keyDeserializer: Deserializer<K>,
    private readonly valueDeserializer: Deserializer<V>,
  ) {}

  readRecord(): TestRecord<K, V> {
    const r = this.driver.readOutput(this.name);
    if (!r) throw new Error(`Empty topic: ${this.name}`);
    return { key: this.keyDeserializer.deserialize(this.name, r.key), value: this.valueDeserializer.deserialize(this.name, r.value), timestamp: r.timestamp, headers: new Headers(r.headers).toArray() };
  }

  readValue(): V | null {
    return this.readRecord().value;
  }

  readKeyValue(): { key: K | null; value: V | null } {
    const r = this.readRecord();
    return { key: r.key, value: r.value };
  }

  readRecordsToList(): Array<TestRecord<K, V>> {
    const out: Array<TestRecord<K, V>> = [];
    while (!this.isEmpty()) out.push(this.readRecord());
    return out;
  }

  readValuesToList(): Array<V | null> {
    return this.readRecordsToList().map((r) => r.value);
  }

  readKeyValuesToList(): Array<{ key: K | null; value: V | null }> {
    return this.readRecordsToList().map((r) => ({ key: r.key, value: r.value }));
  }

  /** The latest value per key (a table view of the topic); null values delete. */
  readKeyValuesToMap(): Map<K | null, V> {
    const m = new Map<K | null, V>();
    for (const r of this.readRecordsToList()) {
      if (r.value === null) m.delete(r.key);
      else m.set(r.key, r.value);
    }
    return m;
  }

  getQueueSize(): number {
    return this.driver.outputQueueSize(this.name);
  }

  isEmpty(): boolean {
    return this.getQueueSize() === 0;
  }
}
