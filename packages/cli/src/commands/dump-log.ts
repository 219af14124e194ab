/**
 * `sluice dump-log` (kafka-dump-log.sh): reads segment files offline — `.log` batches and records,
 * `.index` / `.timeindex` entries checked against their log, `.txnindex` aborted transactions and
 * producer `.snapshot` files — without a broker.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  BatchOffsets,
  ProtocolError,
  computeBatchCrc,
  decodeAttributes,
  readBatchHeader,
  readControlRecord,
  readRecordBatch,
  type KafkaRecord,
  type RecordBatchHeader,
} from '@sluice/protocol';
import { CorruptSnapshotError, decodeAbortedTxns, decodeProducerSnapshot, readIndexFile } from '@sluice/storage';
import { decodeTxnKey, decodeTxnValue } from '@sluice/broker';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { helpOption, jsonOption, type Tool } from '../tool/command.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { toJsonLine } from '../tool/table.js';
import { Progress } from '../tool/progress.js';
import { SegmentReader } from '../dump/segment-reader.js';
import { decodeGroupMetadataValue, decodeOffsetCommitValue, decodeOffsetsKey } from '../dump/offsets-records.js';

const options: OptionSpec[] = [
  { name: 'files', kind: 'list', arg: '<file[,file]>', help: 'REQUIRED: comma-separated .log, .index, .timeindex, .txnindex or .snapshot files to dump.' },
  { name: 'print-data-log', kind: 'flag', help: 'Print each record with its key and value (implies --deep-iteration).' },
  { name: 'deep-iteration', kind: 'flag', help: 'Print every record, not only batch headers.' },
  { name: 'skip-record-metadata', kind: 'flag', help: 'With --print-data-log, print only keys and values.' },
  { name: 'verify-index-only', kind: 'flag', help: 'For index files: check entries against the log without printing them.' },
  { name: 'index-sanity-check', kind: 'flag', help: 'For index files: only check that entries are ordered and inside the log.' },
  { name: 'offsets-decoder', kind: 'flag', help: 'Decode records as __consumer_offsets keys and values (offset commits, group metadata).' },
  { name: 'transaction-log-decoder', kind: 'flag', help: 'Decode records as __transaction_state keys and values (transactional id, producer, state, partitions).' },
  { name: 'max-message-size', kind: 'value', arg: '<bytes>', help: 'Largest batch accepted as valid.', defaultText: '5242880' },
  jsonOption,
  helpOption,
];

export const dumpLogTool: Tool = {
  name: 'dump-log',
  summary: 'print segment files (.log, .index, .timeindex, .txnindex, .snapshot) offline',
  usage: 'sluice dump-log --files <file[,file]> [--print-data-log] [--deep-iteration] [--verify-index-only] [--offsets-decoder]',
  description:
    'Reads Kafka-format segment files directly (no broker needed): batch headers with CRC checks, records with\n' +
    '--deep-iteration/--print-data-log, index entries verified against the segment, aborted transactions of a\n' +
    '.txnindex, producers of a .snapshot (CRC checked). --json prints one JSON\n' +
    'object per line (per batch or index entry). Exit code 1 when a check fails (bad CRC, invalid bytes, index mismatch).',
  options,
  run: runDumpLog,
};

interface DumpOptions {
  deep: boolean;
  printData: boolean;
  skipRecordMetadata: boolean;
  verifyOnly: boolean;
  sanityOnly: boolean;
  offsetsDecoder: boolean;
  transactionLogDecoder: boolean;
  maxBatchBytes: number;
  json: boolean;
}

async function runDumpLog(args: ParsedArgs, io: ToolIo): Promise<number> {
  const files = args.list('files').flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
  if (files.length === 0) throw new UsageError('missing required option --files', 'e.g. --files /var/lib/sluice/my-topic-0/00000000000000000000.log');
  const opts: DumpOptions = {
    printData: args.has('print-data-log'),
    deep: args.has('deep-iteration') || args.has('print-data-log') || args.has('offsets-decoder') || args.has('transaction-log-decoder'),
    skipRecordMetadata: args.has('skip-record-metadata'),
    verifyOnly: args.has('verify-index-only'),
    sanityOnly: args.has('index-sanity-check'),
    offsetsDecoder: args.has('offsets-decoder'),
    transactionLogDecoder: args.has('transaction-log-decoder'),
    maxBatchBytes: args.int('max-message-size', { min: 61 }) ?? 5 * 1024 * 1024,
    json: args.has('json'),
  };
  let problems = 0;
  for (const file of files) {
    const name = basename(file);
    if (!opts.json) io.stdout(`Dumping ${file}\n`);
    if (name.endsWith('.log')) problems += await dumpLogSegment(file, opts, io);
    else if (name.endsWith('.index')) problems += await dumpOffsetIndex(file, opts, io);
    else if (name.endsWith('.timeindex')) problems += await dumpTimeIndex(file, opts, io);
    else if (name.endsWith('.txnindex')) problems += await dumpTransactionIndex(file, opts, io);
    else if (name.endsWith('.snapshot')) problems += await dumpProducerSnapshot(file, opts, io);
    else {
      io.stderr(`sluice dump-log: ignoring ${file}: not a .log, .index, .timeindex, .txnindex or .snapshot file\n`);
      problems++;
    }
  }
  return problems > 0 ? ExitCode.failed : ExitCode.ok;
}

/** The base offset a segment file is named after (20-digit zero-padded), or 0 if not so named. */
function baseOffsetOfFile(file: string): bigint {
  const m = /^(\d+)\./.exec(basename(file));
  return m ? BigInt(m[1]) : 0n;
}

