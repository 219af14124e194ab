/**
 * Kafka's TimestampConverter: converts a timestamp (the whole key/value, or `field`) between
 * `string` (with `format`), `unix` (with `unix.precision`), `Date`, `Time` and `Timestamp`.
 */
import { ConfigDef, ConfigException, Validators } from '../api/config-def.js';
import { DataException, DATE_LOGICAL, TIME_LOGICAL, TIMESTAMP_LOGICAL, type ConnectRecord, type Schema, type StructValue } from '../data/schema.js';
import type { Transformation } from './transformation.js';
import { compileDateFormat, formatDate, parseDate } from './date-format.js';
import { partSchema, partValue, requireObject, withPart, type RecordPart } from './record-part.js';

type Target = 'string' | 'unix' | 'Date' | 'Time' | 'Timestamp';
const PRECISION_MS = { seconds: 1000, milliseconds: 1, microseconds: 1 / 1000, nanoseconds: 1 / 1_000_000 } as const;
type Precision = keyof typeof PRECISION_MS;

const def = new ConfigDef()
  .define({ name: 'field', type: 'STRING', defaultValue: '', importance: 'HIGH', documentation: 'The field containing the timestamp, or empty if the entire value is a timestamp' })
  .define({ name: 'target.type', type: 'STRING', importance: 'HIGH', documentation: 'The desired timestamp representation: string, unix, Date, Time, or Timestamp', validator: Validators.in('string', 'unix', 'Date', 'Time', 'Timestamp') })
  .define({ name: 'format', type: 'STRING', defaultValue: '', importance: 'MEDIUM', documentation: 'A SimpleDateFormat-compatible format for the timestamp' })
  .define({ name: 'unix.precision', type: 'STRING', defaultValue: 'milliseconds', importance: 'LOW', documentation: 'The desired Unix precision for the timestamp', validator: Validators.in('seconds', 'milliseconds', 'microseconds', 'nanoseconds') });

abstract class TimestampConverter implements Transformation {
  protected abstract readonly part: RecordPart;
  private field = '';
  private target: Target = 'Timestamp';
  private format: ReturnType<typeof compileDateFormat> | null = null;
  private precision: Precision = 'milliseconds';

  config(): ConfigDef { return def; }

  configure(props: Record<string, string>): void {
    const v = def.parse(props);
    this.field = v.field as string;
    this.target = (['string', 'unix', 'Date', 'Time', 'Timestamp'] as Target[]).find((t) => t.toLowerCase() === (v['target.type'] as string).toLowerCase())!;
    this.precision = v['unix.precision'] as Precision;
    const format = v.format as string;
    if (format) this.format = compileDateFormat(format);
    if (this.target === 'string' && !this.format) throw new ConfigException('format', 'TimestampConverter requires format option to be specified when using string timestamps');
  }

  private toMillis(value: unknown, schema: Schema | null): number {
    if (value instanceof Date) return value.getTime();
    if (typeof value === 'number') return schema?.name === DATE_LOGICAL ? value * 86_400_000 : value * PRECISION_MS[this.precision];
    if (typeof value === 'string') {
      if (!this.format) throw new DataException('TimestampConverter requires format option to be specified when using string timestamps');
      return parseDate(this.format, value).getTime();
    }
    throw new DataException(`Expected timestamp to be a Long, Date or String, found ${typeof value}`);
  }

  private convert(ms: number): unknown {
    switch (this.target) {
      case 'string': return formatDate(this.format!, new Date(ms));
      case 'unix': return Math.trunc(ms / PRECISION_MS[this.precision]);
      case 'Date': return new Date(Math.floor(ms / 86_400_000) * 86_400_000);
      case 'Time': return new Date(((ms % 86_400_000) + 86_400_000) % 86_400_000);
      default: return new Date(ms);
    }
  }

  private targetSchema(optional: boolean): Schema {
    switch (this.target) {
      case 'string': return { type: 'string', optional };
      case 'unix': return { type: 'int64', optional };
      case 'Date': return { type: 'int32', optional, name: DATE_LOGICAL, version: 1 };
      case 'Time': return { type: 'int32', optional, name: TIME_LOGICAL, version: 1 };
      default: return { type: 'int64', optional, name: TIMESTAMP_LOGICAL, version: 1 };
    }
  }

  apply<R extends ConnectRecord>(record: R): R | null {
    const value = partValue(record, this.part);
    const schema = partSchema(record, this.part);
    if (!this.field) {
      const converted = value === null || value === undefined ? null : this.convert(this.toMillis(value, schema));
      return withPart(record, this.part, schema === null ? null : this.targetSchema(schema.optional), converted);
    }
    if (value === null || value === undefined) return record;
    const obj = schema === null ? requireObject(value, 'converting timestamp formats') : (value as StructValue);
    const out: StructValue = { ...obj };
    const fieldSchema = schema?.fields?.find((f) => f.name === this.field)?.schema ?? null;
    const current = out[this.field];
    out[this.field] = current === null || current === undefined ? null : this.convert(this.toMillis(current, fieldSchema));
    if (schema === null) return withPart(record, this.part, null, out);
    const fields = (schema.fields ?? []).map((f) => (f.name === this.field ? { ...f, schema: this.targetSchema(f.schema.optional) } : f));
    return withPart(record, this.part, { ...schema, fields }, out);
  }

  close(): void {}
}

export class TimestampConverterKey extends TimestampConverter { protected readonly part = 'key' as const; }
export class TimestampConverterValue extends TimestampConverter { protected readonly part = 'value' as const; }
