/**
 * A processor topology: sources read topics, processors transform, sinks write topics. Nodes
 * connected through parents form sub-topologies; each sub-topology runs as one task per input
 * partition. The DSL (`StreamsBuilder`) compiles to exactly this.
 */
import type { Deserializer, Serde, Serializer } from '../serdes.js';
import type { StoreBuilder } from '../state/stores.js';
import type { ProcessorSupplier } from './processor.js';

/** Chooses a record's output topic (`to` with a topic-name extractor). */
export type TopicNameExtractor<K, V> = (key: K, value: V, context: { topic?: string; partition?: number; offset?: number }) => string;

/** Chooses the partition; undefined leaves it to the default (murmur2 of the key bytes). */
export type StreamPartitioner<K, V> = (topic: string, key: K, value: V, numPartitions: number) => number | undefined;

/** Event time of a consumed record; the default takes the record's own timestamp. */
export type TimestampExtractor = (record: { topic: string; key: unknown; value: unknown; timestamp: number }, partitionTime: number) => number;

export interface SourceNode {
  type: 'source';
  name: string;
  topics: string[];
  keyDeserializer?: Deserializer<unknown>;
  valueDeserializer?: Deserializer<unknown>;
  timestampExtractor?: TimestampExtractor;
  offsetReset?: 'earliest' | 'latest';
  children: string[];
}

export interface ProcessorNode {
  type: 'processor';
  name: string;
  supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>;
  parents: string[];
  children: string[];
  stores: string[];
}

export interface SinkNode {
  type: 'sink';
  name: string;
  topic: string | TopicNameExtractor<unknown, unknown>;
  keySerializer?: Serializer<unknown>;
  valueSerializer?: Serializer<unknown>;
  partitioner?: StreamPartitioner<unknown, unknown>;
  parents: string[];
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

export interface GlobalStoreDefinition {
  storeName: string;
  sourceName: string;
  processorName: string;
  topic: string;
}

export interface Subtopology {
  id: number;
  nodes: TopologyNode[];
  sourceTopics: string[];
  /** Topics this sub-topology writes that another reads (repartition topics). */
  sinkTopics: string[];
  stores: string[];
}

export class TopologyError extends Error {
  override name = 'TopologyException';
}

export interface InternalTopicSpec {
  /** Fixed partition count; otherwise the maximum of the upstream source topics'. */
  partitions?: number;
}

export class Topology {
  private readonly nodes = new Map<string, TopologyNode>();
  readonly storeBuilders = new Map<string, StoreBuilder>();
  readonly globalStores: GlobalStoreDefinition[] = [];
  /** Repartition topics, by their name without the `<application.id>-` prefix. */
  readonly internalTopics = new Map<string, InternalTopicSpec>();
  /** Groups of source topics whose partitions must match (joins): checked when the runtime starts. */
  readonly copartitionGroups: string[][] = [];
  /** `default.key.serde` / `default.value.serde`, set by the runtime or test driver from its config. */
  readonly serdeDefaults: { key?: Serde<unknown>; value?: Serde<unknown> } = {};
  /** `default.dsl.store`: the engine of DSL stores without an explicit store type. */
  dslStoreType: 'persistent' | 'in-memory' = 'persistent';

  /** A serde that resolves to the configured default when used (DSL operators without explicit serdes). */
  defaultSerde<T>(which: 'key' | 'value'): Serde<T> {
    const resolve = (): Serde<T> => {
      const s = this.serdeDefaults[which];
      if (!s) throw new TopologyError(`no ${which} serde was given and default.${which}.serde is not configured`);
      return s as Serde<T>;
    };
    return { serialize: (t, d) => resolve().serialize(t, d), deserialize: (t, d) => resolve().deserialize(t, d) };
  }

  private checkNewName(name: string): void {
    if (!name) throw new TopologyError('node names must not be empty');
    if (this.nodes.has(name)) throw new TopologyError(`Processor ${name} is already added.`);
  }

  private checkParents(child: string, parents: string[]): void {
    if (parents.length === 0) throw new TopologyError(`${child} needs at least one parent`);
    for (const p of parents) {
      const node = this.nodes.get(p);
      if (!node) throw new TopologyError(`Parent processor ${p} is not added yet for ${child}.`);
      if (node.type === 'sink') throw new TopologyError(`Sink ${p} cannot be used a parent.`);
    }
  }