async function openSegment(file: string, maxBatchBytes: number): Promise<SegmentReader> {
  try {
    return await SegmentReader.open(file, maxBatchBytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ToolError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, ExitCode.failed);
  }
}

function lastSequenceOf(h: RecordBatchHeader): number {
  if (h.baseSequence < 0) return -1;
  // Sequences wrap at int32 max, as in Kafka.
  const last = h.baseSequence + h.lastOffsetDelta;
  return last > 0x7fffffff ? last - 0x80000000 : last;
}

async function dumpLogSegment(file: string, opts: DumpOptions, io: ToolIo): Promise<number> {
  const reader = await openSegment(file, opts.maxBatchBytes);
  const progress = new Progress(io);
  let problems = 0;
  try {
    if (!opts.json) io.stdout(`Log starting offset: ${baseOffsetOfFile(file)}\n`);
    for await (const b of reader.batches()) {
      progress.update(`${basename(file)}: ${(b.position / 1048576).toFixed(1)} of ${(reader.fileSize / 1048576).toFixed(1)} MB`);
      const header = readBatchHeader(b.buffer, b.offsetInBuffer);
      const attrs = decodeAttributes(header.attributes);
      const valid = computeBatchCrc(b.buffer, b.offsetInBuffer, b.size) === header.crc;
      if (!valid) problems++;
      const timestampType = attrs.timestampType === 1 ? 'LogAppendTime' : 'CreateTime';
      const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
      const batchInfo = {
        baseOffset: header.baseOffset,
        lastOffset,
        count: header.recordCount,
        baseSequence: header.baseSequence,
        lastSequence: lastSequenceOf(header),
        producerId: header.producerId,
        producerEpoch: header.producerEpoch,
        partitionLeaderEpoch: header.partitionLeaderEpoch,
        isTransactional: attrs.isTransactional,
        isControl: attrs.isControl,
        deleteHorizonMs: attrs.hasDeleteHorizon ? header.baseTimestamp : null,
        position: b.position,
        timestampType,
        maxTimestamp: header.maxTimestamp,
        size: b.size,
        magic: header.magic,
        compresscodec: compressionName(attrs.compression),
        crc: header.crc,
        isvalid: valid,
      };
      let records: KafkaRecord[] | null = null;
      let recordError: string | null = null;
      if (opts.deep) {
        try {
          records = readRecordBatch(b.buffer, b.offsetInBuffer, { verifyCrc: false }).records;
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          recordError = err.message;
          problems++;
        }
      }
      if (opts.json) {
        io.stdout(
          toJsonLine({
            ...batchInfo,
            ...(records ? { records: records.map((r) => recordJson(r, attrs.isControl, opts)) } : {}),
            ...(recordError ? { recordError } : {}),
          }) + '\n',
        );
        continue;
      }
      io.stdout(
        `baseOffset: ${header.baseOffset} lastOffset: ${lastOffset} count: ${header.recordCount} baseSequence: ${header.baseSequence} ` +
          `lastSequence: ${batchInfo.lastSequence} producerId: ${header.producerId} producerEpoch: ${header.producerEpoch} ` +
          `partitionLeaderEpoch: ${header.partitionLeaderEpoch} isTransactional: ${attrs.isTransactional} isControl: ${attrs.isControl} ` +
          `deleteHorizonMs: ${batchInfo.deleteHorizonMs ?? 'none'} position: ${b.position} ${timestampType}: ${header.maxTimestamp} ` +
          `size: ${b.size} magic: ${header.magic} compresscodec: ${batchInfo.compresscodec} crc: ${header.crc} isvalid: ${valid}\n`,
      );
      if (recordError) io.stdout(`| records could not be read: ${recordError}\n`);
      for (const r of records ?? []) io.stdout(recordLine(r, attrs.isControl, header, timestampType, opts) + '\n');
    }
    if (reader.tail.invalidBytes > 0) {
      problems++;
      const why = reader.tail.reason === 'too-large' ? ` (a batch larger than --max-message-size ${opts.maxBatchBytes})` : ` (${reader.tail.reason})`;
      const text = `Found ${reader.tail.invalidBytes} invalid bytes at the end of ${basename(file)}${why}, from position ${reader.tail.position}`;
      if (opts.json) io.stdout(toJsonLine({ invalidBytes: reader.tail.invalidBytes, position: reader.tail.position, reason: reader.tail.reason }) + '\n');
      else io.stdout(text + '\n');
    }
  } finally {
    progress.done();
    await reader.close();
  }
  return problems;
}

