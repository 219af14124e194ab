/**
 * The TCP side of the broker: listens on one or more addresses (localhost means both 127.0.0.1
 * and ::1, sharing one port), accepts connections and tracks them for a clean shutdown.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type TlsOptions, type TLSSocket, type Server as TlsServer } from 'node:tls';
import { Connection, type ConnectionLimits, type FrameHandler } from './connection.js';
import { BufferPool } from '@sluice/protocol';
import type { ListenerMeters, RequestObserver } from '../metrics/broker-metrics.js';

export interface NetworkServerOptions {
  host: string;
  port: number;
  backlog: number;
  limits: ConnectionLimits;
  handler: FrameHandler;
  /**
   * True when the handler of this request keeps no reference to its bytes once the response is
   * ready, so a pooled frame may be reused for a later request. Default: never.
   */
  frameReusable?: (frame: Buffer) => boolean;
  /** Recycled buffers for large request frames and for response chunks read from logs. */
  bufferPool?: BufferPool;
  onWarning: (message: string) => void;
  /** Request and connection metrics (metrics on); default none. */
  metrics?: { observer: RequestObserver; listener: ListenerMeters } | null;
  /** TLS (SSL and SASL_SSL listeners): node:tls server options. */
  tls?: TlsOptions;
  /** Called for every accepted connection before its first request is read (listener name, TLS principal, SASL state). */
  onConnection?: (connection: Connection, socket: Socket) => void;
  /** A TLS handshake failed (untrusted certificate, no common protocol): logged and counted by the caller. */
  onTlsError?: (message: string, remoteAddress: string) => void;
}

export interface BoundAddress {
  host: string;
  port: number;
}

/** The addresses to bind for a configured host name. */
export function bindAddressesFor(host: string): string[] {
  if (host === 'localhost') return ['127.0.0.1', '::1'];
  if (host === '') return ['::'];
  return [host];
}

export class NetworkServer {
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  private readonly limits: ConnectionLimits;
  /** Shared by every connection (one thread: no locking). */
  readonly bufferPool: BufferPool;
  readonly bound: BoundAddress[] = [];

  constructor(private readonly options: NetworkServerOptions) {
    this.limits = { ...options.limits };
    this.bufferPool = options.bufferPool ?? new BufferPool();
  }

  async listen(): Promise<BoundAddress[]> {
    const addresses = bindAddressesFor(this.options.host);
    let port = this.options.port;
    for (const [index, address] of addresses.entries()) {
      // Paused until the connection takes the socket over (see Connection.accept).
      const server = this.options.tls ? this.createTls(this.options.tls) : createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (socket) => this.accept(socket));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: address, port, backlog: this.options.backlog, ipv6Only: address === '::1' }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        // localhost without IPv6 (or IPv4) on this machine: serve the family that exists.
        const code = (err as NodeJS.ErrnoException).code;
        if (index > 0 && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
        await this.close();
        throw err;
      }
      const info = server.address();
      if (info && typeof info === 'object') {
        port = info.port;
        this.bound.push({ host: info.address, port: info.port });
      }
      this.servers.push(server);
    }
    return this.bound;
  }

  private createTls(options: TlsOptions): TlsServer {
    // Not half-open: a TLS socket whose peer closes during the handshake would otherwise never
    // close (and hold up shutdown); a TLS client that half-closes loses its last answers.
    const server = createTlsServer({ ...options, allowHalfOpen: false, noDelay: true }, (socket: TLSSocket) => this.accept(socket));
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      const address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      if (this.options.onTlsError) this.options.onTlsError(err.message, address);
      else this.options.onWarning(`TLS handshake with ${address} failed: ${err.message}`);
    });
    return server;
  }

  /** Replaces the TLS certificates and settings of every server of this listener; new connections use them. */
  setSecureContext(options: SecureContextOptions): void {
    for (const s of this.servers) (s as TlsServer).setSecureContext?.(options);
  }

  private accept(socket: Socket): void {
    const metrics = this.options.metrics ?? null;
    const connection = Connection.accept(this.nextConnectionId++, socket, this.options.handler, this.limits, {
      onError: (c, reason) => this.options.onWarning(`closing connection ${c.id} from ${c.remoteAddress}:${c.remotePort}: ${reason}`),
      onClose: (c) => {
        if (this.connections.delete(c) && metrics !== null) {
          metrics.listener.connectionCloses++;
          metrics.listener.connections--;
        }
      },
      observer: metrics?.observer ?? null,
    }, { pool: this.bufferPool, reusable: this.options.frameReusable ?? (() => false) });
    this.connections.add(connection);
    if (metrics !== null) {
      metrics.listener.connectionCreations++;
      metrics.listener.connections++;
    }
    try {
      this.options.onConnection?.(connection, socket);
    } catch (err) {
      connection.destroy(err instanceof Error ? err.message : String(err));
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Connections whose socket reads straight into frame buffers (all plain TCP ones, where Node allows it). */
  get directReadConnectionCount(): number {
    let n = 0;
    for (const c of this.connections) if (c.readsDirectly) n++;
    return n;
  }

  /** Stops accepting, lets in-flight requests finish (up to timeoutMs), then closes every connection. */
  async close(timeoutMs = 10_000): Promise<void> {
    const closing = this.servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const drains = [...this.connections].map((c) => c.drain());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(drains), timedOut]);
    clearTimeout(timer);
    for (const c of this.connections) c.destroy(null);
    await Promise.all(closing);
  }
}
