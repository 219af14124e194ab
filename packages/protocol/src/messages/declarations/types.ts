/**
 * The declaration format: every Kafka message we speak, described once as data.
 *
 * Version sets are Kafka's range notation: `'3+'` (3 and up), `'0-4'`, `'2'`, or `'none'`.
 * Field names are camelCase (Kafka's PascalCase with the first letter lowered); struct type
 * names stay PascalCase. A field's `type` is a scalar, `[]scalar`, a struct name, or `[]Struct`;
 * a struct's fields are given inline on the first field that uses it, or in `commonStructs`.
 * Defaults are written as Kafka writes them (`'-1'`, `'null'`, `'0x7fffffff'`, `'true'`).
 */
export type Versions = `${number}+` | `${number}-${number}` | `${number}` | 'none';

export type ScalarType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export interface FieldDecl {
  readonly name: string;
  readonly type: string;
  readonly versions: Versions;
  readonly nullable?: Versions;
  /** Tagged fields: tag number and the versions in which the field is tagged. */
  readonly tag?: number;
  readonly taggedVersions?: Versions;
  readonly default?: string;
  /** Overrides the message's flexible versions for this field (only `'none'` occurs). */
  readonly flexible?: Versions;
  readonly fields?: readonly FieldDecl[];
}

export interface StructDecl {
  readonly name: string;
  readonly versions: Versions;
  readonly fields: readonly FieldDecl[];
}

export type MessageKind = 'request' | 'response' | 'header' | 'data';

export interface MessageDecl {
  readonly name: string;
  readonly kind: MessageKind;
  readonly apiKey?: number;
  readonly validVersions: Versions;
  /** The highest valid version is still under development upstream (brokers do not advertise it by default). */
  readonly latestVersionUnstable?: boolean;
  readonly flexibleVersions: Versions;
  readonly fields: readonly FieldDecl[];
  readonly commonStructs?: readonly StructDecl[];
}

/** Inclusive version range; `max` is Infinity for an open range and -1 for `none`. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export function parseVersions(v: Versions): VersionRange {
  if (v === 'none') return { min: 0, max: -1 };
  if (v.endsWith('+')) return { min: Number(v.slice(0, -1)), max: Infinity };
  const dash = v.indexOf('-');
  if (dash < 0) return { min: Number(v), max: Number(v) };
  return { min: Number(v.slice(0, dash)), max: Number(v.slice(dash + 1)) };
}

export function inRange(r: VersionRange, version: number): boolean {
  return version >= r.min && version <= r.max;
}