  addSource(
    name: string,
    topics: string[],
    options: { keyDeserializer?: Deserializer<unknown>; valueDeserializer?: Deserializer<unknown>; timestampExtractor?: TimestampExtractor; offsetReset?: 'earliest' | 'latest' } = {},
  ): this {
    this.checkNewName(name);
    if (topics.length === 0) throw new TopologyError(`source ${name} needs at least one topic`);
    for (const n of this.nodes.values()) {
      if (n.type === 'source') for (const t of topics) if (n.topics.includes(t)) throw new TopologyError(`Topic ${t} has already been registered by another source.`);
    }
    this.nodes.set(name, { type: 'source', name, topics: [...topics], children: [], ...options });
    return this;
  }

  addProcessor<KIn, VIn, KOut, VOut>(name: string, supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>, ...parentNames: string[]): this {
    this.checkNewName(name);
    this.checkParents(name, parentNames);
    this.nodes.set(name, { type: 'processor', name, supplier: supplier as unknown as ProcessorSupplier<unknown, unknown, unknown, unknown>, parents: parentNames, children: [], stores: [] });
    for (const p of parentNames) this.childrenOf(p).push(name);
    return this;
  }

  addSink<K, V>(
    name: string,
    topic: string | TopicNameExtractor<K, V>,
    options: { keySerializer?: Serializer<K>; valueSerializer?: Serializer<V>; partitioner?: StreamPartitioner<K, V> },
    ...parentNames: string[]
  ): this {
    this.checkNewName(name);
    this.checkParents(name, parentNames);
    this.nodes.set(name, {
      type: 'sink',
      name,
      topic: topic as string | TopicNameExtractor<unknown, unknown>,
      keySerializer: options.keySerializer as Serializer<unknown> | undefined,
      valueSerializer: options.valueSerializer as Serializer<unknown> | undefined,
      partitioner: options.partitioner as StreamPartitioner<unknown, unknown> | undefined,
      parents: parentNames,
    });
    for (const p of parentNames) this.childrenOf(p).push(name);
    return this;
  }

  addStateStore(builder: StoreBuilder, ...processorNames: string[]): this {
    const existing = this.storeBuilders.get(builder.name);
    if (existing && existing !== builder) throw new TopologyError(`A different StateStore has already been added with the name ${builder.name}`);
    this.storeBuilders.set(builder.name, builder);
    this.connectProcessorAndStateStores(processorNames, builder.name);
    return this;
  }

  connectProcessorAndStateStores(processorNames: string[], ...storeNames: string[]): this {
    for (const p of processorNames) {
      const node = this.nodes.get(p);
      if (!node || node.type !== 'processor') throw new TopologyError(`Processor ${p} is not added yet.`);
      for (const s of storeNames) {
        if (!this.storeBuilders.has(s)) throw new TopologyError(`StateStore ${s} is not added yet.`);
        if (!node.stores.includes(s)) node.stores.push(s);
      }
    }
    return this;
  }

  /**
   * A store holding a whole topic on every instance (not partitioned, no changelog: the topic is
   * its changelog). The processor keeps the store up to date from the topic's records.
   */
  addGlobalStore<K, V>(
    builder: StoreBuilder,
    sourceName: string,
    options: { keyDeserializer?: Deserializer<K>; valueDeserializer?: Deserializer<V> },
    topic: string,
    processorName: string,
    supplier: ProcessorSupplier<K, V, never, never>,
  ): this {
    builder.withLoggingDisabled();
    this.addSource(sourceName, [topic], options as { keyDeserializer?: Deserializer<unknown>; valueDeserializer?: Deserializer<unknown> });
    this.addProcessor(processorName, supplier, sourceName);
    this.addStateStore(builder, processorName);
    this.globalStores.push({ storeName: builder.name, sourceName, processorName, topic });
    return this;
  }

  /** Marks a topic as internal: the runtime creates it as `<application.id>-<name>`. */
  addInternalTopic(name: string, spec: InternalTopicSpec = {}): this {
    this.internalTopics.set(name, spec);
    return this;
  }

