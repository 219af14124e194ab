/**
 * CRC32C (Castagnoli), the checksum of Kafka record batches.
 *
 * Three implementations, fastest first, all giving identical results:
 * - `sse42`: this package's Node-API addon (native/crc32c.c, built by node-gyp at install), three
 *   interleaved streams of the SSE4.2 crc32 instruction;
 * - `node-rs`: @node-rs/crc32's prebuilt binary (one stream: about a third of the speed on large
 *   batches), used when the addon was not built or the CPU lacks SSE4.2;
 * - `portable`: slicing-by-8 tables in TypeScript.
 * The test suite checks each one that loads against the others. SLUICE_CRC32C=node-rs|portable
 * forces a slower one (for tests and benchmarks).
 */
import { createRequire } from 'node:module';

type Crc32cFn = (data: Uint8Array, initial?: number) => number;

const POLY = 0x82f63b78;
const TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[0][i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) t[k][i] = (t[0][t[k - 1][i] & 0xff] ^ (t[k - 1][i] >>> 8)) >>> 0;
  }
  return t;
})();

/** Portable CRC32C; `initial` continues a previous checksum (as the native function does). */
export function crc32cPortable(data: Uint8Array, initial = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = ~initial >>> 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ crc;
    crc =
      t7[a & 0xff] ^
      t6[(a >>> 8) & 0xff] ^
      t5[(a >>> 16) & 0xff] ^
      t4[a >>> 24] ^
      t3[data[i + 4]] ^
      t2[data[i + 5]] ^
      t1[data[i + 6]] ^
      t0[data[i + 7]];
    i += 8;
  }
  while (i < n) crc = t0[(crc ^ data[i++]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

type NativeModule = { crc32c: (d: Uint8Array, i?: number) => number; available?: boolean };
const require = createRequire(import.meta.url);

/** Loads a native implementation and guards against a binary that loads but computes something else. */
function load(id: string, exportsAvailable: boolean): Crc32cFn | null {
  try {
    const mod = require(id) as NativeModule;
    if (exportsAvailable && mod.available !== true) return null;
    if (mod.crc32c(Buffer.from('123456789')) >>> 0 !== 0xe3069283) return null;
    const big = Buffer.alloc(4096, 0xa5);
    if (mod.crc32c(big) >>> 0 !== crc32cPortable(big)) return null;
    return exportsAvailable ? mod.crc32c : (d, i) => mod.crc32c(d, i) >>> 0;
  } catch {
    return null;
  }
}

export type Crc32cImplementation = 'sse42' | 'node-rs' | 'portable';

/** @node-rs/crc32 when its binary loads, for comparing implementations in tests and benchmarks. */
export const crc32cNodeRs: Crc32cFn | null = load('@node-rs/crc32', false);

function choose(): { name: Crc32cImplementation; fn: Crc32cFn } {
  const forced = process.env.SLUICE_CRC32C;
  if (forced === 'portable') return { name: 'portable', fn: crc32cPortable };
  // Relative to dist/src/crc32c.js: the package's build/ directory, where node-gyp puts the addon.
  const sse42 = forced === 'node-rs' ? null : load('../../build/Release/sluice_crc32c.node', true);
  if (sse42) return { name: 'sse42', fn: sse42 };
  if (crc32cNodeRs) return { name: 'node-rs', fn: crc32cNodeRs };
  return { name: 'portable', fn: crc32cPortable };
}

const chosen = choose();

/** Which implementation `crc32c` uses (see the top of this file). */
export const crc32cImplementation: Crc32cImplementation = chosen.name;

/** CRC32C of `data`, optionally continuing from a previous checksum `initial`. */
export const crc32c: Crc32cFn = chosen.fn;
