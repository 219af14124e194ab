/**
 * Kafka's default `SimpleHeaderConverter`: strings as their UTF-8 text, other values as their
 * JSON text; reading back parses booleans, numbers, arrays and objects and keeps anything else a
 * string.
 */
import { Schemas, type Schema, type SchemaAndValue } from '../data/schema.js';
import type { HeaderConverter } from './converter.js';

export class SimpleHeaderConverter implements HeaderConverter {
  configure(): void {}

  fromConnectHeader(_topic: string, _key: string, _schema: Schema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    if (typeof value === 'string') return Buffer.from(value, 'utf8');
    if (value instanceof Date) return Buffer.from(value.toISOString(), 'utf8');
    return Buffer.from(JSON.stringify(value), 'utf8');
  }

  toConnectHeader(_topic: string, _key: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null) return { schema: null, value: null };
    const text = bytes.toString('utf8');
    if (text === 'true' || text === 'false') return { schema: Schemas.BOOLEAN, value: text === 'true' };
    if (/^-?\d+$/.test(text) && Number.isSafeInteger(Number(text))) return { schema: Schemas.INT64, value: Number(text) };
    if (/^-?\d+\.\d+([eE][-+]?\d+)?$/.test(text)) return { schema: Schemas.FLOAT64, value: Number(text) };
    if (/^[[{]/.test(text)) {
      try {
        return { schema: null, value: JSON.parse(text) };
      } catch {
        // not JSON after all: a plain string
      }
    }
    return { schema: Schemas.STRING, value: text };
  }
}
