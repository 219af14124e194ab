/**
 * Record-layer throughput: CRC32C, each codec, and building/reading a batch of 1 KiB records.
 * Every figure is printed beside Buffer.copy of the same bytes measured in the same run, so the
 * ratios stay meaningful on any machine. Run with `npm run bench -- protocol`.
 */
import { crc32c, crc32cImplementation, crc32cNodeRs, crc32cPortable } from '../src/crc32c.js';
import { Compression, type CompressionName } from '../src/records/batch-header.js';
import { compress, decompress } from '../src/compression/index.js';
import { buildRecordBatch, readRecordBatch, type RecordInput } from '../src/records/record-batch.js';

const MiB = 1024 * 1024;
const MIN_TIME_MS = 400;
// Long enough for the JIT to settle the TypeScript codecs (LZ4, record encode/decode).
const WARM_UP_MS = 300;

declare const gc: (() => void) | undefined;

/** Runs `fn` repeatedly for at least MIN_TIME_MS after a warm-up; returns seconds per call. */
function timePerCall(fn: () => void): number {
  if (typeof gc === 'function') gc();
  const warmUpEnd = performance.now() + WARM_UP_MS;
  while (performance.now() < warmUpEnd) fn();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_TIME_MS) {
    fn();
    calls++;
    elapsed = performance.now() - start;
  }
  return elapsed / 1000 / calls;
}

/** 1 KiB JSON-like records, as a producer of application events would send. */
function jsonRecord(i: number): Buffer {
  const body = {
    id: i,
    type: ['page_view', 'click', 'purchase', 'signup'][i % 4],
    user: { id: `u-${(i * 7919) % 100_000}`, country: ['DE', 'US', 'FR', 'JP', 'BR'][i % 5], plan: i % 3 ? 'free' : 'pro' },
    ts: 1_700_000_000_000 + i * 13,
    session: (i * 2654435761).toString(16).padStart(12, '0'),
    tags: ['web', 'mobile', 'beta', 'eu', 'ab-test-42'].slice(0, 1 + (i % 5)),
    payload: '',
  };
  let text = JSON.stringify(body);
  body.payload = 'lorem ipsum dolor sit amet consectetur '.repeat(30).slice(0, 1024 - text.length);
  text = JSON.stringify(body);
  return Buffer.from(text.slice(0, 1024).padEnd(1024, ' '));
}

const copyTarget = Buffer.allocUnsafe(MiB * 2);
function copySeconds(data: Buffer): number {
  return timePerCall(() => {
    data.copy(copyTarget, 0);
  });
}

const rows: string[][] = [];
function row(...cells: string[]): void {
  rows.push(cells);
}
function fmt(n: number, digits = 1): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(digits);
}
function printTable(header: string[]): void {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  rows.length = 0;
}

// --- CRC32C ------------------------------------------------------------------------------
const crcData = Buffer.alloc(MiB);
for (let i = 0; i < crcData.length; i++) crcData[i] = (i * 2654435761) >>> 24;
const crcCopy = copySeconds(crcData);
const copyGBs = MiB / crcCopy / 1e9;
let sink = 0;
const crcNative = timePerCall(() => {
  sink ^= crc32c(crcData);
});
const crcPortable = timePerCall(() => {
  sink ^= crc32cPortable(crcData);
});
const nodeRs = crc32cNodeRs;
const crcNodeRs = nodeRs
  ? timePerCall(() => {
      sink ^= nodeRs(crcData);
    })
  : null;
console.log(`CRC32C over 1 MiB (crc32c uses: ${crc32cImplementation})`);
row('Buffer.copy (reference)', fmt(copyGBs, 2), '1.00');
row(`crc32c (${crc32cImplementation})`, fmt(MiB / crcNative / 1e9, 2), (crcCopy / crcNative).toFixed(2));
if (crcNodeRs !== null && crc32cImplementation !== 'node-rs') row('@node-rs/crc32', fmt(MiB / crcNodeRs / 1e9, 2), (crcCopy / crcNodeRs).toFixed(2));
row('crc32cPortable', fmt(MiB / crcPortable / 1e9, 2), (crcCopy / crcPortable).toFixed(2));
printTable(['', 'GB/s', 'x copy']);

