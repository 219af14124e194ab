/**
 * Turning one spool file into Connect values: CSV (csv-parse; header row or columnNN names),
 * JSON lines (one object per line) and plain lines. With schema generation the value schema is
 * inferred from the whole file: a column is int64, float64 or boolean when every non-empty value
 * parses as one, else string.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { DataException, Schemas, type Schema, type SchemaType, type StructValue } from '../../data/schema.js';

export interface ParsedFile {
  valueSchema: Schema | null;
  values: unknown[];
}

export interface CsvOptions {
  header: boolean;
  separator: string;
  quote: string;
  nullIndicator: string;
  inferSchema: boolean;
}

function inferType(values: Array<string | null>): SchemaType {
  const present = values.filter((v): v is string => v !== null && v !== '');
  if (!present.length) return 'string';
  if (present.every((v) => /^[-+]?\d+$/.test(v) && Number.isSafeInteger(Number(v)))) return 'int64';
  if (present.every((v) => /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v))) return 'float64';
  if (present.every((v) => /^(true|false)$/i.test(v))) return 'boolean';
  return 'string';
}

function typed(value: string | null, type: SchemaType): unknown {
  if (value === null || (value === '' && type !== 'string')) return null;
  if (type === 'int64' || type === 'float64') return Number(value);
  if (type === 'boolean') return value.toLowerCase() === 'true';
  return value;
}

export function readCsv(text: string, options: CsvOptions): ParsedFile {
  let rows: Array<Array<string | null>>;
  try {
    rows = parseCsv(text, { delimiter: options.separator, quote: options.quote, skip_empty_lines: true, relax_column_count: false, cast: false }) as string[][];
  } catch (err) {
    throw new DataException(`CSV parse error: ${(err as Error).message}`);
  }
  if (options.nullIndicator === 'EMPTY_SEPARATORS' || options.nullIndicator === 'BOTH') rows = rows.map((r) => r.map((v) => (v === '' ? null : v)));
  if (!rows.length) return { valueSchema: null, values: [] };
  const width = rows[0].length;
  const names = options.header ? (rows.shift() as string[]).map((n) => n!.trim()) : Array.from({ length: width }, (_, i) => `column${String(i + 1).padStart(2, '0')}`);
  if (new Set(names).size !== names.length) throw new DataException(`CSV header has duplicate column names: ${names.join(',')}`);
  const types = names.map((_, i) => (options.inferSchema ? inferType(rows.map((r) => r[i])) : 'string'));
  const valueSchema: Schema = { type: 'struct', optional: false, name: 'com.github.jcustenborder.kafka.connect.model.Value', fields: names.map((name, index) => ({ name, index, schema: { type: types[index], optional: true } })) };
  const values = rows.map((row) => {
    const v: StructValue = {};
    names.forEach((name, i) => (v[name] = typed(row[i] ?? null, types[i])));
    return v;
  });
  return { valueSchema, values };
}

function jsonType(values: unknown[]): Schema {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (!present.length) return Schemas.OPTIONAL_STRING;
  if (present.every((v) => typeof v === 'boolean')) return Schemas.OPTIONAL_BOOLEAN;
  if (present.every((v) => typeof v === 'number' && Number.isInteger(v))) return Schemas.OPTIONAL_INT64;
  if (present.every((v) => typeof v === 'number')) return Schemas.OPTIONAL_FLOAT64;
  if (present.every((v) => typeof v === 'string')) return Schemas.OPTIONAL_STRING;
  throw new DataException('JSON field has values of mixed or nested types; disable schema.generation.enabled to read it schemaless');
}

export function readJsonLines(text: string, inferSchema: boolean): ParsedFile {
  const values: StructValue[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new DataException(`line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DataException(`line ${i + 1} is not a JSON object`);
    values.push(v as StructValue);
  });
  if (!inferSchema) return { valueSchema: null, values };
  const names = [...new Set(values.flatMap((v) => Object.keys(v)))];
  const valueSchema: Schema = { type: 'struct', optional: false, name: 'com.github.jcustenborder.kafka.connect.model.Value', fields: names.map((name, index) => ({ name, index, schema: jsonType(values.map((v) => v[name])) })) };
  return { valueSchema, values: values.map((v) => Object.fromEntries(names.map((n) => [n, v[n] ?? null]))) };
}

export function readLines(text: string): ParsedFile {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return { valueSchema: Schemas.STRING, values: lines };
}
