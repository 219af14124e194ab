/**
 * Resolves declarations into a model the generator (and the tests) walk: struct references are
 * bound, versions parsed, defaults turned into typed values, TS names assigned.
 */
import { parseVersions, type FieldDecl, type MessageDecl, type ScalarType, type VersionRange } from '../declarations/types.js';

export const SCALAR_TYPES: ReadonlySet<string> = new Set<ScalarType>([
  'bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid',
]);

export type DefaultValue = number | bigint | boolean | string | null | 'empty';

export interface FieldModel {
  readonly name: string;
  /** Scalar type name, or the struct's model. */
  readonly elem: ScalarType | StructModel;
  readonly isArray: boolean;
  readonly versions: VersionRange;
  readonly nullable: VersionRange;
  readonly tag: number | undefined;
  readonly tagged: VersionRange;
  /** `'empty'` = empty array/bytes/default struct; otherwise the typed default value. */
  readonly defaultValue: DefaultValue;
  readonly hasExplicitDefault: boolean;
  /** False when the declaration pins the field to non-compact encoding (`flexible: 'none'`). */
  readonly compactInFlexible: boolean;
  /** The versions in which this field can appear at all (its versions ∩ its parent's). */
  readonly context: VersionRange;
}

export interface StructModel {
  /** Kafka's struct name, as declared. */
  readonly declName: string;
  /** Name of the generated TS interface. */
  readonly tsName: string;
  readonly fields: FieldModel[];
  /** Versions in which the struct can appear. */
  readonly context: VersionRange;
}

export interface MessageModel {
  readonly decl: MessageDecl;
  readonly tsName: string;
  readonly root: StructModel;
  readonly valid: VersionRange;
  readonly flexible: VersionRange;
  /** Every struct, the root first, in definition order. */
  readonly structs: StructModel[];
}

const intersect = (a: VersionRange, b: VersionRange): VersionRange => ({ min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) });

/** The TS name of a message's generated interface (headers get a `Data` suffix: the public header types are hand-written). */
export function messageTsName(decl: MessageDecl): string {
  return decl.kind === 'header' ? `${decl.name}Data` : decl.name;
}

export function parseDefault(type: ScalarType | 'struct' | 'array', text: string | undefined, nullable: boolean): DefaultValue {
  if (text === 'null' && nullable) return null;
  switch (type) {
    case 'bool':
      return text === 'true';
    case 'int8': case 'int16': case 'uint16': case 'int32': case 'uint32': case 'float64':
      return text === undefined || text === '' ? 0 : Number(text);
    case 'int64':
      return text === undefined || text === '' ? 0n : BigInt(text);
    case 'string':
      return text ?? '';
    case 'uuid':
      return 'AAAAAAAAAAAAAAAAAAAAAA';
    case 'records':
      return null;
    default:
      return 'empty';
  }
}

export function buildModel(decl: MessageDecl): MessageModel {
  const tsName = messageTsName(decl);
  const valid = parseVersions(decl.validVersions);
  const flexible = parseVersions(decl.flexibleVersions);
  const structs: StructModel[] = [];
  const byName = new Map<string, StructModel>();
  const common = new Map((decl.commonStructs ?? []).map((c) => [c.name, c]));
  const structTsName = (n: string): string => (n.startsWith(tsName) ? n : tsName + n);

  function makeStruct(declName: string, tsN: string, fields: readonly FieldDecl[], context: VersionRange): StructModel {
    const s: StructModel = { declName, tsName: tsN, fields: [], context };
    structs.push(s);
    byName.set(declName, s);
    for (const f of fields) s.fields.push(makeField(f, context));
    return s;
  }

  function makeField(f: FieldDecl, parent: VersionRange): FieldModel {
    const isArray = f.type.startsWith('[]');
    const base = isArray ? f.type.slice(2) : f.type;
    const versions = parseVersions(f.versions);
    const context = intersect(versions, parent);
    const nullable = f.nullable ? parseVersions(f.nullable) : { min: 0, max: -1 };
    let elem: ScalarType | StructModel;
    if (SCALAR_TYPES.has(base)) {
      elem = base as ScalarType;
    } else if (f.fields) {
      elem = makeStruct(base, structTsName(base), f.fields, context);
    } else {
      const known = byName.get(base);
      const c = common.get(base);
      if (known) elem = known;
      else if (c) elem = makeStruct(base, structTsName(base), c.fields, parseVersions(c.versions));
      else throw new Error(`${decl.name}.${f.name}: unknown type ${f.type}`);
    }
    const kind = isArray ? 'array' : typeof elem === 'string' ? elem : 'struct';
    return {
      name: f.name,
      elem,
      isArray,
      versions,
      nullable,
      tag: f.tag,
      tagged: f.taggedVersions ? parseVersions(f.taggedVersions) : { min: 0, max: -1 },
      defaultValue: parseDefault(kind, f.default, nullable.max >= nullable.min),
      hasExplicitDefault: f.default !== undefined,
      compactInFlexible: f.flexible !== 'none',
      context,
    };
  }

  const root = makeStruct(decl.name, tsName, decl.fields, valid);
  return { decl, tsName, root, valid, flexible, structs };
}
