/** Kafka's Cast SMT: `spec` is `field:type,…` for struct/map fields or one type for the whole key/value. */
import { ConfigDef, ConfigException } from '../api/config-def.js';
import { DataException, type ConnectRecord, type Schema, type SchemaType, type StructValue } from '../data/schema.js';
import type { Transformation } from './transformation.js';
import { listConfig, partSchema, partValue, requireObject, withPart, type RecordPart } from './record-part.js';

const CASTABLE = new Set<SchemaType>(['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string']);
const castDef = new ConfigDef().define({ name: 'spec', type: 'LIST', importance: 'HIGH', documentation: 'List of fields and the type to cast them to of the form field1:type,field2:type; or a single type for the whole value' });

export function castValue(value: unknown, to: SchemaType): unknown {
  if (value === null || value === undefined) return null;
  if (to === 'string') return value instanceof Date ? value.toISOString() : Buffer.isBuffer(value) ? value.toString('base64') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (to === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') return value !== 0;
    if (typeof value === 'bigint') return value !== 0n;
    if (typeof value === 'string') return value.trim().toLowerCase() === 'true';
    throw new DataException(`Unexpected type in Cast transformation: ${typeof value}`);
  }
  // An int64 (bigint past 2^53, or such digits in a string) narrows as Java's casts do: low bits kept.
  const long = typeof value === 'bigint' ? value : typeof value === 'string' && /^\s*-?\d{16,}\s*$/.test(value) ? BigInt(value.trim()) : null;
  if (long !== null && to !== 'float32' && to !== 'float64') {
    const bits = to === 'int8' ? 8 : to === 'int16' ? 16 : to === 'int32' ? 32 : 64;
    const narrowed = BigInt.asIntN(bits, long);
    return to === 'int64' && !Number.isSafeInteger(Number(narrowed)) ? narrowed : Number(narrowed);
  }
  const n = typeof value === 'boolean' ? (value ? 1 : 0) : value instanceof Date ? value.getTime() : Number(value);
  if (typeof value === 'string' && (value.trim() === '' || !Number.isFinite(n))) throw new DataException(`Value (${value}) cannot be cast to ${to}`);
  if (typeof value === 'object' && !(value instanceof Date)) throw new DataException(`Unexpected type in Cast transformation: ${typeof value}`);
  switch (to) {
    case 'int8': return (Math.trunc(n) << 24) >> 24;
    case 'int16': return (Math.trunc(n) << 16) >> 16;
    case 'int32': return Math.trunc(n) | 0;
    case 'int64': return Math.trunc(n);
    case 'float32': return Math.fround(n);
    default: return n;
  }
}

function parseCastType(text: string): SchemaType {
  const t = text.trim().toLowerCase() as SchemaType;
  if (!CASTABLE.has(t)) throw new ConfigException('spec', `Invalid type found in casting spec: ${text.trim()}`);
  return t;
}

abstract class Cast implements Transformation {
  protected abstract readonly part: RecordPart;
  private whole: SchemaType | null = null;
  private casts = new Map<string, SchemaType>();

  config(): ConfigDef { return castDef; }

  configure(props: Record<string, string>): void {
    const specs = listConfig(props.spec);
    if (!specs.length) throw new ConfigException('spec', 'Must specify at least one field to cast.');
    for (const spec of specs) {
      const colon = spec.lastIndexOf(':');
      if (colon < 0) {
        if (specs.length > 1) throw new ConfigException('spec', 'Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec');
        this.whole = parseCastType(spec);
      } else {
        this.casts.set(spec.slice(0, colon).trim(), parseCastType(spec.slice(colon + 1)));
      }
    }
  }

  apply<R extends ConnectRecord>(record: R): R | null {
    const value = partValue(record, this.part);
    const schema = partSchema(record, this.part);
    if (this.whole) {
      const s: Schema | null = schema === null ? null : { type: this.whole, optional: schema.optional };
      return withPart(record, this.part, s, castValue(value, this.whole));
    }
    if (value === null || value === undefined) return record;
    const obj = schema === null ? requireObject(value, 'casting') : (value as StructValue);
    const out: StructValue = { ...obj };
    for (const [name, to] of this.casts) if (name in out) out[name] = castValue(out[name], to);
    if (schema === null) return withPart(record, this.part, null, out);
    const fields = (schema.fields ?? []).map((f) => {
      const to = this.casts.get(f.name);
      return to ? { ...f, schema: { type: to, optional: f.schema.optional } } : f;
    });
    return withPart(record, this.part, { ...schema, fields }, out);
  }

  close(): void {}
}

export class CastKey extends Cast { protected readonly part = 'key' as const; }
export class CastValue extends Cast { protected readonly part = 'value' as const; }
