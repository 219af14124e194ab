/**
 * Metrics read off the broker's state when Prometheus scrapes, never maintained per request:
 * replica manager and controller gauges (from the hosted partitions and the cluster metadata, the
 * same for one broker and for a cluster in etcd), idle ratios, per-partition log metrics, group
 * coordinator gauges, and consumer lag with Burrow's verdicts under kafka_exporter's names.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { performance } from 'node:perf_hooks';
import type { BrokerContext } from '../broker-context.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import { OFFSETS_TOPIC } from '../groups/offsets-log.js';
import { BrokerMetrics } from './broker-metrics.js';
import { STATUS_CODE } from './burrow.js';
import type { ConsumerLag, GroupLag } from './consumer-lag.js';
import { register, type Sample } from './exposition.js';

export interface ObservedBroker {
  context: BrokerContext;
  metrics: BrokerMetrics;
  groups: GroupCoordinator;
  lag: ConsumerLag;
}

/** The registry of one broker: its counted metrics, its state at scrape time, and Node's process metrics. */
export function createRegistry(broker: ObservedBroker): Registry {
  const registry = new Registry();
  const { context, metrics, groups, lag } = broker;
  metrics.registerOn(registry);
  collectDefaultMetrics({ register: registry });

  // Idle ratios: one thread does both the network and request work, so both report 1 - event loop
  // utilisation over the time since the previous scrape.
  let elu = performance.eventLoopUtilization();
  let idle = 1;
  let lastIdleAt = 0;
  const idleNow = () => {
    const now = performance.now();
    if (now - lastIdleAt > 100) {
      const next = performance.eventLoopUtilization();
      idle = 1 - performance.eventLoopUtilization(next, elu).utilization;
      elu = next;
      lastIdleAt = now;
    }
    return [{ labels: {}, value: idle }];
  };
  register(registry, 'kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent', 'Share of time the request thread was idle since the previous scrape (1 - event loop utilisation).', 'gauge', idleNow);
  register(registry, 'kafka_network_socketserver_networkprocessoravgidlepercent', 'Share of time the network thread was idle since the previous scrape (the same thread as requests: 1 - event loop utilisation).', 'gauge', idleNow);
  register(registry, 'nodejs_eventloop_utilization', 'Event loop utilisation since the previous scrape (0..1).', 'gauge', () => [{ labels: {}, value: 1 - idleNow()[0].value }]);

  // Replica manager: the partitions hosted here.
  const hosted = () => [...context.replicaManager.hostedPartitions()];
  register(registry, 'kafka_server_replicamanager_partitioncount', 'Partitions with a replica on this broker.', 'gauge', () => [{ labels: {}, value: hosted().length }]);
  register(registry, 'kafka_server_replicamanager_leadercount', 'Partitions this broker leads.', 'gauge', () => [{ labels: {}, value: hosted().filter((p) => p.role === 'leader').length }]);
  register(registry, 'kafka_server_replicamanager_underreplicatedpartitions', 'Partitions led here whose ISR is smaller than their replica set.', 'gauge', () => [
    { labels: {}, value: hosted().filter((p) => p.role === 'leader' && p.isr.length < p.state.replicas.length).length },
  ]);
  register(registry, 'kafka_server_replicamanager_underminisrpartitioncount', 'Partitions led here whose ISR is below min.insync.replicas.', 'gauge', () => [
    { labels: {}, value: hosted().filter((p) => p.role === 'leader' && p.isr.length < p.config.minInsyncReplicas).length },
  ]);

  // Controller: what the active controller sees in the metadata (0 on the others, as in Kafka).
  const isController = () => context.metadata.controllerId() === context.nodeId;
  register(registry, 'kafka_controller_kafkacontroller_activecontrollercount', '1 on the broker that is the active controller, else 0.', 'gauge', () => [{ labels: {}, value: isController() ? 1 : 0 }]);
  register(registry, 'kafka_controller_kafkacontroller_offlinepartitionscount', 'Partitions without a live leader (reported by the active controller).', 'gauge', () => {
    if (!isController()) return [{ labels: {}, value: 0 }];
    const live = new Set(context.metadata.brokers().map((b) => b.nodeId));
    let offline = 0;
    for (const t of context.metadata.topics()) for (const p of t.partitions) if (p.leader < 0 || !live.has(p.leader)) offline++;
    return [{ labels: {}, value: offline }];
  });
  register(registry, 'kafka_controller_kafkacontroller_globaltopiccount', 'Topics in the cluster (reported by the active controller).', 'gauge', () => [{ labels: {}, value: isController() ? context.metadata.topics().length : 0 }]);
  register(registry, 'kafka_controller_kafkacontroller_globalpartitioncount', 'Partitions in the cluster (reported by the active controller).', 'gauge', () => [
    { labels: {}, value: isController() ? context.metadata.topics().reduce((n, t) => n + t.partitions.length, 0) : 0 },
  ]);
  register(registry, 'kafka_brokers', 'Brokers registered in the cluster (kafka_exporter).', 'gauge', () => [{ labels: {}, value: context.metadata.brokers().length }]);

  // Logs: per hosted partition.
  const logGauge = (name: string, help: string, value: (p: ReturnType<typeof hosted>[number]) => number) =>
    register(registry, name, help, 'gauge', () => hosted().filter((p) => !p.log.isClosed).map((p) => ({ labels: { topic: p.topic, partition: p.index }, value: value(p) })));
  logGauge('kafka_log_log_size', 'Bytes of the partition log on disk (Log Size).', (p) => p.sizeInBytes);
  logGauge('kafka_log_log_logstartoffset', 'First offset of the partition log (Log LogStartOffset).', (p) => Number(p.logStartOffset));
  logGauge('kafka_log_log_logendoffset', 'Log end offset (Log LogEndOffset).', (p) => Number(p.logEndOffset));
  logGauge('kafka_log_log_numlogsegments', 'Segments of the partition log (Log NumLogSegments).', (p) => p.log.segments.length);

  // kafka_exporter's topic metrics, for the partitions this broker leads (summed over brokers: the cluster).
  const led = () => hosted().filter((p) => p.role === 'leader' && !p.log.isClosed && p.topic !== OFFSETS_TOPIC);
  register(registry, 'kafka_topic_partition_current_offset', 'High watermark of each partition led here (kafka_exporter).', 'gauge', () => led().map((p) => ({ labels: { topic: p.topic, partition: p.index }, value: Number(p.highWatermark) })));
  register(registry, 'kafka_topic_partition_oldest_offset', 'Log start offset of each partition led here (kafka_exporter).', 'gauge', () => led().map((p) => ({ labels: { topic: p.topic, partition: p.index }, value: Number(p.logStartOffset) })));
  register(registry, 'kafka_topic_partition_in_sync_replica', 'ISR size of each partition led here (kafka_exporter).', 'gauge', () => led().map((p) => ({ labels: { topic: p.topic, partition: p.index }, value: p.isr.length })));
  register(registry, 'kafka_topic_partition_replicas', 'Replica count of each partition led here (kafka_exporter).', 'gauge', () => led().map((p) => ({ labels: { topic: p.topic, partition: p.index }, value: p.state.replicas.length })));
  register(registry, 'kafka_topic_partition_under_replicated_partition', '1 when the partition led here is under-replicated (kafka_exporter).', 'gauge', () =>
    led().map((p) => ({ labels: { topic: p.topic, partition: p.index }, value: p.isr.length < p.state.replicas.length ? 1 : 0 })),
  );
  register(registry, 'kafka_topic_partitions', 'Partitions of each topic (kafka_exporter; reported by the active controller).', 'gauge', () =>
    isController() ? context.metadata.topics().filter((t) => !t.internal).map((t) => ({ labels: { topic: t.name }, value: t.partitions.length })) : [],
  );

  // Group coordinator: the groups this broker coordinates.
  const states = ['PreparingRebalance', 'CompletingRebalance', 'Stable', 'Empty', 'Dead'] as const;
  register(registry, 'kafka_coordinator_group_groupmetadatamanager_numgroups', 'Groups coordinated here.', 'gauge', () => [{ labels: {}, value: groups.groups.size }]);
  for (const state of states) {
    register(registry, `kafka_coordinator_group_groupmetadatamanager_numgroups${state.toLowerCase()}`, `Groups coordinated here in state ${state}.`, 'gauge', () => {
      let n = 0;
      for (const g of groups.groups.values()) if (g.state === state) n++;
      return [{ labels: {}, value: n }];
    });
  }
  register(registry, 'kafka_coordinator_group_groupmetadatamanager_numoffsets', 'Committed offsets held by the groups coordinated here.', 'gauge', () => {
    let n = 0;
    for (const g of groups.groups.values()) {
      const shard = groups.activeShard(g.groupId);
      if (shard) for (const _ of shard.offsetStore.committed(g.groupId)) n++;
    }
    return [{ labels: {}, value: n }];
  });

  // Consumer lag: one evaluation shared by every lag metric of a scrape.
  let evaluation: { at: number; result: Promise<GroupLag[]> } | null = null;
  const evaluated = (): Promise<GroupLag[]> => {
    const now = performance.now();
    if (evaluation === null || now - evaluation.at > 250) evaluation = { at: now, result: lag.evaluate() };
    return evaluation.result;
  };
  const perPartition = (name: string, help: string, value: (p: GroupLag['partitions'][number]) => number | null) =>
    register(registry, name, help, 'gauge', async () => {
      const out: Sample[] = [];
      for (const g of await evaluated()) {
        for (const p of g.partitions) {
          const v = value(p);
          if (v !== null) out.push({ labels: { consumergroup: g.group, topic: p.topic, partition: p.partition }, value: v });
        }
      }
      return out;
    });
  const perTopic = (name: string, help: string, value: (p: GroupLag['partitions'][number]) => number | null) =>
    register(registry, name, help, 'gauge', async () => {
      const out: Sample[] = [];
      for (const g of await evaluated()) {
        const sums = new Map<string, number>();
        for (const p of g.partitions) {
          const v = value(p);
          if (v !== null) sums.set(p.topic, (sums.get(p.topic) ?? 0) + v);
        }
        for (const [topic, v] of sums) out.push({ labels: { consumergroup: g.group, topic }, value: v });
      }
      return out;
    });
  perPartition('kafka_consumergroup_current_offset', 'Committed offset of the group on the partition (kafka_exporter).', (p) => p.currentOffset);
  perTopic('kafka_consumergroup_current_offset_sum', 'Committed offsets of the group summed over the topic (kafka_exporter).', (p) => p.currentOffset);
  perPartition('kafka_consumergroup_lag', 'High watermark minus committed offset (kafka_exporter).', (p) => p.lag);
  perTopic('kafka_consumergroup_lag_sum', 'Lag of the group summed over the topic (kafka_exporter).', (p) => p.lag);
  perPartition('kafka_consumergroup_lag_seconds', 'Age of the oldest record the group has not consumed (its batch timestamp), 0 without lag.', (p) => p.lagSeconds);
  perPartition('burrow_kafka_consumer_partition_status', "Burrow's verdict on the partition: 1 OK, 2 WARN, 4 STOP, 5 STALL, 6 REWIND.", (p) => STATUS_CODE[p.status]);
  register(registry, 'kafka_consumergroup_members', 'Members of the group (kafka_exporter).', 'gauge', async () => (await evaluated()).map((g) => ({ labels: { consumergroup: g.group }, value: g.members })));
  register(registry, 'burrow_kafka_consumer_status', "Burrow's verdict on the group: 1 OK, 2 WARN, 3 ERR.", 'gauge', async () => (await evaluated()).map((g) => ({ labels: { consumergroup: g.group }, value: STATUS_CODE[g.status] })));
  register(registry, 'burrow_kafka_consumer_total_lag', 'Lag of the group over all its partitions (Burrow totallag).', 'gauge', async () => (await evaluated()).map((g) => ({ labels: { consumergroup: g.group }, value: g.totalLag })));

  return registry;
}
