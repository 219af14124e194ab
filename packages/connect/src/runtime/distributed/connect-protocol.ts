/**
 * Kafka Connect's group protocol (ConnectProtocol, version 0, protocol name `default`): the
 * member metadata `{version, url, config_offset}` and the assignment
 * `{version, error, leader, leader_url, config_offset, assignment: [{connector, tasks}]}` in
 * Kafka's struct encoding (int16-length strings, int32-count arrays). Task id -1 stands for the
 * connector instance itself, as in Kafka.
 */
export const CONNECT_PROTOCOL_VERSION = 0;
export const CONNECTOR_TASK = -1;

export interface WorkerMetadata {
  url: string;
  configOffset: bigint;
}

export interface ConnectAssignment {
  error: number;
  leader: string;
  leaderUrl: string;
  configOffset: bigint;
  /** connector name -> task ids (-1 = the connector instance) */
  assignment: Map<string, number[]>;
}

class Writer {
  private parts: Buffer[] = [];
  int16(v: number): this { const b = Buffer.alloc(2); b.writeInt16BE(v); this.parts.push(b); return this; }
  int32(v: number): this { const b = Buffer.alloc(4); b.writeInt32BE(v); this.parts.push(b); return this; }
  int64(v: bigint): this { const b = Buffer.alloc(8); b.writeBigInt64BE(v); this.parts.push(b); return this; }
  string(s: string): this { const bytes = Buffer.from(s, 'utf8'); this.int16(bytes.length); this.parts.push(bytes); return this; }
  done(): Buffer { return Buffer.concat(this.parts); }
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void { if (this.pos + n > this.buf.length) throw new Error('truncated Connect protocol data'); }
  int16(): number { this.need(2); const v = this.buf.readInt16BE(this.pos); this.pos += 2; return v; }
  int32(): number { this.need(4); const v = this.buf.readInt32BE(this.pos); this.pos += 4; return v; }
  int64(): bigint { this.need(8); const v = this.buf.readBigInt64BE(this.pos); this.pos += 8; return v; }
  string(): string { const n = this.int16(); this.need(n); const s = this.buf.toString('utf8', this.pos, this.pos + n); this.pos += n; return s; }
}

export function encodeMetadata(m: WorkerMetadata): Buffer {
  return new Writer().int16(CONNECT_PROTOCOL_VERSION).string(m.url).int64(m.configOffset).done();
}

export function decodeMetadata(buf: Buffer): WorkerMetadata {
  const r = new Reader(buf);
  r.int16();
  return { url: r.string(), configOffset: r.int64() };
}

export function encodeAssignment(a: ConnectAssignment): Buffer {
  const w = new Writer().int16(CONNECT_PROTOCOL_VERSION).int16(a.error).string(a.leader).string(a.leaderUrl).int64(a.configOffset).int32(a.assignment.size);
  for (const [connector, tasks] of a.assignment) {
    w.string(connector).int32(tasks.length);
    for (const t of tasks) w.int32(t);
  }
  return w.done();
}

export function decodeAssignment(buf: Buffer): ConnectAssignment {
  const r = new Reader(buf);
  r.int16();
  const error = r.int16();
  const leader = r.string();
  const leaderUrl = r.string();
  const configOffset = r.int64();
  const n = r.int32();
  const assignment = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const connector = r.string();
    const count = r.int32();
    const tasks: number[] = [];
    for (let j = 0; j < count; j++) tasks.push(r.int32());
    assignment.set(connector, tasks);
  }
  return { error, leader, leaderUrl, configOffset, assignment };
}
