/** Shared pieces of the `$Key`/`$Value` transforms: which half of the record they work on. */
import { ConfigException } from '../api/config-def.js';
import { DataException, type ConnectRecord, type Schema, type StructValue } from '../data/schema.js';

export type RecordPart = 'key' | 'value';

export function partSchema(record: ConnectRecord, part: RecordPart): Schema | null {
  return part === 'key' ? record.keySchema : record.valueSchema;
}

export function partValue(record: ConnectRecord, part: RecordPart): unknown {
  return part === 'key' ? record.key : record.value;
}

export function withPart<R extends ConnectRecord>(record: R, part: RecordPart, schema: Schema | null, value: unknown): R {
  return part === 'key' ? { ...record, keySchema: schema, key: value } : { ...record, valueSchema: schema, value };
}

/** The value as a struct or map, or Kafka's error naming the transform's purpose. */
export function requireObject(value: unknown, purpose: string): StructValue {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value) || value instanceof Date) {
    throw new DataException(`Only Map objects supported in absence of schema for [${purpose}], found: ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
  }
  return value as StructValue;
}

export function requireStructSchema(schema: Schema, purpose: string): void {
  if (schema.type !== 'struct') throw new DataException(`Only Struct objects supported for [${purpose}], found: ${schema.type}`);
}

export function listConfig(value: string | undefined): string[] {
  return value === undefined || value.trim() === '' ? [] : value.split(',').map((s) => s.trim()).filter(Boolean);
}

export function requiredConfig(props: Record<string, string>, key: string): string {
  const v = props[key];
  if (v === undefined || v === '') throw new ConfigException(key, `Missing required configuration "${key}" which has no default value.`);
  return v;
}
