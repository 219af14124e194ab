/**
 * Kafka's FileStreamSource/FileStreamSink connectors with their config keys. The source tails a
 * file (or stdin when `file` is unset) line by line; its source partition is `{"filename": …}`
 * and offset `{"position": <byte position after the line>}`, exactly as Kafka stores them. The
 * sink appends each record's value as one line (stdout when `file` is unset).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ConfigDef, ConfigException, Validators } from '../api/config-def.js';
import { SinkConnector, SinkTask, SourceConnector, SourceTask, type ExactlyOnceSupport, type PartitionOffsets, type TaskProps } from '../api/connector.js';
import { Schemas, sourceRecord, type SinkRecord, type SourceRecord } from '../data/schema.js';
import { CONNECT_VERSION } from '../version.js';

const sourceConfig = new ConfigDef()
  .define({ name: 'file', type: 'STRING', defaultValue: null, importance: 'HIGH', documentation: 'Source filename. If not specified, the standard input will be used' })
  .define({ name: 'topic', type: 'LIST', importance: 'HIGH', documentation: 'The topic to publish data to', validator: singleTopic() })
  .define({ name: 'batch.size', type: 'INT', defaultValue: 2000, importance: 'LOW', documentation: 'The maximum number of records the source task can read from the file each time it is polled', validator: Validators.atLeast(1) });

function singleTopic() {
  return (name: string, value: unknown) => {
    if (!Array.isArray(value) || value.length !== 1 || value[0] === '') throw new ConfigException(name, `Invalid value ${String(value)} for configuration ${name}: 'topic' in FileStreamSourceConnector configuration requires definition of a single topic`);
  };
}

export class FileStreamSourceConnector extends SourceConnector {
  private props: TaskProps = {};
  version(): string { return CONNECT_VERSION; }
  config(): ConfigDef { return sourceConfig; }
  start(props: TaskProps): void {
    sourceConfig.parse(props);
    this.props = props;
  }
  taskClass() { return FileStreamSourceTask; }
  /** As Kafka's: exactly once when reading a file (its offsets are positions), not standard input. */
  override exactlyOnceSupport(props: TaskProps): ExactlyOnceSupport {
    return (props.file ?? '').trim() !== '' ? 'SUPPORTED' : 'UNSUPPORTED';
  }
  taskConfigs(): TaskProps[] {
    // One file, one reader: more tasks would read the same lines twice.
    return [{ ...(this.props.file !== undefined ? { file: this.props.file } : {}), topic: this.props.topic.trim(), 'batch.size': this.props['batch.size'] ?? '2000' }];
  }
  stop(): void {}
}

export class FileStreamSourceTask extends SourceTask {
  private file: string | null = null;
  private topic = '';
  private batchSize = 2000;
  private handle: FileHandle | null = null;
  private position = 0;
  private pending = Buffer.alloc(0);
  private stdinLines: string[] = [];
  private stopped = false;
  private wake: (() => void) | null = null;

  version(): string { return CONNECT_VERSION; }

  start(props: TaskProps): void {
    const parsed = sourceConfig.parse(props);
    this.file = (parsed.file as string | null) || null;
    this.topic = (parsed.topic as string[])[0];
    this.batchSize = parsed['batch.size'] as number;
    if (this.file === null) {
      let partial = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        this.stdinLines.push(...parts.map((l) => l.replace(/\r$/, '')));
        this.wake?.();
      });
    }
  }

  private partition(): Record<string, unknown> {
    return { filename: this.file };
  }

  private async openFile(): Promise<boolean> {
    if (this.handle) return true;
    try {
      this.handle = await open(this.file!, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // Kafka's task waits for the file to appear
      throw err;
    }
    const stored = this.context.offsetStorageReader.offset(this.partition());
    const position = stored?.position;
    this.position = typeof position === 'number' ? position : 0;
    this.pending = Buffer.alloc(0);
    return true;
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.file === null) return this.pollStdin();
    if (this.stopped) return null;
    if (!(await this.openFile())) return this.idle();
    const records: SourceRecord[] = [];
    const chunk = Buffer.allocUnsafe(64 * 1024);
    while (records.length < this.batchSize && !this.stopped && this.handle) {
      const readAt = this.position + this.pending.length;
      const { bytesRead } = await this.handle!.read(chunk, 0, chunk.length, readAt);
      if (bytesRead === 0) break;
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk.subarray(0, bytesRead)]) : Buffer.from(chunk.subarray(0, bytesRead));
      let nl: number;
      while (records.length < this.batchSize && (nl = this.pending.indexOf(0x0a)) >= 0) {
        const line = this.pending.subarray(0, nl).toString('utf8').replace(/\r$/, '');
        this.position += nl + 1;
        this.pending = this.pending.subarray(nl + 1);
        records.push(sourceRecord({ topic: this.topic, valueSchema: Schemas.STRING, value: line, sourcePartition: this.partition(), sourceOffset: { position: this.position } }));
      }
      if (records.length >= this.batchSize) break;
    }
    // Unconsumed bytes are re-read next time from `position`, so a partial line waits for its newline.
    this.pending = Buffer.alloc(0);
    return records.length ? records : this.idle();
  }

  private async pollStdin(): Promise<SourceRecord[] | null> {
    if (!this.stdinLines.length) await this.idle();
    const lines = this.stdinLines.splice(0, this.batchSize);
    return lines.map((line) => sourceRecord({ topic: this.topic, valueSchema: Schemas.STRING, value: line, sourcePartition: { filename: null }, sourceOffset: {} }));
  }

  /** Kafka's task sleeps a second when there is nothing new; stop() cuts the wait short. */
  private idle(): Promise<null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = null; resolve(null); }, 1000);
      this.wake = () => { clearTimeout(timer); this.wake = null; resolve(null); };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.handle?.close();
    this.handle = null;
  }
}

const sinkConfig = new ConfigDef().define({ name: 'file', type: 'STRING', defaultValue: null, importance: 'HIGH', documentation: 'Destination filename. If not specified, the standard output will be used' });

export class FileStreamSinkConnector extends SinkConnector {
  private props: TaskProps = {};
  version(): string { return CONNECT_VERSION; }
  config(): ConfigDef { return sinkConfig; }
  start(props: TaskProps): void { this.props = props; }
  taskClass() { return FileStreamSinkTask; }
  taskConfigs(maxTasks: number): TaskProps[] {
    return Array.from({ length: maxTasks }, (): TaskProps => (this.props.file !== undefined ? { file: this.props.file } : {}));
  }
  stop(): void {}
}

export class FileStreamSinkTask extends SinkTask {
  private handle: FileHandle | null = null;

  version(): string { return CONNECT_VERSION; }

  async start(props: TaskProps): Promise<void> {
    const file = props.file;
    if (file) this.handle = await open(file, 'a');
  }

  /** Written at once, as Kafka's task prints each value; flush makes it durable. */
  async put(records: SinkRecord[]): Promise<void> {
    if (!records.length) return;
    const text = records.map((r) => {
      const v = r.value;
      return v === null || v === undefined ? 'null' : typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : JSON.stringify(v);
    }).join('\n') + '\n';
    if (this.handle) await this.handle.write(text);
    else process.stdout.write(text);
  }

  override async flush(_offsets: PartitionOffsets): Promise<void> {
    await this.handle?.sync();
  }

  async stop(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }
}
