/**
 * Source offsets as Kafka Connect keys them: key `["<connector>",{partition}]`, value the offset
 * object, both JSON. The standalone worker keeps them in `offset.storage.file.filename` in Kafka's
 * own format (FileOffsetBackingStore: a Java-serialized HashMap<byte[], byte[]> of those JSON
 * bytes, java-serialized-map.ts), so the file moves between a Kafka worker and ours; it is written
 * atomically (temp file + rename) so a kill -9 leaves the previous or the new map, never half.
 */
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseExactJson, stringifyExactJson } from '../data/exact-json.js';
import { isJavaSerialized, readJavaByteArrayMap, writeJavaByteArrayMap } from './java-serialized-map.js';

/**
 * The key of a source partition's offset. Partition fields are put in name order, so two maps
 * with the same fields are one key whatever order a writer (a Kafka worker, a connector) used,
 * as Kafka compares them as maps.
 */
export function offsetKey(connector: string, partition: Record<string, unknown>): string {
  return stringifyExactJson([connector, sortedFields(partition)]);
}

/** An offset key as stored by anyone, in offsetKey's form (other shapes kept as they are). */
export function normalizedOffsetKey(stored: string): string {
  const parsed = parseExactJson(stored);
  if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && isRecord(parsed[1])) return offsetKey(parsed[0], parsed[1]);
  return stringifyExactJson(parsed);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sortedFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedFields);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortedFields(value[k]);
  return out;
}

/** Every partition/offset pair of one connector in a map keyed by offsetKey. */
export function offsetsOfConnector(entries: Map<string, Record<string, unknown>>, connector: string): Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }> {
  const out: Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }> = [];
  for (const [k, offset] of entries) {
    const [name, partition] = parseExactJson(k) as [string, Record<string, unknown>];
    if (name === connector) out.push({ partition, offset });
  }
  return out;
}

export interface OffsetWrite {
  partition: Record<string, unknown>;
  offset: Record<string, unknown> | null;
}

/** Where source offsets live: the offset file (standalone) or the offsets topic (distributed). */
export interface SourceOffsetStore {
  get(connector: string, partition: Record<string, unknown>): Record<string, unknown> | null;
  forConnector(connector: string): Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }>;
  /** Resolves once the writes are durable. */
  set(connector: string, writes: OffsetWrite[]): void | Promise<void>;
  /** Resolves once the store can be read (a connector's own offsets topic is created and read); absent when always ready. */
  ready?(): Promise<void>;
}

/** A connector's offset store, by its name and config (distributed workers honour its offsets.storage.topic). */
export type OffsetStoreResolver = (connector: string, config: Record<string, string>) => SourceOffsetStore;

export class OffsetStore implements SourceOffsetStore {
  private readonly entries = new Map<string, Record<string, unknown>>();

  constructor(private readonly file: string | null) {
    if (!file) return;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (bytes.length === 0) return;
    if (isJavaSerialized(bytes)) {
      for (const [k, v] of readJavaByteArrayMap(bytes)) {
        // A null value is a deleted offset (Kafka writes tombstones through to the file).
        if (k === null || v === null) continue;
        const offset = parseExactJson(v.toString('utf8'));
        if (isRecord(offset)) this.entries.set(normalizedOffsetKey(k.toString('utf8')), offset);
      }
      return;
    }
    // Files written before the Kafka format: a JSON array of [key, offset] pairs.
    const parsed = parseExactJson(bytes.toString('utf8')) as Array<[string, Record<string, unknown>]>;
    for (const [k, v] of parsed) this.entries.set(normalizedOffsetKey(k), v);
  }

  get(connector: string, partition: Record<string, unknown>): Record<string, unknown> | null {
    return this.entries.get(offsetKey(connector, partition)) ?? null;
  }

  /** Every partition/offset pair stored for one connector. */
  forConnector(connector: string): Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }> {
    return offsetsOfConnector(this.entries, connector);
  }

  /** Apply writes (null offset = delete) and persist them together. */
  set(connector: string, writes: OffsetWrite[]): void {
    for (const w of writes) {
      const k = offsetKey(connector, w.partition);
      if (w.offset === null) this.entries.delete(k);
      else this.entries.set(k, w.offset);
    }
    this.persist();
  }

  private persist(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, writeJavaByteArrayMap([...this.entries].map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(stringifyExactJson(v), 'utf8')] as const)));
    renameSync(tmp, this.file);
  }
}
