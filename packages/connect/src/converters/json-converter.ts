/**
 * Kafka's `JsonConverter`. With `schemas.enable=true` (the default) every message is the envelope
 * `{"schema": …, "payload": …}` in Kafka's schema JSON (`type`, `fields` with `field`, `items`,
 * `keys`/`values`, `optional`, `name`, `version`, `doc`, `parameters`, `default`); with it off,
 * values are plain JSON and read back schemaless. INT64 values are Java longs: integers beyond
 * 2^53 are read and written exactly, as bigint (plain JSON.parse when no number is that long).
 */
import { DataException, DATE_LOGICAL, TIME_LOGICAL, TIMESTAMP_LOGICAL, type Schema, type SchemaAndValue, type SchemaType } from '../data/schema.js';
import { parseExactJson, stringifyExactJson } from '../data/exact-json.js';
import type { Converter } from './converter.js';

type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json };

/** A run of 16+ digits may be an integer a JavaScript number cannot hold exactly. */
const LONG_DIGITS = /\d{16}/;

const DAY_MS = 86_400_000;

export function schemaToJson(schema: Schema): { [k: string]: Json } {
  const out: { [k: string]: Json } = { type: schema.type };
  if (schema.type === 'struct') out.fields = (schema.fields ?? []).map((f) => ({ ...schemaToJson(f.schema), field: f.name }));
  if (schema.type === 'array' && schema.valueSchema) out.items = schemaToJson(schema.valueSchema);
  if (schema.type === 'map') {
    if (schema.keySchema) out.keys = schemaToJson(schema.keySchema);
    if (schema.valueSchema) out.values = schemaToJson(schema.valueSchema);
  }
  out.optional = schema.optional;
  if (schema.defaultValue !== undefined) out.default = valueToJson(schema, schema.defaultValue);
  if (schema.name !== undefined) out.name = schema.name;
  if (schema.version !== undefined) out.version = schema.version;
  if (schema.doc !== undefined) out.doc = schema.doc;
  if (schema.parameters !== undefined) out.parameters = schema.parameters;
  return out;
}

const TYPES = new Set<SchemaType>(['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string', 'bytes', 'array', 'map', 'struct']);

export function schemaFromJson(json: unknown): Schema | null {
  if (json === null || json === undefined) return null;
  if (typeof json !== 'object' || Array.isArray(json)) throw new DataException('Schema must be a JSON object');
  const o = json as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !TYPES.has(type as SchemaType)) throw new DataException(`Unknown schema type: ${String(type)}`);
  const schema: Schema = { type: type as SchemaType, optional: o.optional === true };
  if (typeof o.name === 'string') schema.name = o.name;
  if (typeof o.version === 'number') schema.version = o.version;
  if (typeof o.doc === 'string') schema.doc = o.doc;
  if (o.parameters && typeof o.parameters === 'object') schema.parameters = o.parameters as Record<string, string>;
  if (type === 'struct') {
    if (!Array.isArray(o.fields)) throw new DataException('Struct schema\'s "fields" argument is not an array.');
    schema.fields = o.fields.map((f: unknown, index) => {
      const fo = f as Record<string, unknown>;
      if (typeof fo.field !== 'string') throw new DataException('Struct schema\'s field name not specified properly');
      return { name: fo.field, index, schema: schemaFromJson(fo)! };
    });
  }
  if (type === 'array') schema.valueSchema = schemaFromJson(o.items) ?? undefined;
  if (type === 'map') {
    schema.keySchema = schemaFromJson(o.keys) ?? undefined;
    schema.valueSchema = schemaFromJson(o.values) ?? undefined;
  }
  if (o.default !== undefined) schema.defaultValue = valueFromJson(schema, o.default as Json);
  return schema;
}

export function valueToJson(schema: Schema | null, value: unknown): Json {
  if (value === null || value === undefined) {
    if (schema && schema.defaultValue !== undefined) return valueToJson(schema, schema.defaultValue);
    if (schema && !schema.optional) throw new DataException('Conversion error: null value for field that is required and has no default value');
    return null;
  }
  if (schema === null) return inferJson(value);
  if (schema.name === TIMESTAMP_LOGICAL || schema.name === TIME_LOGICAL) return value instanceof Date ? value.getTime() % (schema.name === TIME_LOGICAL ? DAY_MS : Infinity) : (value as number);
  if (schema.name === DATE_LOGICAL) return value instanceof Date ? Math.floor(value.getTime() / DAY_MS) : (value as number);
  switch (schema.type) {
    case 'int8': case 'int16': case 'int32': case 'int64': case 'float32': case 'float64':
      if (typeof value === 'bigint') return schema.type === 'int64' ? value : Number(value);
      if (typeof value !== 'number') throw new DataException(`Invalid Java object for schema with type ${schema.type.toUpperCase()}: ${typeof value}`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new DataException(`Invalid Java object for schema with type BOOLEAN: ${typeof value}`);
      return value;
    case 'string':
      if (typeof value !== 'string') throw new DataException(`Invalid Java object for schema with type STRING: ${typeof value}`);
      return value;
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw new DataException(`Invalid Java object for schema with type BYTES: ${typeof value}`);
      return Buffer.from(value).toString('base64');
    case 'array':
      if (!Array.isArray(value)) throw new DataException('Invalid Java object for schema with type ARRAY');
      return value.map((v) => valueToJson(schema.valueSchema ?? null, v));
    case 'map': {
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
      if (schema.keySchema && schema.keySchema.type !== 'string') return entries.map(([k, v]) => [valueToJson(schema.keySchema!, k), valueToJson(schema.valueSchema ?? null, v)]);
      return Object.fromEntries(entries.map(([k, v]) => [String(k), valueToJson(schema.valueSchema ?? null, v)]));
    }
    case 'struct': {
      if (typeof value !== 'object') throw new DataException('Invalid Java object for schema with type STRUCT');
      const o = value as Record<string, unknown>;
      const out: { [k: string]: Json } = {};
      for (const f of schema.fields ?? []) out[f.name] = valueToJson(f.schema, o[f.name]);
      return out;
    }
  }
}

function inferJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return value;
  if (Array.isArray(value)) return value.map(inferJson);
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), inferJson(v)]));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, inferJson(v)]));
  return value as Json;
}