function compressionName(code: number): string {
  return ['none', 'gzip', 'snappy', 'lz4', 'zstd'][code] ?? `unknown(${code})`;
}

function text(buf: Buffer | null): string {
  return buf === null ? 'null' : buf.toString('utf8');
}

/** Decoded __transaction_state key and value, as Kafka's transaction log decoder shows them. */
function decodeTransactionLogRecord(r: KafkaRecord): { key: unknown; payload: unknown } {
  if (!r.key) return { key: null, payload: r.value ? r.value.toString('base64') : null };
  try {
    const transactionalId = decodeTxnKey(r.key);
    if (transactionalId === null) return { key: `unknown key version ${r.key.readInt16BE(0)}`, payload: null };
    if (r.value === null) return { key: { transactionalId }, payload: '<DELETE>' };
    const v = decodeTxnValue(r.value);
    return {
      key: { transactionalId },
      payload: {
        producerId: v.producerId,
        producerEpoch: v.producerEpoch,
        state: v.state,
        partitions: v.partitions.map((p) => `${p.topic}-${p.partition}`),
        txnLastUpdateTimestamp: v.lastUpdateTimestampMs,
        txnStartTimestamp: v.startTimestampMs,
        txnTimeoutMs: v.timeoutMs,
      },
    };
  } catch (err) {
    return { key: `undecodable: ${(err as Error).message}`, payload: r.value ? r.value.toString('base64') : null };
  }
}

/** Decoded __consumer_offsets key and value, as Kafka's offsets decoder shows them. */
function decodeOffsetsRecord(r: KafkaRecord): { key: unknown; payload: unknown } {
  if (!r.key) return { key: null, payload: r.value ? r.value.toString('base64') : null };
  try {
    const key = decodeOffsetsKey(r.key);
    if (r.value === null) return { key, payload: '<DELETE>' };
    const payload = key.type === 'offset_commit' ? decodeOffsetCommitValue(r.value) : decodeGroupMetadataValue(r.value);
    return { key, payload };
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { key: `undecodable: ${err.message}`, payload: r.value ? r.value.toString('base64') : null };
  }
}

