/** A minimal pipelined Kafka-protocol connection for the benchmark's admin calls and latency probe. */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { ApiKey, decodeResponse, encodeRequest, type RequestBodies, type ResponseBodies } from '@sluice/protocol';

export class Conn {
  // Received chunks are kept as a list and joined once per frame (never re-copied per chunk).
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly waiting: ((frame: Buffer) => void)[] = [];
  private correlationId = 0;
  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      for (;;) {
        if (this.buffered < 4) return;
        let head = this.chunks[0];
        if (head.length < 4) head = this.join();
        const size = head.readInt32BE(0);
        if (this.buffered < 4 + size) return;
        if (head.length < 4 + size) head = this.join();
        const frame = head.subarray(4, 4 + size);
        const rest = head.subarray(4 + size);
        this.chunks = rest.length ? [rest, ...this.chunks.slice(1)] : this.chunks.slice(1);
        this.buffered -= 4 + size;
        this.waiting.shift()!(frame);
      }
    });
  }
  private join(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }
  static async open(port: number): Promise<Conn> {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    return new Conn(s);
  }
  /** Sends pre-encoded request bytes (correlation id patched in place). */
  sendRaw(bytes: Buffer): Promise<Buffer> {
    bytes.writeInt32BE(++this.correlationId, 8);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(bytes);
    });
  }
  async send<K extends keyof RequestBodies & keyof ResponseBodies>(apiKey: K, version: number, body: RequestBodies[K]): Promise<ResponseBodies[K]> {
    const frame = await this.sendRaw(encodeRequest({ apiKey, apiVersion: version, correlationId: 0, clientId: 'bench' } as never, body));
    return decodeResponse(apiKey, version, frame).body;
  }
  close(): void {
    this.socket.destroy();
  }
}

export async function createTopic(port: number, name: string, partitions: number): Promise<void> {
  const admin = await Conn.open(port);
  try {
    const body = await admin.send(ApiKey.CreateTopics, 7, {
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    const code = body.topics[0].errorCode;
    if (code !== 0) throw new Error(`CreateTopics ${name}: error ${code} ${body.topics[0].errorMessage ?? ''}`);
  } finally {
    admin.close();
  }
}
