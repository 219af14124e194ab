/**
 * Source offsets as Kafka Connect keys them: key `["<connector>",{partition}]`, value the offset
 * object, both JSON. The standalone worker keeps them in `offset.storage.file.filename`, written
 * atomically (temp file + rename) so a kill -9 leaves the previous or the new map, never half.
 */
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseExactJson, stringifyExactJson } from '../data/exact-json.js';

export function offsetKey(connector: string, partition: Record<string, unknown>): string {
  return stringifyExactJson([connector, partition]);
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
}

export class OffsetStore implements SourceOffsetStore {
  private readonly entries = new Map<string, Record<string, unknown>>();

  constructor(private readonly file: string | null) {
    if (!file) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const parsed = parseExactJson(text) as Array<[string, Record<string, unknown>]>;
    for (const [k, v] of parsed) this.entries.set(k, v);
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
    writeFileSync(tmp, stringifyExactJson([...this.entries]));
    renameSync(tmp, this.file);
  }
}