  private childrenOf(name: string): string[] {
    const node = this.nodes.get(name);
    if (!node || node.type === 'sink') throw new TopologyError(`${name} cannot have children`);
    return node.children;
  }

  node(name: string): TopologyNode | undefined {
    return this.nodes.get(name);
  }

  allNodes(): TopologyNode[] {
    return [...this.nodes.values()];
  }

  isGlobalNode(name: string): boolean {
    return this.globalStores.some((g) => g.sourceName === name || g.processorName === name);
  }

  /** Connected components of the non-global nodes, numbered in order of their first node. */
  subtopologies(): Subtopology[] {
    const order = [...this.nodes.keys()].filter((n) => !this.isGlobalNode(n));
    const parent = new Map(order.map((n) => [n, n]));
    const find = (n: string): string => {
      let r = n;
      while (parent.get(r) !== r) r = parent.get(r) as string;
      parent.set(n, r);
      return r;
    };
    for (const name of order) {
      const node = this.nodes.get(name) as TopologyNode;
      if (node.type !== 'source') for (const p of node.parents) parent.set(find(name), find(p));
    }
    // Processors sharing a store run in the same task.
    const storeOwner = new Map<string, string>();
    for (const name of order) {
      const node = this.nodes.get(name) as TopologyNode;
      if (node.type !== 'processor') continue;
      for (const s of node.stores) {
        const o = storeOwner.get(s);
        if (o) parent.set(find(name), find(o));
        else storeOwner.set(s, name);
      }
    }
    const groups = new Map<string, TopologyNode[]>();
    for (const name of order) {
      const root = find(name);
      if (!groups.has(root)) groups.set(root, []);
      (groups.get(root) as TopologyNode[]).push(this.nodes.get(name) as TopologyNode);
    }
    const readBy = new Set<string>();
    for (const n of this.nodes.values()) if (n.type === 'source') n.topics.forEach((t) => readBy.add(t));
    return [...groups.values()].map((nodes, id) => ({
      id,
      nodes,
      sourceTopics: nodes.flatMap((n) => (n.type === 'source' ? n.topics : [])),
      sinkTopics: nodes.flatMap((n) => (n.type === 'sink' && typeof n.topic === 'string' && readBy.has(n.topic) ? [n.topic] : [])),
      stores: [...new Set(nodes.flatMap((n) => (n.type === 'processor' ? n.stores : [])))],
    }));
  }

  /** The same text shape as Java's `TopologyDescription.toString()`. */
  describe(): TopologyDescription {
    return new TopologyDescription(this);
  }
}

export class TopologyDescription {
  constructor(private readonly topology: Topology) {}

  subtopologies(): Subtopology[] {
    return this.topology.subtopologies();
  }

  toString(): string {
    const lines: string[] = ['Topologies:'];
    const subs = this.topology.subtopologies();
    const nodeLines = (nodes: TopologyNode[]): void => {
      for (const n of nodes) {
        if (n.type === 'source') lines.push(`    Source: ${n.name} (topics: [${n.topics.join(', ')}])`);
        else if (n.type === 'processor') lines.push(`    Processor: ${n.name} (stores: [${n.stores.join(', ')}])`);
        else lines.push(`    Sink: ${n.name} (${typeof n.topic === 'string' ? `topic: ${n.topic}` : `extractor class: ${n.topic.name || 'TopicNameExtractor'}`})`);
        if (n.type !== 'sink') lines.push(`      --> ${n.children.length ? n.children.join(', ') : 'none'}`);
        if (n.type !== 'source') lines.push(`      <-- ${n.parents.join(', ')}`);
      }
    };
    for (const s of subs) {
      lines.push(`   Sub-topology: ${s.id}`);
      nodeLines(s.nodes);
      lines.push('');
    }
    this.topology.globalStores.forEach((g, i) => {
      lines.push(`   Sub-topology: ${subs.length + i} for global store (will not generate tasks)`);
      nodeLines([this.topology.node(g.sourceName) as TopologyNode, this.topology.node(g.processorName) as TopologyNode]);
      lines.push('');
    });
    return lines.join('\n');
  }
}
