/**
 * Kafka Connect's group protocol, version 1 (`compatible`, incremental cooperative): member
 * metadata `{version, url, config_offset, allocation}` where allocation is the worker's current
 * assignment, and the assignment `{version, error, leader, leader_url, config_offset,
 * assignment: [{connector, tasks}], revoked: [{connector, tasks}], scheduled_delay}` in Kafka's
 * struct encoding (int16-length strings, int32-count arrays, int32-length nullable bytes). Task
 * id -1 stands for the connector instance itself, as in Kafka.
 */
export const CONNECT_PROTOCOL_VERSION = 1;
export const CONNECT_PROTOCOL_NAME = 'compatible';
export const CONNECTOR_TASK = -1;

export interface WorkerMetadata {
  url: string;
  configOffset: bigint;
  /** What the worker runs now (connector -> task ids), empty for a new worker. */
  owned: Map<string, number[]>;
}

export interface ConnectAssignment {
  error: number;
  leader: string;
  leaderUrl: string;
  configOffset: bigint;
  /** Newly assigned: connector name -> task ids (-1 = the connector instance). */
  assignment: Map<string, number[]>;
  /** To stop now; they are handed out in the follow-up rebalance. */
  revoked: Map<string, number[]>;
  /** A departed worker's work is held back this long (scheduled.rebalance.max.delay.ms). */
  scheduledDelayMs: number;
}

class Writer {
  private parts: Buffer[] = [];
  int16(v: number): this { const b = Buffer.alloc(2); b.writeInt16BE(v); this.parts.push(b); return this; }
  int32(v: number): this { const b = Buffer.alloc(4); b.writeInt32BE(v); this.parts.push(b); return this; }
  int64(v: bigint): this { const b = Buffer.alloc(8); b.writeBigInt64BE(v); this.parts.push(b); return this; }
  string(s: string): this { const bytes = Buffer.from(s, 'utf8'); this.int16(bytes.length); this.parts.push(bytes); return this; }
  bytes(b: Buffer | null): this { if (b === null) return this.int32(-1); this.int32(b.length); this.parts.push(b); return this; }
  work(m: Map<string, number[]>): this {
    this.int32(m.size);
    for (const [connector, tasks] of m) {
      this.string(connector).int32(tasks.length);
      for (const t of tasks) this.int32(t);
    }
    return this;
  }
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
  bytes(): Buffer | null { const n = this.int32(); if (n < 0) return null; this.need(n); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
  work(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const n = this.int32();
    for (let i = 0; i < n; i++) {
      const connector = this.string();
      const count = this.int32();
      const tasks: number[] = [];
      for (let j = 0; j < count; j++) tasks.push(this.int32());
      out.set(connector, tasks);
    }
    return out;
  }
  done(): boolean { return this.pos >= this.buf.length; }
}

export function encodeMetadata(m: WorkerMetadata): Buffer {
  const allocation = new Writer().int16(CONNECT_PROTOCOL_VERSION).work(m.owned).work(new Map()).done();
  return new Writer().int16(CONNECT_PROTOCOL_VERSION).string(m.url).int64(m.configOffset).bytes(allocation).done();
}

export function decodeMetadata(buf: Buffer): WorkerMetadata {
  const r = new Reader(buf);
  const version = r.int16();
  const url = r.string();
  const configOffset = r.int64();
  let owned = new Map<string, number[]>();
  if (version >= 1 && !r.done()) {
    const allocation = r.bytes();
    if (allocation) {
      const a = new Reader(allocation);
      a.int16();
      owned = a.work();
    }
  }
  return { url, configOffset, owned };
}

export function encodeAssignment(a: ConnectAssignment): Buffer {
  return new Writer().int16(CONNECT_PROTOCOL_VERSION).int16(a.error).string(a.leader).string(a.leaderUrl).int64(a.configOffset).work(a.assignment).work(a.revoked).int32(a.scheduledDelayMs).done();
}

export function decodeAssignment(buf: Buffer): ConnectAssignment {
  const r = new Reader(buf);
  const version = r.int16();
  const error = r.int16();
  const leader = r.string();
  const leaderUrl = r.string();
  const configOffset = r.int64();
  const assignment = r.work();
  const revoked = version >= 1 && !r.done() ? r.work() : new Map<string, number[]>();
  const scheduledDelayMs = version >= 1 && !r.done() ? r.int32() : 0;
  return { error, leader, leaderUrl, configOffset, assignment, revoked, scheduledDelayMs };
}
