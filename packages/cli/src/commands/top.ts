/**
 * `sluice top`: a live view of a cluster for when no Prometheus is around — brokers (Kafka
 * protocol), top topics by bytes in/out and request latency (from the brokers' metrics endpoints,
 * as the difference of two scrapes), and the laggiest groups (committed offsets against log ends
 * through the Kafka protocol, with Burrow's verdict from the endpoints when given). Refreshes every
 * second; `--once` takes one snapshot (two samples an interval apart), `--json` prints it as JSON.
 * Without --metrics-url, topic rates are the growth of the logs on disk (DescribeLogDirs) and
 * there is no latency.
 */
import { OffsetSpec, type Admin } from '@sluice/client';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { renderTable, toJson, type Cell } from '../tool/table.js';

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'metrics-url', kind: 'list', arg: '<http://host:port>', help: "Brokers' metrics endpoints (metrics.port): topic bytes in/out, request latency, Burrow status." },
  { name: 'interval', kind: 'value', arg: '<ms>', help: 'Time between samples.', defaultText: '1000' },
  { name: 'top', kind: 'value', arg: '<n>', help: 'Rows per section.', defaultText: '10' },
  { name: 'once', kind: 'flag', help: 'Print one snapshot and exit.' },
  jsonOption,
  helpOption,
];

export const topTool: Tool = {
  name: 'top',
  summary: 'live view: brokers, top topics by bytes in/out, request latency, laggiest groups',
  usage: 'sluice top --bootstrap-server <host:port> [--metrics-url http://host:port ...] [--once] [--json]',
  description: 'Refreshes every --interval until Ctrl-C. Topic rates and latency come from the brokers’ /metrics (--metrics-url), else topic rates are log growth on disk.',
  options,
  run: (args, io) => withAdmin(args, io, (admin) => runTop(admin, args, io)),
};

type Page = Map<string, number>;

