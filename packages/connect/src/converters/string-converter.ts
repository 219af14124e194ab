import { DataException, Schemas, type Schema, type SchemaAndValue } from '../data/schema.js';
import type { Converter } from './converter.js';

/** Kafka's `StringConverter`: UTF-8 text (`converter.encoding` picks another Node encoding). */
export class StringConverter implements Converter {
  private encoding: BufferEncoding = 'utf8';

  configure(configs: Record<string, string>, _isKey = false): void {
    const enc = (configs['converter.encoding'] ?? 'UTF-8').toLowerCase().replace(/-/g, '');
    const map: Record<string, BufferEncoding> = { utf8: 'utf8', utf16le: 'utf16le', latin1: 'latin1', iso88591: 'latin1', ascii: 'ascii', usascii: 'ascii' };
    const chosen = map[enc];
    if (!chosen) throw new DataException(`converter.encoding ${configs['converter.encoding']} is not supported (use UTF-8, UTF-16LE, ISO-8859-1 or US-ASCII)`);
    this.encoding = chosen;
  }

  fromConnectData(_topic: string, _schema: Schema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return Buffer.from(value.toString(this.encoding), this.encoding);
    const text = typeof value === 'object' && !(value instanceof Date) ? JSON.stringify(value) : String(value);
    return Buffer.from(text, this.encoding);
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: Schemas.OPTIONAL_STRING, value: bytes === null ? null : bytes.toString(this.encoding) };
  }
}
