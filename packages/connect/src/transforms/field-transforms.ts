/**
 * The field-level SMTs: InsertField, ReplaceField, MaskField, ValueToKey, ExtractField. Each
 * works with a schema (struct values, and a derived schema) or schemaless (plain objects).
 */
import { ConfigDef, ConfigException } from '../api/config-def.js';
import { DataException, Schemas, asOptional, field, type ConnectRecord, type Schema, type SinkRecord, type StructValue } from '../data/schema.js';
import type { Transformation } from './transformation.js';
import { listConfig, partSchema, partValue, requireObject, requireStructSchema, requiredConfig, withPart, type RecordPart } from './record-part.js';

abstract class PartTransform implements Transformation {
  protected abstract readonly part: RecordPart;
  abstract config(): ConfigDef;
  abstract configure(props: Record<string, string>): void;
  abstract apply<R extends ConnectRecord>(record: R): R | null;
  close(): void {}
}

interface InsertSpec { name: string; optional: boolean }

function insertSpec(text: string | undefined): InsertSpec | null {
  if (!text) return null;
  if (text.endsWith('!')) return { name: text.slice(0, -1), optional: false };
  if (text.endsWith('?')) return { name: text.slice(0, -1), optional: true };
  return { name: text, optional: true };
}

const insertFieldDef = new ConfigDef()
  .define({ name: 'topic.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for the Kafka topic. Suffix with ! to make it required, ? optional (default)' })
  .define({ name: 'partition.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for the Kafka partition' })
  .define({ name: 'offset.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for the Kafka offset (sink connectors only)' })
  .define({ name: 'timestamp.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for the record timestamp' })
  .define({ name: 'static.field', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Field name for a static data field' })
  .define({ name: 'static.value', type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation: 'Static field value' });

abstract class InsertField extends PartTransform {
  private topic: InsertSpec | null = null;
  private partition: InsertSpec | null = null;
  private offset: InsertSpec | null = null;
  private timestamp: InsertSpec | null = null;
  private staticField: InsertSpec | null = null;
  private staticValue: string | null = null;

  config(): ConfigDef { return insertFieldDef; }

  configure(props: Record<string, string>): void {
    insertFieldDef.parse(props);
    this.topic = insertSpec(props['topic.field']);
    this.partition = insertSpec(props['partition.field']);
    this.offset = insertSpec(props['offset.field']);
    this.timestamp = insertSpec(props['timestamp.field']);
    this.staticField = insertSpec(props['static.field']);
    this.staticValue = props['static.value'] ?? null;
    if (!this.topic && !this.partition && !this.offset && !this.timestamp && !this.staticField) {
      throw new ConfigException(null, 'No field insertion configured');
    }
    if (this.staticField && this.staticValue === null) throw new ConfigException('static.value', 'No value specified for static field: ' + this.staticField.name);
  }

  apply<R extends ConnectRecord>(record: R): R | null {
    const value = partValue(record, this.part);
    if (value === null || value === undefined) return record; // tombstones pass through
    const schema = partSchema(record, this.part);
    const kafkaOffset = (record as Partial<SinkRecord>).kafkaOffset;
    const additions: Array<[InsertSpec, Schema, unknown]> = [];
    if (this.topic) additions.push([this.topic, Schemas.STRING, record.topic]);
    if (this.partition) additions.push([this.partition, Schemas.INT32, record.kafkaPartition]);
    if (this.offset) {
      if (kafkaOffset === undefined) throw new DataException('Only SinkRecord supported for offset insertion');
      additions.push([this.offset, Schemas.INT64, kafkaOffset]);
    }
    if (this.timestamp) additions.push([this.timestamp, Schemas.TIMESTAMP, record.timestamp]);
    if (this.staticField) additions.push([this.staticField, Schemas.STRING, this.staticValue]);
    if (schema === null) {
      const out = { ...requireObject(value, 'field insertion') };
      for (const [spec, , v] of additions) if (v !== null && v !== undefined) out[spec.name] = v;
      return withPart(record, this.part, null, out);
    }
    requireStructSchema(schema, 'field insertion');
    const fields = [...(schema.fields ?? [])];
    const out: StructValue = { ...(value as StructValue) };
    for (const [spec, s, v] of additions) {
      const fs = spec.optional ? asOptional(s) : s;
      fields.push({ name: spec.name, index: fields.length, schema: fs });
      out[spec.name] = spec.name === this.timestamp?.name && typeof v === 'number' ? new Date(v) : v ?? null;
    }
    return withPart(record, this.part, { ...schema, fields }, out);
  }
}

const replaceFieldDef = new ConfigDef()
  .define({ name: 'exclude', type: 'LIST', defaultValue: [], importance: 'MEDIUM', documentation: 'Fields to exclude. This takes precedence over the fields to include.' })
  .define({ name: 'include', type: 'LIST', defaultValue: [], importance: 'MEDIUM', documentation: 'Fields to include. If specified, only these fields will be used.' })
  .define({ name: 'renames', type: 'LIST', defaultValue: [], importance: 'MEDIUM', documentation: 'Field rename mappings, as old:new pairs' });

abstract class ReplaceField extends PartTransform {
  private exclude = new Set<string>();
  private include = new Set<string>();
  private renames = new Map<string, string>();

  config(): ConfigDef { return replaceFieldDef; }

  configure(props: Record<string, string>): void {
    replaceFieldDef.parse(props);
    this.exclude = new Set(listConfig(props.exclude ?? props.blacklist));
    this.include = new Set(listConfig(props.include ?? props.whitelist));
    for (const pair of listConfig(props.renames)) {
      const [from, to, extra] = pair.split(':');
      if (!from || !to || extra !== undefined) throw new ConfigException('renames', `Invalid rename mapping: ${pair}`);
      this.renames.set(from, to);
    }
  }

  private keep(name: string): boolean {
    return !this.exclude.has(name) && (this.include.size === 0 || this.include.has(name));
  }

  apply<R extends ConnectRecord>(record: R): R | null {
    const value = partValue(record, this.part);
    if (value === null || value === undefined) return record;
    const schema = partSchema(record, this.part);
    const out: StructValue = {};
    if (schema === null) {
      for (const [k, v] of Object.entries(requireObject(value, 'field replacement'))) if (this.keep(k)) out[this.renames.get(k) ?? k] = v;
      return withPart(record, this.part, null, out);
    }
    requireStructSchema(schema, 'field replacement');
    const fields = (schema.fields ?? []).filter((f) => this.keep(f.name)).map((f, index) => ({ name: this.renames.get(f.name) ?? f.name, index, schema: f.schema }));
    for (const f of schema.fields ?? []) if (this.keep(f.name)) out[this.renames.get(f.name) ?? f.name] = (value as StructValue)[f.name];
    return withPart(record, this.part, { ...schema, fields }, out);
  }
}

const maskFieldDef = new ConfigDef()
  .define({ name: 'fields', type: 'LIST', importance: 'HIGH', documentation: 'Names of fields to mask.' })
  .define({ name: 'replacement', type: 'STRING', defaultValue: null, importance: 'LOW', documentation: 'Custom value replacement applied to all fields' });

function maskedValue(v: unknown, replacement: string | null): unknown {
  if (typeof v === 'string') return replacement ?? '';
  if (typeof v === 'number') {
    if (replacement === null) return 0;
    const n = Number(replacement);
    if (!Number.isFinite(n)) throw new DataException(`Unable to convert ${replacement} to number`);
    return n;
  }
  if (typeof v === 'boolean') return replacement === null ? false : replacement === 'true';
  if (v instanceof Date) return new Date(0);
  if (Array.isArray(v)) return [];
  if (Buffer.isBuffer(v)) return Buffer.alloc(0);
  if (v !== null && typeof v === 'object') return {};
  return v;
}

abstract class MaskField extends PartTransform {
  private fields: string[] = [];
  private replacement: string | null = null;

  config(): ConfigDef { return maskFieldDef; }

  configure(props: Record<string, string>): void {
    maskFieldDef.parse(props);
    this.fields = listConfig(props.fields);
    this.replacement = props.replacement ?? null;
  }

  apply<R extends ConnectRecord>(record: R): R | null {
    const value = partValue(record, this.part);
    if (value === null || value === undefined) return record;
    const schema = partSchema(record, this.part);
    const obj = schema === null ? requireObject(value, 'masking fields') : (requireStructSchema(schema, 'masking fields'), value as StructValue);
    const out = { ...obj };
    for (const f of this.fields) if (f in out) out[f] = maskedValue(out[f], this.replacement);
    return withPart(record, this.part, schema, out);
  }
}

const valueToKeyDef = new ConfigDef().define({ name: 'fields', type: 'LIST', importance: 'HIGH', documentation: 'Field names on the record value to extract as the record key.' });

/** Sets the key to a struct/map of some of the value's fields. */
export class ValueToKey implements Transformation {
  private fields: string[] = [];
  config(): ConfigDef { return valueToKeyDef; }
  configure(props: Record<string, string>): void {
    valueToKeyDef.parse(props);
    this.fields = listConfig(props.fields);
    if (!this.fields.length) throw new ConfigException('fields', 'Invalid value [] for configuration fields: empty list is not allowed');
  }
  apply<R extends ConnectRecord>(record: R): R | null {
    if (record.value === null || record.value === undefined) return record;
    const schema = record.valueSchema;
    const key: StructValue = {};
    if (schema === null) {
      const obj = requireObject(record.value, 'copying fields from value to key');
      for (const f of this.fields) key[f] = obj[f];
      return { ...record, keySchema: null, key };
    }
    requireStructSchema(schema, 'copying fields from value to key');
    const fields = this.fields.map((name, index) => {
      const f = field(schema, name);
      if (!f) throw new DataException(`Field does not exist: ${name}`);
      key[name] = (record.value as StructValue)[name];
      return { name, index, schema: f.schema };
    });
    return { ...record, keySchema: { type: 'struct', optional: false, fields }, key };
  }
  close(): void {}
}

const extractFieldDef = new ConfigDef().define({ name: 'field', type: 'STRING', importance: 'MEDIUM', documentation: 'Field name to extract.' });

abstract class ExtractField extends PartTransform {
  private field = '';
  config(): ConfigDef { return extractFieldDef; }
  configure(props: Record<string, string>): void {
    this.field = requiredConfig(props, 'field');
  }
  apply<R extends ConnectRecord>(record: R): R | null {
    const value = partValue(record, this.part);
    const schema = partSchema(record, this.part);
    if (schema === null) {
      if (value === null || value === undefined) return withPart(record, this.part, null, null);
      return withPart(record, this.part, null, requireObject(value, 'field extraction')[this.field] ?? null);
    }
    requireStructSchema(schema, 'field extraction');
    const f = field(schema, this.field);
    if (!f) throw new DataException(`Unknown field: ${this.field}`);
    return withPart(record, this.part, f.schema, value === null || value === undefined ? null : (value as StructValue)[this.field]);
  }
}

export class InsertFieldKey extends InsertField { protected readonly part = 'key' as const; }
export class InsertFieldValue extends InsertField { protected readonly part = 'value' as const; }
export class ReplaceFieldKey extends ReplaceField { protected readonly part = 'key' as const; }
export class ReplaceFieldValue extends ReplaceField { protected readonly part = 'value' as const; }
export class MaskFieldKey extends MaskField { protected readonly part = 'key' as const; }
export class MaskFieldValue extends MaskField { protected readonly part = 'value' as const; }
export class ExtractFieldKey extends ExtractField { protected readonly part = 'key' as const; }
export class ExtractFieldValue extends ExtractField { protected readonly part = 'value' as const; }