export function valueFromJson(schema: Schema | null, json: Json): unknown {
  if (schema === null) return json;
  if (json === null) {
    if (schema.defaultValue !== undefined) return schema.defaultValue;
    if (schema.optional) return null;
    throw new DataException(`Invalid null value for required ${schema.type.toUpperCase()} field`);
  }
  if (schema.name === TIMESTAMP_LOGICAL) return new Date(json as number);
  if (schema.name === DATE_LOGICAL) return new Date((json as number) * DAY_MS);
  if (schema.name === TIME_LOGICAL) return new Date(json as number);
  switch (schema.type) {
    case 'int8': case 'int16': case 'int32': case 'int64': case 'float32': case 'float64':
      if (typeof json === 'bigint') return schema.type === 'int64' ? json : Number(json);
      if (typeof json !== 'number') throw new DataException(`Invalid JSON for ${schema.type} field: ${stringifyExactJson(json)}`);
      return json;
    case 'boolean':
      if (typeof json !== 'boolean') throw new DataException(`Invalid JSON for boolean field: ${JSON.stringify(json)}`);
      return json;
    case 'string':
      if (typeof json !== 'string') throw new DataException(`Invalid JSON for string field: ${JSON.stringify(json)}`);
      return json;
    case 'bytes':
      if (typeof json !== 'string') throw new DataException('Invalid JSON for bytes field: expected a base64 string');
      return Buffer.from(json, 'base64');
    case 'array':
      if (!Array.isArray(json)) throw new DataException('Invalid JSON for array field');
      return json.map((v) => valueFromJson(schema.valueSchema ?? null, v));
    case 'map':
      if (Array.isArray(json)) return new Map(json.map((pair) => { const [k, v] = pair as Json[]; return [valueFromJson(schema.keySchema ?? null, k), valueFromJson(schema.valueSchema ?? null, v)]; }));
      if (typeof json !== 'object') throw new DataException('Invalid JSON for map field');
      return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, valueFromJson(schema.valueSchema ?? null, v)]));
    case 'struct': {
      if (typeof json !== 'object' || Array.isArray(json)) throw new DataException('Invalid JSON for struct field');
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) out[f.name] = valueFromJson(f.schema, (json as Record<string, Json>)[f.name] ?? null);
      return out;
    }
  }
}

export class JsonConverter implements Converter {
  private schemasEnabled = true;

  configure(configs: Record<string, string>, _isKey = false): void {
    const v = configs['schemas.enable'];
    if (v !== undefined) {
      if (!/^(true|false)$/i.test(v.trim())) throw new DataException(`Invalid value ${v} for configuration schemas.enable: Expected value to be either true or false`);
      this.schemasEnabled = v.trim().toLowerCase() === 'true';
    }
  }

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema === null && (value === null || value === undefined)) return null;
    const payload = valueToJson(schema, value);
    const json = this.schemasEnabled ? { schema: schema === null ? null : schemaToJson(schema), payload } : payload;
    let text: string;
    try {
      text = JSON.stringify(json);
    } catch {
      text = stringifyExactJson(json); // a bigint in the data (JSON.stringify refuses them)
    }
    return Buffer.from(text, 'utf8');
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null || bytes.length === 0) return { schema: null, value: null };
    let json: Json;
    try {
      const text = bytes.toString('utf8');
      json = (LONG_DIGITS.test(text) ? parseExactJson(text) : JSON.parse(text)) as Json;
    } catch (err) {
      throw new DataException(`Converting byte[] to Kafka Connect data failed due to serialization error: ${(err as Error).message}`);
    }
    if (!this.schemasEnabled) return { schema: null, value: json };
    if (json === null || typeof json !== 'object' || Array.isArray(json) || !('schema' in json) || !('payload' in json) || Object.keys(json).length !== 2) {
      throw new DataException(
        'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.',
      );
    }
    const schema = schemaFromJson(json.schema);
    return { schema, value: valueFromJson(schema, json.payload) };
  }
}
