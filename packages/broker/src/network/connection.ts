/**
 * One client connection: frames in, responses out in request order. Requests are handled
 * concurrently (pipelining) but each response waits in a per-connection queue until every
 * earlier one has been written. Reading stops while too many requests are in flight or the
 * socket's write buffer is above its high-water mark, so a slow reader cannot make the broker
 * buffer without bound.
 */
import type { Socket } from 'node:net';
import { FrameReader, FrameTooLargeError } from './frame-reader.js';

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
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

export interface ConnectionEvents {
  onError(connection: Connection, reason: string): void;
  onClose(connection: Connection): void;
}

interface Slot {
  done: boolean;
  response: Response;
}

export class Connection implements ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  private readonly reader: FrameReader;
  private readonly queue: Slot[] = [];
  private readingPaused = false;
  private draining = false;
  private closed = false;
  private drainWaiters: (() => void)[] = [];

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '?';
    this.remotePort = socket.remotePort ?? 0;
    this.localPort = socket.localPort ?? 0;
    this.reader = new FrameReader(limits.maxFrameSize);
    socket.setNoDelay(true);
    if (limits.idleTimeoutMs > 0) {
      socket.setTimeout(limits.idleTimeoutMs, () => {
        if (this.queue.length === 0) this.destroy('idle for longer than connections.max.idle.ms');
      });
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.updateReading());
    socket.on('error', () => this.destroy(null));
    socket.on('end', () => {
      // The client half-closed: finish what it asked for, then close our side.
      this.draining = true;
      this.maybeFinishDrain();
    });
    socket.on('close', () => this.onClosed());
  }

  get inFlight(): number {
    return this.queue.length;
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    this.pump();
  }

  /** Takes frames off the reader while the limits allow. */
  private pump(): void {
    while (!this.closed && !this.draining && !this.blocked()) {
      let frame: Buffer | null;
      try {
        frame = this.reader.next();
      } catch (err) {
        this.destroy(err instanceof FrameTooLargeError ? err.message : String(err));
        return;
      }
      if (frame === null) break;
      this.dispatch(frame);
    }
    this.updateReading();
  }

  private blocked(): boolean {
    return this.queue.length >= this.limits.maxInFlight || this.socket.writableLength > this.limits.writeHighWaterMark;
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
      if (this.reader.bufferedBytes >= 4) this.pump();
    }
  }

  private dispatch(frame: Buffer): void {
    let result: Response | Promise<Response>;
    try {
      result = this.handler(frame, this);
    } catch (err) {
      this.destroy(describe(err));
      return;
    }
    if (!(result instanceof Promise)) {
      if (this.queue.length === 0) {
        this.write(result);
        return;
      }
      this.queue.push({ done: true, response: result });
      this.flush();
      return;
    }
    const slot: Slot = { done: false, response: null };
    this.queue.push(slot);
    result.then(
      (response) => {
        slot.done = true;
        slot.response = response;
        this.flush();
      },
      (err: unknown) => this.destroy(describe(err)),
    );
  }

  /** Writes every finished response at the head of the queue, in order. */
  private flush(): void {
    if (this.closed) return;
    while (this.queue.length > 0 && this.queue[0].done) {
      this.write(this.queue.shift()!.response);
    }
    if (this.draining) this.maybeFinishDrain();
    else this.pump();
  }

  private write(response: Response): void {
    if (response === null) return;
    if (Buffer.isBuffer(response)) {
      this.socket.write(response);
      return;
    }
    // One writev for the whole frame.
    this.socket.cork();
    for (const chunk of response) this.socket.write(chunk);
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
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    this.events.onClose(this);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
