/**
 * Producer-state snapshots (Kafka's `<offset>.snapshot` files in the partition directory): the
 * producer table and open transactions as they stood after every record below `offset`, so that
 * opening a log replays only the batches from the newest snapshot on instead of the whole log.
 *
 * Kafka's version 1 layout, big-endian: version int16, crc uint32 (CRC32C of everything after it),
 * then an int32-counted array of 46-byte entries: producer_id int64, epoch int16, last_sequence
 * int32, last_offset int64, offset_delta int32 (last minus first sequence of the last batch),
 * timestamp int64, coordinator_epoch int32, current_txn_first_offset int64 (-1: none).
 */
import { readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '@sluice/protocol';
import { writeFileAtomically } from './checkpoint.js';
import { segmentFileName } from './segment.js';

export const PRODUCER_SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_VERSION = 1;
const ENTRIES_AT = 6;
const ENTRY_SIZE = 46;
/** Snapshots kept per log: the newest, and one before it in case the newest is damaged. */
const SNAPSHOTS_KEPT = 2;

export interface ProducerSnapshotEntry {
  producerId: bigint;
  epoch: number;
  /** -1 when the producer's only entries are transaction markers. */
  lastSequence: number;
  lastOffset: bigint;
  offsetDelta: number;
  timestamp: bigint;
  coordinatorEpoch: number;
  /** First offset of the producer's open transaction, -1 when it has none. */
  currentTxnFirstOffset: bigint;
}

export interface ProducerSnapshot {
  /** Every batch below this offset is reflected. */
  offset: bigint;
  entries: ProducerSnapshotEntry[];
}

export class CorruptSnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptSnapshotError';
  }
}

export function encodeProducerSnapshot(entries: readonly ProducerSnapshotEntry[]): Buffer {
  const buf = Buffer.alloc(ENTRIES_AT + 4 + entries.length * ENTRY_SIZE);
  buf.writeInt16BE(SNAPSHOT_VERSION, 0);
  buf.writeInt32BE(entries.length, ENTRIES_AT);
  let at = ENTRIES_AT + 4;
  for (const e of entries) {
    at = buf.writeBigInt64BE(e.producerId, at);
    at = buf.writeInt16BE(e.epoch, at);
    at = buf.writeInt32BE(e.lastSequence, at);
    at = buf.writeBigInt64BE(e.lastOffset, at);
    at = buf.writeInt32BE(e.offsetDelta, at);
    at = buf.writeBigInt64BE(e.timestamp, at);
    at = buf.writeInt32BE(e.coordinatorEpoch, at);
    at = buf.writeBigInt64BE(e.currentTxnFirstOffset, at);
  }
  buf.writeUInt32BE(crc32c(buf.subarray(ENTRIES_AT)) >>> 0, 2);
  return buf;
}

export function decodeProducerSnapshot(buf: Buffer): ProducerSnapshotEntry[] {
  if (buf.length < ENTRIES_AT + 4) throw new CorruptSnapshotError(`snapshot of ${buf.length} bytes is shorter than its header`);
  const version = buf.readInt16BE(0);
  if (version !== SNAPSHOT_VERSION) throw new CorruptSnapshotError(`snapshot version ${version} is not ${SNAPSHOT_VERSION}`);
  const crc = buf.readUInt32BE(2);
  const computed = crc32c(buf.subarray(ENTRIES_AT)) >>> 0;
  if (crc !== computed) throw new CorruptSnapshotError(`snapshot CRC ${crc} does not match its data (${computed})`);
  const count = buf.readInt32BE(ENTRIES_AT);
  if (count < 0 || buf.length !== ENTRIES_AT + 4 + count * ENTRY_SIZE) throw new CorruptSnapshotError(`snapshot of ${buf.length} bytes cannot hold ${count} entries`);
  const entries: ProducerSnapshotEntry[] = [];
  let at = ENTRIES_AT + 4;
  for (let i = 0; i < count; i++, at += ENTRY_SIZE) {
    entries.push({
      producerId: buf.readBigInt64BE(at),
      epoch: buf.readInt16BE(at + 8),
      lastSequence: buf.readInt32BE(at + 10),
      lastOffset: buf.readBigInt64BE(at + 14),
      offsetDelta: buf.readInt32BE(at + 22),
      timestamp: buf.readBigInt64BE(at + 26),
      coordinatorEpoch: buf.readInt32BE(at + 34),
      currentTxnFirstOffset: buf.readBigInt64BE(at + 38),
    });
  }
  return entries;
}

/** The offsets of the snapshot files in `dir`, oldest first. */
export async function listProducerSnapshots(dir: string): Promise<bigint[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names
    .filter((n) => /^\d{20}\.snapshot$/.test(n))
    .map((n) => BigInt(n.slice(0, 20)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function producerSnapshotPath(dir: string, offset: bigint): string {
  return join(dir, segmentFileName(offset, PRODUCER_SNAPSHOT_SUFFIX));
}

/** Writes a snapshot atomically and drops all but the newest few. */
export async function writeProducerSnapshot(dir: string, snapshot: ProducerSnapshot): Promise<void> {
  await writeFileAtomically(producerSnapshotPath(dir, snapshot.offset), encodeProducerSnapshot(snapshot.entries));
  const offsets = await listProducerSnapshots(dir);
  for (const old of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_KEPT))) await unlink(producerSnapshotPath(dir, old)).catch(() => undefined);
}

/**
 * The newest readable snapshot at or below `maxOffset`. A damaged one is deleted and the next
 * older tried, as Kafka does: replaying more of the log gives the same state.
 */
export async function readLatestProducerSnapshot(dir: string, maxOffset: bigint): Promise<ProducerSnapshot | null> {
  const offsets = (await listProducerSnapshots(dir)).filter((o) => o <= maxOffset);
  for (let i = offsets.length - 1; i >= 0; i--) {
    const path = producerSnapshotPath(dir, offsets[i]);
    try {
      return { offset: offsets[i], entries: decodeProducerSnapshot(await readFile(path)) };
    } catch (e) {
      if (!(e instanceof CorruptSnapshotError) && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await unlink(path).catch(() => undefined);
    }
  }
  return null;
}

/** Deletes the snapshots above `offset`: they describe records the log no longer has. */
export async function deleteProducerSnapshotsAbove(dir: string, offset: bigint): Promise<void> {
  for (const o of await listProducerSnapshots(dir)) if (o > offset) await unlink(producerSnapshotPath(dir, o)).catch(() => undefined);
}
