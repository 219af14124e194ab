/**
 * CRC32C (Castagnoli), the checksum of Kafka record batches.
 *
 * Uses @node-rs/crc32's SIMD implementation when its native binary is installed for this platform,
 * and a slicing-by-8 table implementation otherwise. Both give identical results; the test suite
 * checks the fallback against the native one.
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

function loadNative(): Crc32cFn | null {
  if (process.env.SLUICE_CRC32C === 'portable') return null;
  try {
    const require = createRequire(import.meta.url);
    const mod = require('@node-rs/crc32') as { crc32c: (d: Uint8Array, i?: number) => number };
    // Guard against a binary that loads but computes something else.
    if (mod.crc32c(Buffer.from('123456789')) !== 0xe3069283) return null;
    return (d, i) => mod.crc32c(d, i) >>> 0;
  } catch {
    return null;
  }
}

const native = loadNative();

/** Which implementation `crc32c` uses: 'native' (SIMD via napi) or 'portable'. */
export const crc32cImplementation: 'native' | 'portable' = native ? 'native' : 'portable';

/** CRC32C of `data`, optionally continuing from a previous checksum `initial`. */
export const crc32c: Crc32cFn = native ?? crc32cPortable;
