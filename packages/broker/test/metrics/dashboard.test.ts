/**
 * deploy/grafana/sluice-overview.json: plausible Grafana dashboard JSON (panels with grid
 * positions and PromQL targets), every query accepted by Prometheus's parser (promtool check rules
 * on the queries as recording rules), and every metric a query names present on a live broker's
 * /metrics page while it serves traffic and a consumer group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { Producer } from '@sluice/client';
import { promtoolPath, requirePeers } from '@sluice/test-peers';
import { RawClient, startTestBroker, tempDir } from '../helpers.js';
import { metricNames, scrape } from './scrape.js';

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'sluice-overview.json');

interface Panel {
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string }[];
  panels?: Panel[];
}

function queries(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { title: string; uid: string; schemaVersion: number; panels: Panel[] };
  assert.equal(typeof dashboard.title, 'string');
  assert.equal(typeof dashboard.uid, 'string');
  assert.ok(dashboard.schemaVersion >= 30);
  const out: { panel: string; expr: string }[] = [];
  const ids = new Set<string>();
  for (const p of dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])) {
    assert.ok(p.gridPos.w > 0 && p.gridPos.w <= 24 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: grid position`);
    if (p.type === 'row') continue;
    assert.ok(p.targets && p.targets.length > 0, `${p.title} has queries`);
    for (const t of p.targets) {
      assert.ok(!ids.has(`${p.title}/${t.refId}`));
      ids.add(`${p.title}/${t.refId}`);
      out.push({ panel: p.title, expr: t.expr });
    }
  }
  assert.ok(out.length >= 20, `${out.length} queries`);
  return out;
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/** The metric names a PromQL expression reads: identifiers outside label matchers, groupings and ranges, not called as functions. */
export function metricsIn(expr: string): string[] {
  const stripped = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/"[^"]*"/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(') || NOT_METRICS.has(m[0]) || /^\d/.test(m[0])) continue;
    names.push(m[0]);
  }
  return names;
}

test('every dashboard query parses (promtool) and names a metric a live broker exports', { timeout: 60_000 }, async (t) => {
  if (!requirePeers(t, 'prometheus')) return;
  const all = queries();
  const rules = { groups: [{ name: 'dashboard', rules: all.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr })) }] };
  const rulesFile = join(tempDir('sluice-dashboard-'), 'rules.json');
  writeFileSync(rulesFile, JSON.stringify(rules));
  const checked = spawnSync(promtoolPath(), ['check', 'rules', rulesFile], { encoding: 'utf8' });
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);

  const tb = await startTestBroker({ 'num.partitions': 1, 'metrics.port': 0 });
  t.after(() => tb.dispose());
  const client = await RawClient.connect(tb.broker.port);
  t.after(() => client.socket.destroy());
  const producer = new Producer({ brokers: [tb.bootstrap], lingerMs: 0, acks: 1 });
  await producer.connect();
  await producer.send({ topic: 'dash', value: 'x' }).catch(async () => {
    await client.send(ApiKey.CreateTopics, 5, { topics: [{ name: 'dash', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    await producer.send({ topic: 'dash', value: 'x' });
  });
  await producer.close();
  const commit = await client.send(ApiKey.OffsetCommit, 8, {
    groupId: 'dash-group',
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [{ name: 'dash', partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null }] }],
  });
  assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  const exported = metricNames(await scrape(tb.broker.metricsEndpoint!.port));
  const missing = all.flatMap((q) => metricsIn(q.expr).filter((n) => !exported.has(n)).map((n) => `${q.panel}: ${n}`));
  assert.deepEqual(missing, []);
});

test('metricsIn finds metric names, not functions, labels or keywords', () => {
  assert.deepEqual(metricsIn('histogram_quantile(0.99, sum by (le, request) (rate(kafka_network_requestmetrics_totaltimems_bucket{request="Produce"}[5m])))'), ['kafka_network_requestmetrics_totaltimems_bucket']);
  assert.deepEqual(metricsIn('count by (consumergroup) (burrow_kafka_consumer_partition_status > 1)'), ['burrow_kafka_consumer_partition_status']);
  assert.deepEqual(metricsIn('a_total / on (x) b_total'), ['a_total', 'b_total']);
});
