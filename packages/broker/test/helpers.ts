/** Test helpers: a broker on a temp dir and a free port, and a raw Kafka-protocol client. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { decodeResponse, encodeRequest, type RequestBodies, type ResponseBodies } from '@sluice/protocol';
import { startBroker, type RunningBroker, type StartBrokerOptions } from '../src/index.js';

export interface TestBroker {
  broker: RunningBroker;
  dataDir: string;
  bootstrap: string;
  /** Stops the broker (idempotent). */
  stop(): Promise<void>;
  /** Stops the broker and removes its data directory. */
  dispose(): Promise<void>;
}

export function tempDir(prefix = 'sluice-broker-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startTestBroker(options: StartBrokerOptions = {}, dataDir = tempDir()): Promise<TestBroker> {
  const logSink = process.env.SLUICE_TEST_LOG ? (line: string) => process.stderr.write(line + '\n') : null;
  const broker = await startBroker({ dataDir, host: '127.0.0.1', port: 0, logSink, ...options });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await broker.stop();
  };
  return {
    broker,
    dataDir,
    bootstrap: `127.0.0.1:${broker.port}`,
    stop,
    async dispose() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A minimal Kafka client over one connection: typed requests, responses matched by correlation id. */
export class RawClient {
  private nextCorrelationId = 1;
  private buffered = Buffer.alloc(0);
  private readonly pending = new Map<number, (frame: Buffer) => void>();
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        const correlationId = frame.readInt32BE(0);
        const resolve = this.pending.get(correlationId);
        this.pending.delete(correlationId);
        resolve?.(frame);
      }
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = connect(port, host);
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** Sends a request and resolves with the decoded response body. */
  async send<K extends keyof RequestBodies & keyof ResponseBodies>(apiKey: K, apiVersion: number, body: RequestBodies[K]): Promise<ResponseBodies[K]> {
    const correlationId = this.nextCorrelationId++;
    const frame = await new Promise<Buffer>((resolve, reject) => {
      this.pending.set(correlationId, resolve);
      this.closed.then(() => reject(new Error('connection closed')));
      this.socket.write(encodeRequest({ apiKey, apiVersion, correlationId, clientId: 'raw-test' } as never, body));
    });
    return decodeResponse(apiKey, apiVersion, frame).body;
  }

  /** Sends a request and resolves with the raw response frame (for version-mismatch answers). */
  async sendRaw(bytes: Buffer, correlationId: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(correlationId, resolve);
      this.closed.then(() => reject(new Error('connection closed')));
      this.socket.write(bytes);
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion with optional stdin; rejects on timeout. */
export function run(command: string, args: string[], options: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out\nstdout: ${Buffer.concat(out)}\nstderr: ${Buffer.concat(err)}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.end(options.input ?? '');
  });
}
