/**
 * One TCP (or TLS) connection to one broker: size-prefixed framing, correlation ids, any number of
 * requests in flight (pipelining), per-request timeouts, and ApiVersions negotiation on connect so
 * every request goes out at the highest version both sides support.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { channel } from 'node:diagnostics_channel';
import {
  ApiKey,
  BufferPool,
  ErrorCode,
  FrameReader,
  KafkaError,
  decodeResponse,
  encodeRequestChunks,
  type RequestBodies,
  type ResponseBodies,
} from '@sluice/protocol';
import { ConnectionError, RequestTimeoutError, UnsupportedVersionError } from '../errors.js';
import { negotiateVersion, type VersionTable } from './versions.js';

/** Published once per completed request (only when someone subscribes). */
export const requestChannel = channel('sluice:client:request');

export interface RequestEvent {
  broker: string;
  apiKey: number;
  apiVersion: number;
  durationMs: number;
  error: unknown;
}

/**
 * The SASL hook: runs after ApiVersions and before any other request. Mechanisms (PLAIN, SCRAM,
 * OAUTHBEARER) arrive with the security work; they call `connection.request` with SaslHandshake
 * and SaslAuthenticate.
 */
export type SaslAuthenticator = (connection: Connection) => Promise<void>;

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  tls?: TlsOptions | boolean;
  sasl?: SaslAuthenticator;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /**
   * Where large response frames come from. Whoever takes a response from this connection gives
   * its frame back (`framePool.release(anyViewOfIt)`) once nothing refers to the decoded bytes;
   * the broker's replica fetchers do, so replication allocates no fresh buffers. Without a pool
   * every frame is a buffer of its own for the garbage collector.
   */
  framePool?: BufferPool;
}

/** Largest response frame accepted (a Fetch is bounded by fetch.max.bytes, far below). */
const MAX_RESPONSE_FRAME = 1 << 30;
/** Frames are fresh buffers unless the caller lends a pool. */
const NO_POOL = new BufferPool(0);

export interface RequestOptions {
  /** Overrides the negotiated version. */
  version?: number;
  timeoutMs?: number;
}

