/**
 * Versioned data structures outside request/response frames: an int16 version, then the struct
 * (the consumer-protocol metadata inside JoinGroup/SyncGroup, the records of __consumer_offsets).
 */
import { ProtocolError } from '../protocol-error.js';
import { Reader, Writer, newSizeQueue, type SizeQueue } from '../primitives/index.js';

/** Guards the two-pass encoders: the write pass must fill exactly what the size pass measured. */
export function checkWritten(w: Writer, expected: number): void {
  if (w.pos !== expected) throw new Error(`encoder wrote ${w.pos} bytes where it sized ${expected}`);
}

export interface DataCodec<T> {
  read(r: Reader, v: number): T;
  size(o: T, v: number, q: SizeQueue): number;
  write(w: Writer, o: T, v: number): void;
  maxVersion: number;
}

export function encodeVersioned<T>(c: DataCodec<T>, value: T, version: number): Buffer {
  if (version < 0 || version > c.maxVersion) throw new ProtocolError('unsupported', `version ${version} is not supported`);
  const q = newSizeQueue();
  const size = 2 + c.size(value, version, q);
  const w = new Writer(size, q);
  w.int16(version);
  c.write(w, value, version);
  checkWritten(w, size);
  return w.buf;
}

/** Newer versions only add fields at the end, so (as Kafka does) a newer one is read as our newest. */
export function decodeVersioned<T>(c: DataCodec<T>, data: Buffer): { version: number; value: T } {
  const r = new Reader(data);
  const version = r.int16();
  if (version < 0) throw new ProtocolError('invalid', `negative version ${version}`);
  return { version, value: c.read(r, Math.min(version, c.maxVersion)) };
}
