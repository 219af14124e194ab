/**
 * The broker's HTTP endpoint (metrics.port): `/metrics` in Prometheus text format, and consumer
 * status shaped like Burrow's HTTP API v3 so tools that read Burrow read Sluice:
 *   GET /v3/kafka                                   → the cluster (this broker's cluster id)
 *   GET /v3/kafka/<cluster>/consumer                → groups coordinated here
 *   GET /v3/kafka/<cluster>/consumer/<group>/status → verdict, partitions not OK
 *   GET /v3/kafka/<cluster>/consumer/<group>/lag    → verdict, every partition
 * Only GET; anything else is 405, unknown paths 404, and errors never reach the broker.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { ConsumerLag, GroupLag, PartitionLag } from './consumer-lag.js';
import type { CommitSample } from './burrow.js';
import type { Logger } from '../logger.js';

export interface MetricsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  lag: ConsumerLag;
  clusterId: string;
  logger: Logger;
}

export class MetricsServer {
  private server: Server | null = null;
  port = -1;
  host = '';

  constructor(private readonly options: MetricsServerOptions) {}

  async listen(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.options.logger.warn(`metrics endpoint: ${req.method} ${req.url} failed: ${(err as Error).message}`);
        if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address();
    if (address && typeof address === 'object') {
      this.port = address.port;
      this.host = address.address;
    }
    return { host: this.host, port: this.port };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET\n');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/metrics') {
      const body = await this.options.registry.metrics();
      return send(res, 200, this.options.registry.contentType, body);
    }
    if (path === '/') return send(res, 200, 'text/plain', 'Sluice broker metrics: /metrics, /v3/kafka\n');
    let parts: string[];
    try {
      parts = path.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return burrowError(res, 400, 'malformed path', url);
    }
    if (parts[0] !== 'v3' || parts[1] !== 'kafka') return burrowError(res, 404, 'invalid request type', url);
    const cluster = this.options.clusterId;
    if (parts.length === 2) return burrowOk(res, 'cluster list returned', { clusters: [cluster] }, url);
    if (parts[2] !== cluster) return burrowError(res, 404, 'cluster not found', url);
    if (parts.length === 4 && parts[3] === 'consumer') {
      const groups = await this.options.lag.evaluate();
      return burrowOk(res, 'consumer list returned', { consumers: groups.map((g) => g.group) }, url);
    }
    if (parts.length === 6 && parts[3] === 'consumer' && (parts[5] === 'lag' || parts[5] === 'status')) {
      const [group] = await this.options.lag.evaluate(parts[4]);
      if (!group) return burrowError(res, 404, 'cluster or consumer not found', url);
      return burrowOk(res, 'consumer status returned', { status: burrowStatus(cluster, group, parts[5] === 'lag') }, url);
    }
    return burrowError(res, 404, 'invalid request type', url);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function burrowOk(res: ServerResponse, message: string, fields: Record<string, unknown>, url: URL): void {
  send(res, 200, 'application/json', JSON.stringify({ error: false, message, ...fields, request: { url: url.pathname, host: '' } }));
}

function burrowError(res: ServerResponse, status: number, message: string, url: URL): void {
  send(res, status, 'application/json', JSON.stringify({ error: true, message, request: { url: url.pathname, host: '' } }));
}

/** Burrow's ConsumerGroupStatus; `all` = the /lag form (every partition), else only those not OK. */
export function burrowStatus(cluster: string, group: GroupLag, all: boolean): Record<string, unknown> {
  const partitions = group.partitions.map(burrowPartition);
  let maxlag: Record<string, unknown> | null = null;
  let max = -1;
  group.partitions.forEach((p, i) => {
    if ((p.lag ?? 0) > max) {
      max = p.lag ?? 0;
      maxlag = partitions[i];
    }
  });
  return {
    cluster,
    group: group.group,
    status: group.status,
    complete: group.complete,
    partitions: all ? partitions : partitions.filter((p) => p.status !== 'OK'),
    partition_count: group.partitions.length,
    maxlag,
    totallag: group.totalLag,
  };
}

function burrowPartition(p: PartitionLag): Record<string, unknown> & { status: string } {
  const offset = (c: CommitSample | undefined) => (c === undefined ? null : { offset: c.offset, timestamp: c.timestamp, observedAt: c.timestamp, lag: c.lag ?? 0 });
  return {
    topic: p.topic,
    partition: p.partition,
    owner: p.owner === '' ? '' : `/${p.owner.replace(/^\//, '')}`,
    client_id: p.clientId,
    status: p.status,
    start: offset(p.window[0]),
    end: offset(p.window[p.window.length - 1]),
    current_lag: p.lag ?? 0,
    complete: p.complete,
  };
}
