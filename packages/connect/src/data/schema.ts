/**
 * Connect's data model: schemas (Kafka Connect's `Schema`), values that follow them, and
 * records as connectors see them. Struct values are plain objects keyed by field name; int64
 * values are JS numbers when exact (up to 2^53) and bigints beyond (a Java long's whole range),
 * bytes are Buffers, logical Date/Time/Timestamp values are `Date`s.
 */
export type SchemaType = 'int8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'boolean' | 'string' | 'bytes' | 'array' | 'map' | 'struct';

export interface Field {
  name: string;
  index: number;
  schema: Schema;
}

export interface Schema {
  type: SchemaType;
  optional: boolean;
  name?: string;
  version?: number;
  doc?: string;
  defaultValue?: unknown;
  parameters?: Record<string, string>;
  fields?: Field[];
  keySchema?: Schema;
  valueSchema?: Schema;
}

export type StructValue = Record<string, unknown>;

export interface SchemaAndValue {
  schema: Schema | null;
  value: unknown;
}

export const TIMESTAMP_LOGICAL = 'org.apache.kafka.connect.data.Timestamp';
export const DATE_LOGICAL = 'org.apache.kafka.connect.data.Date';
export const TIME_LOGICAL = 'org.apache.kafka.connect.data.Time';

export function primitive(type: SchemaType, optional = false): Schema {
  return { type, optional };
}

export const Schemas = {
  STRING: primitive('string'),
  OPTIONAL_STRING: primitive('string', true),
  INT32: primitive('int32'),
  INT64: primitive('int64'),
  OPTIONAL_INT64: primitive('int64', true),
  FLOAT64: primitive('float64'),
  OPTIONAL_FLOAT64: primitive('float64', true),
  BOOLEAN: primitive('boolean'),
  OPTIONAL_BOOLEAN: primitive('boolean', true),
  BYTES: primitive('bytes'),
  OPTIONAL_BYTES: primitive('bytes', true),
  TIMESTAMP: { type: 'int64', optional: false, name: TIMESTAMP_LOGICAL, version: 1 } as Schema,
  OPTIONAL_TIMESTAMP: { type: 'int64', optional: true, name: TIMESTAMP_LOGICAL, version: 1 } as Schema,
} as const;

export function structSchema(fields: Array<[string, Schema]>, options: { name?: string; optional?: boolean } = {}): Schema {
  return { type: 'struct', optional: options.optional ?? false, ...(options.name ? { name: options.name } : {}), fields: fields.map(([name, schema], index) => ({ name, index, schema })) };
}

export function field(schema: Schema, name: string): Field | undefined {
  return schema.fields?.find((f) => f.name === name);
}

/** A schema (or none) the same as `s` but optional. */
export function asOptional(s: Schema): Schema {
  return s.optional ? s : { ...s, optional: true };
}

export interface Header {
  key: string;
  schema: Schema | null;
  value: unknown;
}

/** What every Connect record has: where it goes or came from, and its key, value and headers. */
export interface ConnectRecord {
  topic: string;
  kafkaPartition: number | null;
  keySchema: Schema | null;
  key: unknown;
  valueSchema: Schema | null;
  value: unknown;
  timestamp: number | null;
  headers: Header[];
}

/** A record a source task produced; `sourcePartition`/`sourceOffset` say where it was read. */
export interface SourceRecord extends ConnectRecord {
  sourcePartition: Record<string, unknown>;
  sourceOffset: Record<string, unknown>;
}

/** A record a sink task receives, with its Kafka coordinates. */
export interface SinkRecord extends ConnectRecord {
  kafkaPartition: number;
  kafkaOffset: number;
  /** The topic and partition it was consumed from, even after a transform renamed `topic`. */
  originalTopic: string;
  originalKafkaPartition: number;
  originalKafkaOffset: number;
}

export function sourceRecord(init: Partial<SourceRecord> & Pick<SourceRecord, 'topic' | 'value' | 'sourcePartition' | 'sourceOffset'>): SourceRecord {
  return {
    kafkaPartition: null,
    keySchema: null,
    key: null,
    valueSchema: null,
    timestamp: null,
    headers: [],
    ...init,
  };
}

/** Connect's DataException: a value that does not fit its schema or cannot be converted. */
export class DataException extends Error {
  override name = 'DataException';
}