function recordJson(r: KafkaRecord, isControl: boolean, opts: DumpOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    offset: r.offset,
    timestamp: r.timestamp,
    keySize: r.key ? r.key.length : -1,
    valueSize: r.value ? r.value.length : -1,
    headerKeys: r.headers.map((h) => h.key),
  };
  if (isControl) {
    out.control = controlText(r);
  } else if (opts.offsetsDecoder) {
    Object.assign(out, decodeOffsetsRecord(r));
  } else if (opts.transactionLogDecoder) {
    Object.assign(out, decodeTransactionLogRecord(r));
  } else if (opts.printData) {
    out.key = r.key === null ? null : text(r.key);
    out.payload = r.value === null ? null : text(r.value);
  }
  return out;
}

function controlText(r: KafkaRecord): string {
  try {
    const c = readControlRecord(r);
    if (typeof c.type === 'number') return `controlType: ${c.type} version: ${c.version}`;
    return `endTxnMarker: ${c.type.toUpperCase()} coordinatorEpoch: ${c.coordinatorEpoch}`;
  } catch (err) {
    if (err instanceof ProtocolError) return `unreadable control record: ${err.message}`;
    throw err;
  }
}

function recordLine(r: KafkaRecord, isControl: boolean, h: RecordBatchHeader, timestampType: string, opts: DumpOptions): string {
  const parts: string[] = [];
  if (!opts.skipRecordMetadata || !opts.printData) {
    const sequence = h.baseSequence < 0 ? -1 : h.baseSequence + r.offsetDelta;
    parts.push(
      `| offset: ${r.offset} ${timestampType}: ${r.timestamp} keySize: ${r.key ? r.key.length : -1} valueSize: ${r.value ? r.value.length : -1} ` +
        `sequence: ${sequence} headerKeys: [${r.headers.map((x) => x.key).join(',')}]`,
    );
  }
  if (isControl) parts.push(controlText(r));
  else if (opts.transactionLogDecoder) {
    const d = decodeTransactionLogRecord(r);
    parts.push(`key: ${compactJson(d.key)} payload: ${typeof d.payload === 'string' ? d.payload : compactJson(d.payload)}`);
  } else if (opts.offsetsDecoder) {
    const d = decodeOffsetsRecord(r);
    parts.push(`key: ${compactJson(d.key)} payload: ${typeof d.payload === 'string' ? d.payload : compactJson(d.payload)}`);
  } else if (opts.printData) {
    if (r.key !== null) parts.push(`key: ${text(r.key)}`);
    parts.push(`payload: ${text(r.value)}`);
  }
  return parts.join(' ');
}

function compactJson(value: unknown): string {
  return toJsonLine(value);
}

interface LogBatchSummary {
  position: number;
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
}

/** Headers of every batch of the segment beside an index (for verification), or null if absent. */
async function segmentBeside(indexFile: string, opts: DumpOptions): Promise<{ batches: LogBatchSummary[]; size: number } | null> {
  const logFile = join(dirname(indexFile), basename(indexFile).replace(/\.(time)?index$/, '.log'));
  try {
    await stat(logFile);
  } catch {
    return null;
  }
  const reader = await openSegment(logFile, opts.maxBatchBytes);
  const batches: LogBatchSummary[] = [];
  try {
    for await (const b of reader.batches()) {
      const base = b.buffer.readBigInt64BE(b.offsetInBuffer + BatchOffsets.baseOffset);
      batches.push({
        position: b.position,
        baseOffset: base,
        lastOffset: base + BigInt(b.buffer.readInt32BE(b.offsetInBuffer + BatchOffsets.lastOffsetDelta)),
        maxTimestamp: b.buffer.readBigInt64BE(b.offsetInBuffer + BatchOffsets.maxTimestamp),
      });
    }
    return { batches, size: reader.fileSize };
  } finally {
    await reader.close();
  }
}

