/** Converters turn Connect data into record bytes and back (Kafka's `Converter`/`HeaderConverter`). */
import type { Schema, SchemaAndValue } from '../data/schema.js';

export interface Converter {
  /** `configs` are the converter's own settings with the `key.converter.`/`value.converter.` prefix removed. */
  configure(configs: Record<string, string>, isKey: boolean): void;
  fromConnectData(topic: string, schema: Schema | null, value: unknown): Buffer | null;
  toConnectData(topic: string, bytes: Buffer | null): SchemaAndValue;
}

export interface HeaderConverter {
  configure(configs: Record<string, string>): void;
  fromConnectHeader(topic: string, key: string, schema: Schema | null, value: unknown): Buffer | null;
  toConnectHeader(topic: string, key: string, bytes: Buffer | null): SchemaAndValue;
}
