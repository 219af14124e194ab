/**
 * Spooling-directory sources (after jcustenborder's kafka-connect-spooldir, same config keys):
 * files matching `input.file.pattern` in `input.path` are read oldest name first; each record's
 * source partition is `{"fileName": name}` and offset `{"offset": records emitted so far}`. A
 * file is moved (or deleted) only after the worker has committed the offset of its last record,
 * so a restart resumes inside an unfinished file and never reads a finished one again.
 */
import { readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigDef } from '../../api/config-def.js';
import { SourceConnector, SourceTask, type TaskProps } from '../../api/connector.js';
import { Schemas, sourceRecord, type Schema, type SourceRecord, type StructValue } from '../../data/schema.js';
import { CONNECT_VERSION } from '../../version.js';
import { spoolDirConfigDef } from './config.js';
import { readCsv, readJsonLines, readLines, type ParsedFile } from './readers.js';

type Format = 'csv' | 'json' | 'line';
const defs: Record<Format, ConfigDef> = { csv: spoolDirConfigDef('csv'), json: spoolDirConfigDef('json'), line: spoolDirConfigDef('line') };

interface OpenFile {
  name: string;
  parsed: ParsedFile;
  next: number;
}

abstract class SpoolDirSourceTask extends SourceTask {
  protected abstract readonly format: Format;
  private props: Record<string, unknown> = {};
  private pattern = /$^/;
  private current: OpenFile | null = null;
  /** Fully emitted files waiting for their offsets to be committed before cleanup. */
  private emitted = new Set<string>();
  private stopped = false;
  private wake: (() => void) | null = null;

  version(): string { return CONNECT_VERSION; }

  start(props: TaskProps): void {
    this.props = defs[this.format].parse(props);
    this.pattern = new RegExp(`^(?:${String(this.props['input.file.pattern'])})$`);
  }

  private get inputPath(): string { return this.props['input.path'] as string; }

  private async nextFile(): Promise<OpenFile | null> {
    const minAge = this.props['file.minimum.age.ms'] as number;
    const names = (await readdir(this.inputPath)).filter((n) => this.pattern.test(n) && !this.emitted.has(n)).sort();
    for (const name of names) {
      const path = join(this.inputPath, name);
      const st = await stat(path).catch(() => null);
      if (!st || !st.isFile() || Date.now() - st.mtimeMs < minAge) continue;
      let parsed: ParsedFile;
      try {
        parsed = this.parse(await readFile(path, 'utf8'));
      } catch (err) {
        if (this.props['halt.on.error'] as boolean) throw new Error(`Error processing ${path}: ${(err as Error).message}`);
        await rename(path, join(this.props['error.path'] as string, name));
        continue;
      }
      const stored = this.context.offsetStorageReader.offset({ fileName: name });
      const done = typeof stored?.offset === 'number' ? stored.offset : 0;
      if (done >= parsed.values.length) {
        // Every record went out before a restart: only the cleanup is left.
        this.emitted.add(name);
        await this.cleanup();
        continue;
      }
      return { name, parsed, next: done };
    }
    return null;
  }

  private parse(text: string): ParsedFile {
    const p = this.props;
    if (this.format === 'csv') {
      return readCsv(text, {
        header: p['csv.first.row.as.header'] as boolean,
        separator: String.fromCodePoint(p['csv.separator.char'] as number),
        quote: String.fromCodePoint(p['csv.quote.char'] as number),
        nullIndicator: p['csv.null.field.indicator'] as string,
        inferSchema: p['schema.generation.enabled'] as boolean,
      });
    }
    if (this.format === 'json') return readJsonLines(text, p['schema.generation.enabled'] as boolean);
    return readLines(text);
  }

  private key(value: unknown, valueSchema: Schema | null): { keySchema: Schema | null; key: unknown } {
    const keyFields = (this.props['schema.generation.key.fields'] as string[] | undefined) ?? [];
    if (!keyFields.length || value === null || typeof value !== 'object') return { keySchema: null, key: null };
    const v = value as StructValue;
    const key = Object.fromEntries(keyFields.map((f) => [f, v[f] ?? null]));
    if (!valueSchema) return { keySchema: null, key };
    const fields = keyFields.map((name, index) => ({ name, index, schema: valueSchema.fields?.find((f) => f.name === name)?.schema ?? Schemas.OPTIONAL_STRING }));
    return { keySchema: { type: 'struct', optional: false, name: 'com.github.jcustenborder.kafka.connect.model.Key', fields }, key };
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (!this.current) this.current = await this.nextFile();
    if (!this.current) return this.idle();
    const file = this.current;
    const batch = this.props['batch.size'] as number;
    const out: SourceRecord[] = [];
    const topic = this.props.topic as string;
    while (out.length < batch && file.next < file.parsed.values.length) {
      const value = file.parsed.values[file.next++];
      out.push(sourceRecord({
        topic,
        ...this.key(value, file.parsed.valueSchema),
        valueSchema: file.parsed.valueSchema,
        value,
        sourcePartition: { fileName: file.name },
        sourceOffset: { offset: file.next },
        headers: [{ key: 'file.name', schema: Schemas.STRING, value: file.name }],
      }));
    }
    if (file.next >= file.parsed.values.length) {
      this.emitted.add(file.name);
      this.current = null;
    }
    return out;
  }

  /** Offsets of everything polled are committed: finished files can go. */
  override async commit(): Promise<void> {
    await this.cleanup();
  }

  private async cleanup(): Promise<void> {
    const policy = (this.props['cleanup.policy'] as string).toUpperCase();
    for (const name of [...this.emitted]) {
      const path = join(this.inputPath, name);
      try {
        if (policy === 'MOVE') await rename(path, join(this.props['finished.path'] as string, name));
        else if (policy === 'DELETE') await unlink(path);
        else continue; // NONE: the file stays; its offset says it is done
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.emitted.delete(name);
    }
  }

  private idle(): Promise<null> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve(null);
      const timer = setTimeout(() => { this.wake = null; resolve(null); }, this.props['empty.poll.wait.ms'] as number);
      this.wake = () => { clearTimeout(timer); this.wake = null; resolve(null); };
    });
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
}

export class SpoolDirCsvSourceTask extends SpoolDirSourceTask { protected readonly format = 'csv' as const; }
export class SpoolDirJsonSourceTask extends SpoolDirSourceTask { protected readonly format = 'json' as const; }
export class SpoolDirLineDelimitedSourceTask extends SpoolDirSourceTask { protected readonly format = 'line' as const; }

abstract class SpoolDirSourceConnector extends SourceConnector {
  protected abstract readonly format: Format;
  private props: TaskProps = {};
  version(): string { return CONNECT_VERSION; }
  config(): ConfigDef { return defs[this.format]; }
  start(props: TaskProps): void {
    defs[this.format].parse(props);
    this.props = props;
  }
  /** One task: two readers of one directory would race for the same files. */
  taskConfigs(): TaskProps[] { return [{ ...this.props }]; }
  stop(): void {}
}

export class SpoolDirCsvSourceConnector extends SpoolDirSourceConnector {
  protected readonly format = 'csv' as const;
  taskClass() { return SpoolDirCsvSourceTask; }
}
export class SpoolDirJsonSourceConnector extends SpoolDirSourceConnector {
  protected readonly format = 'json' as const;
  taskClass() { return SpoolDirJsonSourceTask; }
}
export class SpoolDirLineDelimitedSourceConnector extends SpoolDirSourceConnector {
  protected readonly format = 'line' as const;
  taskClass() { return SpoolDirLineDelimitedSourceTask; }
}