async function loadIndex(file: string, entrySize: number): Promise<Buffer> {
  try {
    await stat(file);
  } catch {
    throw new ToolError(`cannot read ${file}: no such file`, ExitCode.failed);
  }
  const buf = await readIndexFile(file, entrySize);
  if (!buf) throw new ToolError(`${file} is not a whole number of ${entrySize}-byte index entries`, ExitCode.failed);
  return buf;
}

async function dumpOffsetIndex(file: string, opts: DumpOptions, io: ToolIo): Promise<number> {
  const buf = await loadIndex(file, 8);
  const base = baseOffsetOfFile(file);
  const log = await segmentBeside(file, opts);
  const byPosition = new Map((log?.batches ?? []).map((b) => [b.position, b]));
  const mismatches: string[] = [];
  const insane: string[] = [];
  let prevRel = -1;
  let prevPos = -1;
  let entries = 0;
  for (let at = 0; at < buf.length; at += 8) {
    const rel = buf.readInt32BE(at);
    const position = buf.readInt32BE(at + 4);
    // A preallocated (sparse) index ends in zero entries; the first all-zero entry past the start ends it.
    if (at > 0 && rel === 0 && position === 0) break;
    entries++;
    const offset = base + BigInt(rel);
    if (rel <= prevRel || position < prevPos) insane.push(`entry ${entries - 1} (offset ${offset} position ${position}) is out of order`);
    if (log && position >= Math.max(log.size, 1)) insane.push(`entry ${entries - 1} points at position ${position}, past the log's ${log.size} bytes`);
    prevRel = rel;
    prevPos = position;
    if (!opts.verifyOnly && !opts.sanityOnly) {
      io.stdout(opts.json ? compactJson({ offset, position }) + '\n' : `offset: ${offset} position: ${position}\n`);
    }
    if (log && !opts.sanityOnly) {
      const batch = byPosition.get(position);
      if (!batch) mismatches.push(`  Index offset: ${offset}, position ${position} is not the start of a batch in the log`);
      else if (batch.lastOffset !== offset) mismatches.push(`  Index offset: ${offset}, log offset: ${batch.lastOffset}`);
    }
  }
  return reportIndexChecks(file, entries, log !== null, mismatches, insane, opts, io);
}

async function dumpTimeIndex(file: string, opts: DumpOptions, io: ToolIo): Promise<number> {
  const buf = await loadIndex(file, 12);
  const base = baseOffsetOfFile(file);
  const log = await segmentBeside(file, opts);
  const mismatches: string[] = [];
  const insane: string[] = [];
  let prevTimestamp = -1n;
  let prevRel = -1;
  let entries = 0;
  for (let at = 0; at < buf.length; at += 12) {
    const timestamp = buf.readBigInt64BE(at);
    const rel = buf.readInt32BE(at + 8);
    if (at > 0 && timestamp === 0n && rel === 0) break;
    entries++;
    const offset = base + BigInt(rel);
    if (timestamp < prevTimestamp) insane.push(`Found out of order timestamp: index timestamp ${timestamp}, previously indexed timestamp ${prevTimestamp}`);
    if (rel < prevRel) insane.push(`entry ${entries - 1} offset ${offset} is below the previous entry's`);
    prevTimestamp = timestamp;
    prevRel = rel;
    if (!opts.verifyOnly && !opts.sanityOnly) {
      io.stdout(opts.json ? compactJson({ timestamp, offset }) + '\n' : `timestamp: ${timestamp} offset: ${offset}\n`);
    }
    if (log && !opts.sanityOnly) {
      const batch = log.batches.find((b) => b.baseOffset <= offset && offset <= b.lastOffset);
      if (!batch) mismatches.push(`  Indexed offset: ${offset} is in no batch of the log`);
      else if (batch.maxTimestamp !== timestamp) mismatches.push(`  Index timestamp: ${timestamp}, log timestamp: ${batch.maxTimestamp} (offset ${offset})`);
    }
  }
  return reportIndexChecks(file, entries, log !== null, mismatches, insane, opts, io);
}

