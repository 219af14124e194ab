import { DataException, Schemas, type Schema, type SchemaAndValue } from '../data/schema.js';
import type { Converter } from './converter.js';

/** Kafka's `ByteArrayConverter`: passes bytes through unchanged. */
export class ByteArrayConverter implements Converter {
  configure(): void {}

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema !== null && schema.type !== 'bytes') throw new DataException(`ByteArrayConverter is not compatible with objects of type ${schema.type}`);
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof Uint8Array) return Buffer.from(value);
    throw new DataException(`ByteArrayConverter is not compatible with objects of type ${typeof value}`);
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: Schemas.OPTIONAL_BYTES, value: bytes };
  }
}
