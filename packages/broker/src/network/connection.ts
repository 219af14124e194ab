/**
 * One client connection: frames in, responses out in request order. Requests are handled
 * concurrently (pipelining) but each response waits in a per-connection queue until every
 * earlier one has been written. Reading stops while too many requests are in flight or the
 * socket's write buffer is above its high-water mark, so a slow reader cannot make the broker
 * buffer without bound.
 */
import { Socket } from 'node:net';
import { FrameReader, FrameTooLargeError } from '@sluice/protocol';
import type { BufferPool } from '@sluice/protocol';
import { ANONYMOUS, type KafkaPrincipal } from '../security/principal.js';
import type { RequestObserver, RequestTiming } from '../metrics/broker-metrics.js';

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly principal: KafkaPrincipal;
}

/**
 * A connection that can be muted (quotas, Kafka 2.0+): the throttled response is sent at once,
 * then no further request is read from the connection for `ms`.
 */
export interface Throttleable {
  /** `frame`: the request whose response carries the throttle (its ThrottleTimeMs is recorded). */
  throttle(ms: number, frame?: Buffer): void;
}

export function isThrottleable(connection: ConnectionInfo): connection is ConnectionInfo & Throttleable {
  return typeof (connection as Partial<Throttleable>).throttle === 'function';
}

/**
 * Handles one request frame (the bytes after the size prefix) and returns the whole response
 * frame (prefix included), or null when the request takes no response (acks=0 produce). Throwing
 * closes this connection only.
 */
export type FrameHandler = (frame: Buffer, connection: ConnectionInfo) => Response | Promise<Response>;

/** A response frame as one buffer or as chunks written back to back (large fetches, by reference); null: none. */
export type Response = Buffer | Buffer[] | null;

export interface ConnectionLimits {
  maxFrameSize: number;
  maxInFlight: number;
  writeHighWaterMark: number;
  idleTimeoutMs: number;
}

/**
 * Recycling of pooled buffers: a pooled request frame goes back to the pool once its response is
 * ready, if `reusable` says its handler keeps no reference to the request's bytes; pooled chunks
 * of a response (log bytes of a fetch) go back once the socket has written them.
 */
export interface FrameRecycling {
  pool: BufferPool;
  reusable(frame: Buffer): boolean;
}

export interface ConnectionEvents {
  onError(connection: Connection, reason: string): void;
  onClose(connection: Connection): void;
  /** Request metrics (metrics on); absent or null: nothing is timed. */
  readonly observer?: RequestObserver | null;
}

interface Slot {
  done: boolean;
  response: Response;
  timing: RequestTiming | null;
}

export class Connection implements ConnectionInfo, Throttleable {
  readonly remoteAddress: string;
  private principalOfConnection: KafkaPrincipal = ANONYMOUS;
  /** performance.now() until which no request is read (a quota throttle); 0: not muted. */
  private mutedUntil = 0;
  private muteTimer: NodeJS.Timeout | null = null;
  readonly remotePort: number;
  readonly localPort: number;
  private readonly reader: FrameReader;
  private readonly queue: Slot[] = [];
  private readingPaused = false;
  private draining = false;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  private readonly observer: RequestObserver | null;
  /** The timing of each request being handled, so a quota throttle lands in its ThrottleTimeMs. */
  private readonly timingByFrame = new WeakMap<Buffer, RequestTiming>();
  /** performance.now() of the last socket read (metrics on only): frames it completed waited since. */
  private lastReadAt = 0;