function reportIndexChecks(
  file: string,
  entries: number,
  haveLog: boolean,
  mismatches: string[],
  insane: string[],
  opts: DumpOptions,
  io: ToolIo,
): number {
  const out = (line: string): void => (opts.json ? io.stderr(line + '\n') : io.stdout(line + '\n'));
  if (opts.sanityOnly) {
    if (insane.length) out(`${file} failed sanity check:\n  ${insane.join('\n  ')}`);
    else out(`${file} passed sanity check.`);
    return insane.length ? 1 : 0;
  }
  if (insane.length) out(`${file} is not sane:\n  ${insane.join('\n  ')}`);
  if (!haveLog) {
    out(`(no segment beside ${basename(file)}: entries were not checked against the log)`);
    return insane.length ? 1 : 0;
  }
  if (mismatches.length) out(`Mismatches in :${file}\n${mismatches.join('\n')}`);
  else if (opts.verifyOnly) out(`${file}: all ${entries} entries match the log.`);
  return mismatches.length + insane.length > 0 ? 1 : 0;
}

async function readWhole(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ToolError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, ExitCode.failed);
  }
}

/** A segment's aborted-transaction index: one line per aborted transaction. */
async function dumpTransactionIndex(file: string, opts: DumpOptions, io: ToolIo): Promise<number> {
  let decoded;
  try {
    decoded = decodeAbortedTxns(await readWhole(file));
  } catch (err) {
    if (err instanceof ToolError) throw err;
    io.stdout(`${basename(file)}: ${(err as Error).message}\n`);
    return 1;
  }
  for (const e of decoded.entries) {
    if (opts.json) io.stdout(toJsonLine({ version: 0, ...e }) + '\n');
    else io.stdout(`version: 0 producerId: ${e.producerId} firstOffset: ${e.firstOffset} lastOffset: ${e.lastOffset} lastStableOffset: ${e.lastStableOffset}\n`);
  }
  if (decoded.tornBytes > 0) {
    if (opts.json) io.stdout(toJsonLine({ invalidBytes: decoded.tornBytes, reason: 'partial entry' }) + '\n');
    else io.stdout(`Found ${decoded.tornBytes} invalid bytes at the end of ${basename(file)} (a partial entry)\n`);
    return 1;
  }
  return 0;
}

/** A producer-state snapshot: one line per entry (a producer's retained batches, oldest first). */
async function dumpProducerSnapshot(file: string, opts: DumpOptions, io: ToolIo): Promise<number> {
  let entries;
  try {
    entries = decodeProducerSnapshot(await readWhole(file));
  } catch (err) {
    if (!(err instanceof CorruptSnapshotError)) throw err;
    if (opts.json) io.stdout(toJsonLine({ error: err.message }) + '\n');
    else io.stdout(`${basename(file)} is damaged: ${err.message}\n`);
    return 1;
  }
  if (!opts.json) io.stdout(`Snapshot offset: ${baseOffsetOfFile(file)} producers: ${new Set(entries.map((e) => e.producerId)).size} entries: ${entries.length}\n`);
  for (const e of entries) {
    const firstSequence = e.lastSequence < 0 ? -1 : (e.lastSequence - e.offsetDelta + 0x80000000) % 0x80000000;
    if (opts.json) {
      io.stdout(toJsonLine({ ...e, firstSequence }) + '\n');
      continue;
    }
    io.stdout(
      `producerId: ${e.producerId} producerEpoch: ${e.epoch} coordinatorEpoch: ${e.coordinatorEpoch} ` +
        `currentTxnFirstOffset: ${e.currentTxnFirstOffset < 0n ? 'none' : e.currentTxnFirstOffset} lastTimestamp: ${e.timestamp} ` +
        `firstSequence: ${firstSequence} lastSequence: ${e.lastSequence} lastOffset: ${e.lastOffset} offsetDelta: ${e.offsetDelta}\n`,
    );
  }
  return 0;
}