interface Pending {
  apiKey: number;
  apiVersion: number;
  resolve: (frame: Buffer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
  startedAt: number;
}

const CLIENT_SOFTWARE_NAME = 'sluice-client';
const CLIENT_SOFTWARE_VERSION = '0.1.0';

export class Connection {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  private readonly options: ConnectionOptions;
  private socket: Socket | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private versions: VersionTable = new Map();
  private reader: FrameReader | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;
  private failure: Error | null = null;
  private authenticating = false;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.host = options.host;
    this.port = options.port;
    this.address = `${options.host}:${options.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== null && this.failure === null && !this.closed && this.connecting === null;
  }

  /** Requests sent and not yet answered: a broker that stopped answering collects them. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Opens the socket and negotiates versions; concurrent callers share one attempt. */
  connect(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    if (this.connecting) return this.connecting;
    if (this.closed) return Promise.reject(new ConnectionError(this.address, 'connection closed'));
    this.failure = null;
    this.connecting = this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    const { host, port } = this.options;
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const reader = new FrameReader(MAX_RESPONSE_FRAME, this.options.framePool ?? NO_POOL, undefined, 'the client\'s response size limit');
    let plain: Socket | null = null;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const tls = this.options.tls;
      // Plain TCP reads straight into each response's own buffer once its size is known (no
      // per-read chunks, no concatenation); TLS hands over decrypted chunks, copied in once.
      const s: Socket = tls
        ? tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...(typeof tls === 'object' ? tls : {}) })
        : (plain = netConnect({ host, port, onread: { buffer: () => reader.readBuffer(), callback: (n: number, buf: Uint8Array) => this.onRead(plain, n, buf as Buffer) } }));
      const readyEvent = tls ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ConnectionError(this.address, `connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      s.once(readyEvent, () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new ConnectionError(this.address, err.message, { cause: err }));
      });
    });
    socket.setNoDelay(true);
    // Events of a socket already replaced by a reconnect must not touch the new one.
    this.reader = reader;
    if (plain === null) {
      socket.on('data', (chunk: Buffer) => {
        if (this.socket !== socket) return;
        try {
          reader.push(chunk);
        } catch (err) {
          this.fail(new ConnectionError(this.address, (err as Error).message));
          return;
        }
        this.drainFrames(reader);
      });
    }
    socket.on('error', (err) => {
      if (this.socket === socket) this.fail(new ConnectionError(this.address, err.message, { cause: err }));
    });
    socket.on('close', () => {
      if (this.socket === socket) this.fail(new ConnectionError(this.address, 'connection closed by peer'));
    });
    this.socket = socket;
    try {
      await this.negotiateVersions();
      if (this.options.sasl) {
        this.authenticating = true;
        try {
          await this.options.sasl(this);
        } finally {
          this.authenticating = false;
        }
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  /**
   * ApiVersions at our newest version; a broker that does not know it answers
   * UNSUPPORTED_VERSION with its own range (in a v0 body), and we retry at its highest.
   */
  private async negotiateVersions(): Promise<void> {
    let version = 3;
    for (;;) {
      const body = { clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: CLIENT_SOFTWARE_VERSION };
      const frame = await this.sendRaw(ApiKey.ApiVersions, version, body, true);
      let response: ResponseBodies[18];
      try {
        response = decodeResponse(ApiKey.ApiVersions, version, frame).body;
      } catch (error) {
        if (version === 0) throw error;
        response = decodeResponse(ApiKey.ApiVersions, 0, frame).body;
      }
      if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION && version > 0) {
        const theirs = response.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
        version = Math.min(version - 1, theirs?.maxVersion ?? 0);
        continue;
      }
      if (response.errorCode !== 0) throw new KafkaError(response.errorCode, 'ApiVersions');
      this.versions = new Map(response.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
      return;
    }
  }

  /** The version a request for `apiKey` goes out at, or -1 when the broker has none we speak. */
  versionOf(apiKey: number): number {
    return negotiateVersion(apiKey, this.versions);
  }

  /** Every API the broker advertised in ApiVersions, with its range. */
  get brokerVersions(): VersionTable {
    return this.versions;
  }

  /** The broker's advertised range for `apiKey`. */
  brokerRange(apiKey: number): { min: number; max: number } | undefined {
    return this.versions.get(apiKey);
  }

  /**
   * Sends a request at the negotiated version and resolves with the decoded response body.
   * `expectResponse: false` (Produce with acks=0: the broker sends nothing back) resolves with
   * null once written, and the return type says so.
   */
  request<K extends keyof RequestBodies & keyof ResponseBodies>(apiKey: K, body: RequestBodies[K], options?: RequestOptions & { expectResponse?: true }): Promise<ResponseBodies[K]>;
  request<K extends keyof RequestBodies & keyof ResponseBodies>(apiKey: K, body: RequestBodies[K], options: RequestOptions & { expectResponse: false }): Promise<null>;
  request<K extends keyof RequestBodies & keyof ResponseBodies>(apiKey: K, body: RequestBodies[K], options: RequestOptions & { expectResponse: boolean }): Promise<ResponseBodies[K] | null>;
  async request<K extends keyof RequestBodies & keyof ResponseBodies>(
    apiKey: K,
    body: RequestBodies[K],
    options: RequestOptions & { expectResponse?: boolean } = {},
  ): Promise<ResponseBodies[K] | null> {
    if (!this.isOpen && !this.authenticating) await this.connect();
    const version = options.version ?? this.versionOf(apiKey);
    if (version < 0) throw new UnsupportedVersionError(`${this.address} supports no version of API ${apiKey} this client speaks`);
    const expectResponse = options.expectResponse ?? true;
    const startedAt = performance.now();
    let error: unknown = null;
    try {
      const frame = await this.sendRaw(apiKey, version, body, expectResponse, options.timeoutMs);
      if (!expectResponse) return null;
      return decodeResponse(apiKey, version, frame).body;
    } catch (e) {
      error = e;
      throw e;
    } finally {
      if (requestChannel.hasSubscribers) {
        const event: RequestEvent = { broker: this.address, apiKey, apiVersion: version, durationMs: performance.now() - startedAt, error };
        requestChannel.publish(event);
      }
    }
  }

  private sendRaw<K extends keyof RequestBodies>(
    apiKey: K,
    version: number,
    body: RequestBodies[K],
    expectResponse: boolean,
    timeoutMs?: number,
  ): Promise<Buffer> {
    const socket = this.socket;
    if (socket === null || this.failure) return Promise.reject(this.failure ?? new ConnectionError(this.address, 'not connected'));
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    const chunks = encodeRequestChunks({ apiKey, apiVersion: version, correlationId, clientId: this.options.clientId }, body);
    if (!expectResponse) {
      this.writeChunks(socket, chunks);
      return Promise.resolve(Buffer.alloc(0));
    }
    return new Promise<Buffer>((resolve, reject) => {
      const wait = timeoutMs ?? this.options.requestTimeoutMs ?? 30_000;
      const entry: Pending = { apiKey, apiVersion: version, resolve, reject, timer: null, startedAt: performance.now() };
      entry.timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RequestTimeoutError(`${this.address}: API ${apiKey} v${version} got no response within ${wait} ms`));
        // A late response would desynchronise nothing (we match by id), but the broker may be
        // stuck: drop the connection so the next request reconnects.
        this.fail(new RequestTimeoutError(`${this.address}: request timed out`));
      }, wait);
      this.pending.set(correlationId, entry);
      this.writeChunks(socket, chunks);
    });
  }

  private writeChunks(socket: Socket, chunks: Buffer[]): void {
    if (chunks.length === 1) {
      socket.write(chunks[0]);
      return;
    }
    socket.cork();
    for (const c of chunks) socket.write(c);
    socket.uncork();
  }

  /** `onread` callback of a plain socket: `n` bytes landed in `buf`, the buffer the reader chose. */
  private onRead(socket: Socket | null, n: number, buf: Buffer): boolean {
    const reader = this.reader;
    if (socket === null || this.socket !== socket || reader === null) return true;
    try {
      reader.received(n, buf);
    } catch (err) {
      this.fail(new ConnectionError(this.address, (err as Error).message));
      return false;
    }
    this.drainFrames(reader);
    return true;
  }

  private drainFrames(reader: FrameReader): void {
    for (let frame = reader.next(); frame !== null && this.reader === reader; frame = reader.next()) {
      if (frame.length < 4) {
        this.fail(new ConnectionError(this.address, `invalid response size ${frame.length}`));
        return;
      }
      this.dispatch(frame);
    }
  }

  private dispatch(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const entry = this.pending.get(correlationId);
    if (entry === undefined) return; // timed out earlier
    this.pending.delete(correlationId);
    if (entry.timer) clearTimeout(entry.timer);
    entry.resolve(frame);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.reader = null;
    for (const entry of this.pending.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.reject(error);
    }
    this.pending.clear();
  }

  /** Closes the socket; requests in flight fail with ConnectionError. */
  close(): void {
    this.closed = true;
    this.fail(new ConnectionError(this.address, 'connection closed'));
  }
}