// --- Codecs --------------------------------------------------------------------------------
const records: Buffer[] = [];
for (let i = 0; i < 1024; i++) records.push(jsonRecord(i));
const codecInput = Buffer.concat(records);
const codecCopy = copySeconds(codecInput);
const codecCopyMBs = codecInput.length / codecCopy / 1e6;
console.log(`\nCodecs on 1 MiB of 1 KiB JSON records (Buffer.copy of the same bytes: ${fmt(codecCopyMBs)} MB/s)`);
for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
  const type = Compression[codec];
  const packed = compress(type, codecInput);
  if (!decompress(type, packed).equals(codecInput)) throw new Error(`${codec} round trip failed`);
  const c = timePerCall(() => {
    compress(type, codecInput);
  });
  const d = timePerCall(() => {
    decompress(type, packed);
  });
  row(
    codec,
    fmt(codecInput.length / c / 1e6),
    (codecCopy / c).toFixed(4),
    fmt(codecInput.length / d / 1e6),
    (codecCopy / d).toFixed(4),
    (codecInput.length / packed.length).toFixed(2),
  );
}
printTable(['codec', 'compress MB/s', 'x copy', 'decompress MB/s', 'x copy', 'ratio']);

// --- Batch build and read ------------------------------------------------------------------
const RECORDS_PER_BATCH = 512;
const inputs: RecordInput[] = records.slice(0, RECORDS_PER_BATCH).map((value, i) => ({
  key: Buffer.from(`user-${i % 97}`),
  value,
  headers: [{ key: 'content-type', value: Buffer.from('application/json') }],
  timestamp: 1_700_000_000_000n + BigInt(i),
}));
console.log(`\nBatch of ${RECORDS_PER_BATCH} x 1 KiB records (build = encode + CRC (+ compress); read = CRC + decode (+ decompress))`);
for (const codec of ['none', 'lz4', 'zstd', 'snappy', 'gzip'] as CompressionName[]) {
  const batch = buildRecordBatch(inputs, { compression: codec });
  if (readRecordBatch(batch).records.length !== RECORDS_PER_BATCH) throw new Error('batch round trip failed');
  const uncompressedSize = codec === 'none' ? batch.length : buildRecordBatch(inputs).length;
  const copy = copySeconds(buildRecordBatch(inputs));
  const build = timePerCall(() => {
    buildRecordBatch(inputs, { compression: codec });
  });
  const read = timePerCall(() => {
    readRecordBatch(batch);
  });
  row(
    codec,
    fmt(RECORDS_PER_BATCH / build / 1e3),
    fmt(RECORDS_PER_BATCH / read / 1e3),
    fmt(RECORDS_PER_BATCH / copy / 1e3),
    (copy / build).toFixed(3),
    (copy / read).toFixed(3),
    fmt(uncompressedSize / build / 1e6),
    fmt(uncompressedSize / read / 1e6),
  );
}
printTable(['codec', 'build krec/s', 'read krec/s', 'copy krec/s', 'build x copy', 'read x copy', 'build MB/s', 'read MB/s']);
// --- Memory under sustained load ------------------------------------------------------------
// Native codecs that hand their output to V8 as external buffers made RSS climb by GBs within
// seconds; this checks that ours stay flat, next to a loop of fresh Buffer copies.
function rssGrowthMB(fn: () => void): number {
  if (typeof gc === 'function') gc();
  const before = process.memoryUsage().rss;
  const end = performance.now() + 1500;
  while (performance.now() < end) fn();
  return (process.memoryUsage().rss - before) / 1e6;
}
console.log('\nRSS growth over 1.5 s of back-to-back 1 MiB operations');
row('Buffer.from copy (reference)', fmt(rssGrowthMB(() => void Buffer.from(codecInput))));
for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
  const type = Compression[codec];
  const packed = compress(type, codecInput);
  row(`${codec} compress`, fmt(rssGrowthMB(() => void compress(type, codecInput))));
  row(`${codec} decompress`, fmt(rssGrowthMB(() => void decompress(type, packed))));
}
printTable(['', 'RSS +MB']);
if (sink === 0.5) console.log('');
