import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch, readRecordBatch, type KafkaRecord, type RecordInput } from '@sluice/protocol';
import { parseTopicConfig, type TopicConfig } from '../src/config.js';

export async function tempDir(prefix = 'sluice-storage-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function config(overrides: Record<string, string> = {}): TopicConfig {
  return parseTopicConfig(overrides);
}

/** A batch of `count` records with values `${tag}-${i}` and optional keys. */
export function batchOf(count: number, options: { tag?: string; timestamp?: bigint; valueBytes?: number; key?: (i: number) => string | null } = {}): Buffer {
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const text = `${options.tag ?? 'v'}-${i}`;
    const value = options.valueBytes ? Buffer.alloc(options.valueBytes, text) : Buffer.from(text);
    const key = options.key ? options.key(i) : null;
    records.push({ key: key === null ? null : Buffer.from(key), value, timestamp: options.timestamp !== undefined ? options.timestamp + BigInt(i) : undefined });
  }
  return buildRecordBatch(records);
}

/** Decodes every record in a buffer of whole batches. */
export function recordsIn(buf: Buffer): KafkaRecord[] {
  const out: KafkaRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const b = readRecordBatch(buf, pos);
    out.push(...b.records);
    pos += b.size;
  }
  return out;
}