  /**
   * A connection for a socket the server accepted (created with pauseOnConnect). Where Node
   * allows it, the socket is re-created around the same handle with `onread`, so reads land in
   * buffers the frame reader chooses (straight into large frames); otherwise chunks are copied in.
   */
  static accept(
    id: number,
    accepted: Socket,
    handler: FrameHandler,
    limits: ConnectionLimits,
    events: ConnectionEvents,
    recycling: FrameRecycling | null = null,
  ): Connection {
    const reader = new FrameReader(limits.maxFrameSize, recycling?.pool);
    let connection: Connection | null = null;
    const direct = withDirectReads(accepted, () => reader.readBuffer(), (n, buf) => connection?.onRead(n, buf));
    connection = new Connection(id, direct ?? accepted, handler, limits, events, recycling, reader, direct !== null);
    return connection;
  }

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents,
    private readonly recycling: FrameRecycling | null = null,
    reader?: FrameReader,
    /** True when reads land in buffers the frame reader chooses (see accept). */
    readonly readsDirectly = false,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '?';
    this.remotePort = socket.remotePort ?? 0;
    this.localPort = socket.localPort ?? 0;
    this.reader = reader ?? new FrameReader(limits.maxFrameSize, recycling?.pool);
    this.observer = events.observer ?? null;
    socket.setNoDelay(true);
    if (limits.idleTimeoutMs > 0) {
      socket.setTimeout(limits.idleTimeoutMs, () => {
        if (this.queue.length === 0) this.destroy('idle for longer than connections.max.idle.ms');
      });
    }
    if (!readsDirectly) socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.updateReading());
    socket.on('error', () => this.destroy(null));
    socket.on('end', () => {
      // The client half-closed: finish what it asked for, then close our side.
      this.draining = true;
      this.maybeFinishDrain();
    });
    socket.on('close', () => this.onClosed());
    // Accepted sockets start paused (pauseOnConnect); others may be paused by their creator.
    socket.resume();
  }

  get principal(): KafkaPrincipal {
    return this.principalOfConnection;
  }

  /** Stops reading requests for `ms` (the response that carried the throttle time is still written). */
  throttle(ms: number, frame?: Buffer): void {
    const timing = frame === undefined ? undefined : this.timingByFrame.get(frame);
    if (timing !== undefined) timing.throttleMs = ms;
    if (this.closed || ms <= 0) return;
    const until = performance.now() + ms;
    if (until <= this.mutedUntil) return;
    this.mutedUntil = until;
    if (this.muteTimer) clearTimeout(this.muteTimer);
    this.muteTimer = setTimeout(() => {
      this.muteTimer = null;
      this.mutedUntil = 0;
      this.pump();
    }, ms);
    this.muteTimer.unref();
    this.updateReading();
  }

  get inFlight(): number {
    return this.queue.length;
  }

  private onData(chunk: Buffer): void {
    if (this.observer !== null) this.lastReadAt = performance.now();
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.destroy(err instanceof FrameTooLargeError ? err.message : String(err));
      return;
    }
    this.pump();
  }

  /** `onread` callback: `n` bytes landed in `buf` (what the reader's readBuffer() chose). */
  private onRead(n: number, buf: Buffer): void {
    if (this.observer !== null) this.lastReadAt = performance.now();
    try {
      this.reader.received(n, buf);
    } catch (err) {
      this.destroy(err instanceof FrameTooLargeError ? err.message : String(err));
      return;
    }
    this.pump();
  }

  /** Takes frames off the reader while the limits allow. */
  private pump(): void {
    while (!this.closed && !this.draining && !this.blocked()) {
      const frame = this.reader.next();
      if (frame === null) break;
      this.dispatch(frame);
    }
    this.updateReading();
  }

  private blocked(): boolean {
    return this.mutedUntil !== 0 || this.queue.length >= this.limits.maxInFlight || this.socket.writableLength > this.limits.writeHighWaterMark;
  }

  private updateReading(): void {
    if (this.closed) return;
    const shouldPause = this.blocked() || this.draining;
    if (shouldPause && !this.readingPaused) {
      this.readingPaused = true;
      this.socket.pause();
    } else if (!shouldPause && this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
      // Frames that arrived before the pause may already be buffered.
      if (this.reader.hasFrame) this.pump();
    }
  }

  private dispatch(frame: Buffer): void {
    let timing: RequestTiming | null = null;
    if (this.observer !== null) {
      // Frames still buffered when the connection was blocked waited at least since the last read.
      timing = this.observer.begin(frame, Math.max(0, performance.now() - this.lastReadAt));
      if (timing !== null) this.timingByFrame.set(frame, timing);
    }
    let result: Response | Promise<Response>;
    try {
      result = this.handler(frame, this);
    } catch (err) {
      if (timing !== null) this.observer!.failed(timing);
      this.destroy(describe(err));
      return;
    }
    if (timing !== null) timing.localDoneAt = timing.doneAt = performance.now();
    if (!(result instanceof Promise)) {
      this.recycle(frame);
      if (this.queue.length === 0) {
        this.write(result, timing);
        return;
      }
      this.queue.push({ done: true, response: result, timing });
      this.flush();
      return;
    }
    const slot: Slot = { done: false, response: null, timing };
    this.queue.push(slot);
    result.then(
      (response) => {
        this.recycle(frame);
        if (slot.timing !== null) slot.timing.doneAt = performance.now();
        slot.done = true;
        slot.response = response;
        this.flush();
      },
      // A failed handler may have left work holding the frame: it is not recycled.
      (err: unknown) => {
        if (slot.timing !== null) this.observer!.failed(slot.timing);
        this.destroy(describe(err));
      },
    );
  }

  private recycle(frame: Buffer): void {
    const r = this.recycling;
    if (r !== null && r.pool.isLent(frame) && r.reusable(frame)) r.pool.release(frame);
  }

  /** Writes every finished response at the head of the queue, in order. */
  private flush(): void {
    if (this.closed) return;
    while (this.queue.length > 0 && this.queue[0].done) {
      const slot = this.queue.shift()!;
      this.write(slot.response, slot.timing);
    }
    if (this.draining) this.maybeFinishDrain();
    else this.pump();
  }

  private write(response: Response, timing: RequestTiming | null = null): void {
    if (timing !== null) {
      timing.writtenAt = performance.now();
      if (response === null) {
        this.observer!.end(timing, timing.writtenAt);
        return;
      }
    }
    if (response === null) return;
    const sent = timing === null ? undefined : () => this.observer!.end(timing, performance.now());
    if (Buffer.isBuffer(response)) {
      this.socket.write(response, sent);
      return;
    }
    // One writev for the whole frame. Pooled chunks are released when the write is done (or failed:
    // either way the socket no longer needs them).
    if (response.length === 0) {
      sent?.();
      return;
    }
    const pool = this.recycling?.pool;
    const last = response.length - 1;
    this.socket.cork();
    for (let i = 0; i < last; i++) this.socket.write(response[i]);
    const release = pool ? () => releaseLent(pool, response) : undefined;
    this.socket.write(response[last], release === undefined ? sent : sent === undefined ? release : () => (release(), sent()));
    this.socket.uncork();
  }

  /**
   * Stops reading new requests, lets the in-flight ones finish and be written, then closes.
   * Resolves when the connection is closed.
   */
  drain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.draining = true;
    this.updateReading();
    const done = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.maybeFinishDrain();
    return done;
  }

  private maybeFinishDrain(): void {
    if (this.closed || this.queue.length > 0) return;
    // Close once our responses have been handed to the kernel; waiting for the peer's FIN too
    // would let an idle client hold a shutdown hostage.
    this.socket.end(() => this.destroy(null));
  }

  /** Set by authentication (a TLS client certificate, a completed SASL exchange). */
  authenticatedAs(principal: KafkaPrincipal): void {
    this.principalOfConnection = principal;
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  destroy(reason: string | null): void {
    if (this.closed) return;
    if (reason) this.events.onError(this, reason);
    this.socket.destroy();
    this.onClosed();
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    if (this.muteTimer) clearTimeout(this.muteTimer);
    this.muteTimer = null;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    this.events.onClose(this);
  }
}

/**
 * Moves an accepted plain TCP socket's handle into a new net.Socket whose reads go into the
 * buffers `buffer()` returns (net.Socket's documented `onread` option, which net.Server does not
 * offer for accepted sockets). The old socket object is destroyed without its handle, which only
 * settles the server's connection count. Null when there is no handle to move (TLS, tests).
 */
function withDirectReads(accepted: Socket, buffer: () => Buffer, callback: (n: number, buf: Buffer) => void): Socket | null {
  if (accepted.constructor !== Socket) return null;
  const holder = accepted as unknown as { _handle?: object | null };
  const handle = holder._handle;
  if (handle === null || handle === undefined || accepted.destroyed) return null;
  holder._handle = null;
  accepted.destroy();
  const options = {
    handle,
    allowHalfOpen: true,
    readable: true,
    writable: true,
    pauseOnCreate: true,
    onread: {
      buffer,
      callback: (n: number, buf: Uint8Array) => {
        callback(n, buf as Buffer);
      },
    },
  };
  return new Socket(options as unknown as ConstructorParameters<typeof Socket>[0]);
}

function releaseLent(pool: BufferPool, chunks: Buffer[]): void {
  for (const chunk of chunks) if (pool.isLent(chunk)) pool.release(chunk);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
