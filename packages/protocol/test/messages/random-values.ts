/**
 * Random message values generated from the declarations, shaped exactly as the decoder returns
 * them: every field present, fields the version lacks set to their defaults.
 */
import { inRange, type VersionRange } from '../../src/messages/declarations/types.js';
import type { FieldModel, StructModel, MessageModel } from '../../src/messages/codegen/model.js';
import type { TaggedField } from '../../src/messages/runtime.js';

export type Rng = () => number;

/** mulberry32: small, fast, deterministic. */
export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Value = unknown;
type Obj = Record<string, unknown>;

const isStruct = (e: FieldModel['elem']): e is StructModel => typeof e !== 'string';
const STRINGS = ['', 'a', 'topic-1', 'üñí', '日本語', '🚀x', 'x'.repeat(70), 'é'.repeat(40)];

export function defaultValue(f: FieldModel): Value {
  const d = f.defaultValue;
  if (d !== 'empty') return d;
  if (f.isArray) return [];
  if (isStruct(f.elem)) return defaultStruct(f.elem);
  return Buffer.alloc(0);
}

export function defaultStruct(s: StructModel): Obj {
  const o: Obj = {};
  for (const f of s.fields) o[f.name] = defaultValue(f);
  return o;
}

export class ValueGenerator {
  private readonly rng: Rng;
  /** Flexible versions of the message being generated. */
  private flexible: VersionRange = { min: 0, max: -1 };
  constructor(rng: Rng) {
    this.rng = rng;
  }

  /** A random value of message `m` at version `v`. */
  message(m: MessageModel, v: number): Obj {
    this.flexible = m.flexible;
    return this.struct(m.root, v);
  }

  int(n: number): number {
    return Math.floor(this.rng() * n);
  }

  bytes(max: number): Buffer {
    const b = Buffer.alloc(this.int(max + 1));
    for (let i = 0; i < b.length; i++) b[i] = this.int(256);
    return b;
  }

  scalar(t: string): Value {
    const r = this.rng;
    switch (t) {
      case 'bool': return r() < 0.5;
      case 'int8': return this.int(256) - 128;
      case 'int16': return this.int(65536) - 32768;
      case 'uint16': return this.int(65536);
      case 'int32': return r() < 0.2 ? -1 : (this.int(2 ** 32) | 0);
      case 'uint32': return this.int(2 ** 32);
      case 'int64': return r() < 0.2 ? -1n : BigInt.asIntN(64, (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32)));
      case 'float64': return r() < 0.1 ? 0 : (r() - 0.5) * 1e9;
      case 'string': return STRINGS[this.int(STRINGS.length)];
      case 'bytes': case 'records': return this.bytes(40);
      case 'uuid': return Buffer.from(Array.from({ length: 16 }, () => this.int(256))).toString('base64url');
      default: throw new Error(`unknown scalar ${t}`);
    }
  }

  private fieldValue(f: FieldModel, v: number, depth: number): Value {
    if (inRange(f.nullable, v) && this.rng() < 0.25) return null;
    if (f.isArray) {
      const n = depth > 4 ? 0 : this.int(4);
      const out: Value[] = [];
      for (let i = 0; i < n; i++) out.push(isStruct(f.elem) ? this.struct(f.elem, v, depth + 1) : this.scalar(f.elem));
      return out;
    }
    if (isStruct(f.elem)) return this.struct(f.elem, v, depth + 1);
    return this.scalar(f.elem);
  }

  struct(s: StructModel, v: number, depth = 0): Obj {
    const flexible = inRange(this.flexible, v);
    const o: Obj = {};
    for (const f of s.fields) {
      if (!inRange(f.versions, v)) o[f.name] = defaultValue(f);
      else if (f.tag !== undefined && this.rng() < 0.4) o[f.name] = defaultValue(f);
      else o[f.name] = this.fieldValue(f, v, depth);
    }
    if (flexible && this.rng() < 0.3) {
      const known = new Set(s.fields.filter((f) => f.tag !== undefined).map((f) => f.tag));
      const tags = new Set<number>();
      const n = 1 + this.int(2);
      while (tags.size < n) {
        const t = this.rng() < 0.5 ? this.int(8) : 100 + this.int(20000);
        if (!known.has(t)) tags.add(t);
      }
      const unknown: TaggedField[] = [...tags].sort((a, b) => a - b).map((tag) => ({ tag, data: this.bytes(12) }));
      o.unknownTaggedFields = unknown;
    }
    return o;
  }
}

