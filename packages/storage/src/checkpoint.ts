/**
 * Kafka's checkpoint text files, written atomically (tmp file, fsync, rename, fsync directory):
 *   log-dir root: recovery-point-offset-checkpoint, log-start-offset-checkpoint,
 *                 replication-offset-checkpoint, cleaner-offset-checkpoint
 *                 "0\n<count>\n<topic> <partition> <offset>\n..."
 *   partition dir: leader-epoch-checkpoint  "0\n<count>\n<epoch> <startOffset>\n..."
 */
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const REPLICATION_OFFSET_CHECKPOINT = 'replication-offset-checkpoint';
export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';
export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
export const CLEAN_SHUTDOWN_MARKER = '.kafka_cleanshutdown';

const CHECKPOINT_VERSION = 0;

export class CheckpointFormatError extends Error {
  constructor(path: string, reason: string) {
    super(`malformed checkpoint file ${path}: ${reason}`);
    this.name = 'CheckpointFormatError';
  }
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces `path` with `content` so that a crash leaves either the old or the new file. */
export async function writeFileAtomically(path: string, content: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDirectory(dirname(path));
}

async function readLines(path: string): Promise<string[] | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) throw new CheckpointFormatError(path, 'missing version or count line');
  if (Number(lines[0]) !== CHECKPOINT_VERSION) throw new CheckpointFormatError(path, `unsupported version '${lines[0]}'`);
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count !== lines.length - 2) {
    throw new CheckpointFormatError(path, `count line says ${lines[1]} but ${lines.length - 2} entries follow`);
  }
  return lines.slice(2);
}

/** Key of a partition in offset checkpoints. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

export async function readOffsetCheckpoint(path: string): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  const lines = await readLines(path);
  if (!lines) return out;
  for (const line of lines) {
    const parts = line.split(' ');
    if (parts.length !== 3 || !/^\d+$/.test(parts[1]) || !/^-?\d+$/.test(parts[2])) {
      throw new CheckpointFormatError(path, `bad entry '${line}'`);
    }
    out.set(partitionKey(parts[0], Number(parts[1])), BigInt(parts[2]));
  }
  return out;
}

export async function writeOffsetCheckpoint(path: string, entries: PartitionOffset[]): Promise<void> {
  const body = entries.map((e) => `${e.topic} ${e.partition} ${e.offset}\n`).join('');
  await writeFileAtomically(path, `${CHECKPOINT_VERSION}\n${entries.length}\n${body}`);
}

export interface EpochEntry {
  epoch: number;
  startOffset: bigint;
}

export async function readLeaderEpochCheckpoint(path: string): Promise<EpochEntry[]> {
  const lines = await readLines(path);
  if (!lines) return [];
  return lines.map((line) => {
    const parts = line.split(' ');
    if (parts.length !== 2 || !/^\d+$/.test(parts[0]) || !/^\d+$/.test(parts[1])) {
      throw new CheckpointFormatError(path, `bad entry '${line}'`);
    }
    return { epoch: Number(parts[0]), startOffset: BigInt(parts[1]) };
  });
}

export async function writeLeaderEpochCheckpoint(path: string, entries: EpochEntry[]): Promise<void> {
  const body = entries.map((e) => `${e.epoch} ${e.startOffset}\n`).join('');
  await writeFileAtomically(path, `${CHECKPOINT_VERSION}\n${entries.length}\n${body}`);
}