/** Samples of a Prometheus text page, keyed `name{labels as written}`. */
function parsePage(text: string): Page {
  const out: Page = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

function label(key: string, name: string): string | null {
  const m = new RegExp(`${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(key);
  return m ? m[1] : null;
}

/** Sums, per value of `by`, the samples of `metric` (over every endpoint). */
function sumBy(pages: Page[], metric: string, by: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const page of pages) {
    for (const [key, v] of page) {
      if (!key.startsWith(`${metric}{`) && key !== metric) continue;
      const l = label(key, by);
      if (l !== null) out.set(l, (out.get(l) ?? 0) + v);
    }
  }
  return out;
}

interface Sample {
  at: number;
  pages: Page[];
  logBytes: Map<string, number>;
}

export interface TopSnapshot {
  brokers: { id: number; address: string; controller: boolean }[];
  topics: { topic: string; bytesInPerSec: number; bytesOutPerSec: number | null; source: 'metrics' | 'log-growth' }[];
  requests: { request: string; perSec: number; meanMs: number }[] | null;
  groups: { group: string; lag: number; status: string | null }[];
}

async function sample(admin: Admin, urls: string[]): Promise<Sample> {
  const pages = await Promise.all(urls.map(async (u) => parsePage(await (await fetch(`${u.replace(/\/+$/, '')}/metrics`, { signal: AbortSignal.timeout(5000) })).text())));
  const logBytes = new Map<string, number>();
  if (urls.length === 0) {
    for (const d of await admin.describeLogDirs()) for (const p of d.partitions) logBytes.set(p.topic, (logBytes.get(p.topic) ?? 0) + Number(p.size));
  }
  return { at: performance.now(), pages, logBytes };
}

async function laggiest(admin: Admin, urls: string[], n: number): Promise<TopSnapshot['groups']> {
  const groups = (await admin.listGroups()).filter((g) => g.protocolType === 'consumer' || g.protocolType === '');
  const ends = new Map<string, bigint>();
  const rows: TopSnapshot['groups'] = [];
  for (const g of groups) {
    let lag = 0n;
    for (const o of await admin.listConsumerGroupOffsets(g.groupId)) {
      if (!ends.has(o.topic)) for (const e of await admin.listOffsets(o.topic, OffsetSpec.latest)) ends.set(`${o.topic}\0${e.partition}`, e.offset), ends.set(o.topic, 0n);
      const end = ends.get(`${o.topic}\0${o.partition}`);
      if (end !== undefined && o.offset >= 0n && end > o.offset) lag += end - o.offset;
    }
    rows.push({ group: g.groupId, lag: Number(lag), status: null });
  }
  rows.sort((a, b) => b.lag - a.lag || a.group.localeCompare(b.group));
  const top = rows.slice(0, n);
  for (const row of top) {
    for (const u of urls) {
      const base = u.replace(/\/+$/, '');
      const clusters = ((await (await fetch(`${base}/v3/kafka`, { signal: AbortSignal.timeout(5000) })).json()) as { clusters?: string[] }).clusters ?? [];
      const r = await fetch(`${base}/v3/kafka/${encodeURIComponent(clusters[0] ?? '')}/consumer/${encodeURIComponent(row.group)}/status`, { signal: AbortSignal.timeout(5000) });
      if (r.status === 200) {
        row.status = ((await r.json()) as { status: { status: string } }).status.status;
        break;
      }
    }
  }
  return top;
}

async function snapshot(admin: Admin, urls: string[], before: Sample, after: Sample, n: number): Promise<TopSnapshot> {
  const cluster = await admin.describeCluster();
  const seconds = Math.max(0.001, (after.at - before.at) / 1000);
  const delta = (metric: string, by: string) => {
    const a = sumBy(after.pages, metric, by);
    const b = sumBy(before.pages, metric, by);
    return new Map([...a].map(([k, v]) => [k, Math.max(0, v - (b.get(k) ?? 0))]));
  };
  let topics: TopSnapshot['topics'];
  let requests: TopSnapshot['requests'] = null;
  if (urls.length > 0) {
    const bytesIn = delta('kafka_server_brokertopicmetrics_bytesin_total', 'topic');
    const bytesOut = delta('kafka_server_brokertopicmetrics_bytesout_total', 'topic');
    topics = [...new Set([...bytesIn.keys(), ...bytesOut.keys()])].map((topic) => ({ topic, bytesInPerSec: (bytesIn.get(topic) ?? 0) / seconds, bytesOutPerSec: (bytesOut.get(topic) ?? 0) / seconds, source: 'metrics' as const }));
    const count = delta('kafka_network_requestmetrics_totaltimems_count', 'request');
    const sum = delta('kafka_network_requestmetrics_totaltimems_sum', 'request');
    requests = [...count]
      .filter(([, c]) => c > 0)
      .map(([request, c]) => ({ request, perSec: c / seconds, meanMs: (sum.get(request) ?? 0) / c }))
      .sort((a, b) => b.perSec - a.perSec)
      .slice(0, n);
  } else {
    topics = [...after.logBytes].map(([topic, bytes]) => ({ topic, bytesInPerSec: Math.max(0, bytes - (before.logBytes.get(topic) ?? 0)) / seconds, bytesOutPerSec: null, source: 'log-growth' as const }));
  }
  topics.sort((a, b) => b.bytesInPerSec + (b.bytesOutPerSec ?? 0) - (a.bytesInPerSec + (a.bytesOutPerSec ?? 0)) || a.topic.localeCompare(b.topic));
  return {
    brokers: cluster.brokers.map((b) => ({ id: b.nodeId, address: `${b.host}:${b.port}`, controller: b.nodeId === cluster.controllerId })).sort((a, b) => a.id - b.id),
    topics: topics.filter((t) => !t.topic.startsWith('__')).slice(0, n),
    requests,
    groups: await laggiest(admin, urls, n),
  };
}

const rate = (bytes: number | null): string => (bytes === null ? '-' : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB/s` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB/s` : `${bytes.toFixed(0)} B/s`);

export function renderTop(s: TopSnapshot): string {
  let out = `sluice top — ${new Date().toISOString()}\n\nBROKERS\n`;
  out += renderTable(['ID', 'ADDRESS', 'CONTROLLER'], s.brokers.map((b): Cell[] => [b.id, b.address, b.controller ? '*' : '']));
  out += `\nTOPICS${s.topics[0]?.source === 'log-growth' ? ' (log growth on disk; --metrics-url for bytes in/out)' : ''}\n`;
  out += renderTable(['TOPIC', 'BYTES-IN', 'BYTES-OUT'], s.topics.map((t): Cell[] => [t.topic, rate(t.bytesInPerSec), rate(t.bytesOutPerSec)]));
  out += '\nREQUESTS\n';
  out += s.requests === null ? '(needs --metrics-url)\n' : renderTable(['REQUEST', 'PER-SEC', 'MEAN-MS'], s.requests.map((r): Cell[] => [r.request, r.perSec.toFixed(1), r.meanMs.toFixed(2)]));
  out += '\nLAGGIEST GROUPS\n';
  out += renderTable(['GROUP', 'LAG', 'STATUS'], s.groups.map((g): Cell[] => [g.group, g.lag, g.status ?? '-']));
  return out;
}

async function runTop(admin: Admin, args: ParsedArgs, io: ToolIo): Promise<number> {
  const urls = args.list('metrics-url');
  const interval = Number(args.value('interval') ?? 1000);
  const n = Number(args.value('top') ?? 10);
  if (!Number.isInteger(interval) || interval < 100) throw new UsageError('--interval must be at least 100 (ms)');
  if (!Number.isInteger(n) || n < 1) throw new UsageError('--top must be a positive number');
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let before = await sample(admin, urls);
  if (args.has('once')) {
    await wait(interval);
    const s = await snapshot(admin, urls, before, await sample(admin, urls), n);
    io.stdout(args.has('json') ? toJson(s) : renderTop(s));
    return ExitCode.ok;
  }
  let stop = false;
  void io.interrupted().then(() => (stop = true));
  while (!stop) {
    await wait(interval);
    const after = await sample(admin, urls);
    const s = await snapshot(admin, urls, before, after, n);
    before = after;
    io.stdout(args.has('json') ? toJson(s) + '\n' : `\x1b[H\x1b[2J${renderTop(s)}`);
  }
  return ExitCode.ok;
}
