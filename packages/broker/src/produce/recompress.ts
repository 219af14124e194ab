/**
 * A topic whose compression.type names a codec stores its batches in that codec, whatever the
 * producer used (Kafka's broker-side recompression). The records section of a v2 batch has the
 * same bytes compressed or not, so a batch is re-encoded by swapping its records section and
 * fixing the length, the attributes' codec bits and the CRC; offsets, timestamps, producer ids and
 * sequences are untouched.
 */
import {
  BATCH_HEADER_SIZE,
  BATCH_LOG_OVERHEAD,
  BatchOffsets,
  Compression,
  compressAsync,
  computeBatchCrc,
  decompressAsync,
  scanBatches,
  type CompressionType,
} from '@sluice/protocol';

const CODEC_MASK = 0x07;

/** The codec a topic's compression.type asks for, or null for 'producer' (keep what was sent). */
export function targetCodec(compressionType: string): CompressionType | null {
  switch (compressionType) {
    case 'producer':
      return null;
    case 'uncompressed':
      return Compression.none;
    case 'gzip':
      return Compression.gzip;
    case 'snappy':
      return Compression.snappy;
    case 'lz4':
      return Compression.lz4;
    case 'zstd':
      return Compression.zstd;
    default:
      return null;
  }
}

/** True when some batch in `records` is not already in `target`. */
export function needsRecompression(records: Buffer, target: CompressionType): boolean {
  for (const { position } of scanBatches(records).batches) {
    if ((records.readInt16BE(position + BatchOffsets.attributes) & CODEC_MASK) !== target) return true;
  }
  return false;
}

/**
 * Re-encodes every batch of `records` in `target`. Malformed input is returned unchanged, so that
 * the log's validation reports it as it would any other bad append. Decompression is size-capped
 * by the protocol layer (a compression bomb fails as a corrupt batch).
 */
export async function recompress(records: Buffer, target: CompressionType, maxBytes: number): Promise<Buffer> {
  // A CRC mismatch is left for the log to report; the CRC written below must not launder it.
  const scan = scanBatches(records, { verifyCrc: true });
  if (scan.stoppedBy !== null) return records;
  const out: Buffer[] = [];
  for (const { position, size } of scan.batches) {
    const attributes = records.readInt16BE(position + BatchOffsets.attributes);
    const codec = (attributes & CODEC_MASK) as CompressionType;
    if (codec === target || attributes & 0x20 /* control batch */) {
      out.push(records.subarray(position, position + size));
      continue;
    }
    const section = records.subarray(position + BATCH_HEADER_SIZE, position + size);
    const raw = codec === Compression.none ? section : await decompressAsync(codec, section, maxBytes);
    const encoded = target === Compression.none ? raw : await compressAsync(target, raw);
    const batch = Buffer.allocUnsafe(BATCH_HEADER_SIZE + encoded.length);
    records.copy(batch, 0, position, position + BATCH_HEADER_SIZE);
    encoded.copy(batch, BATCH_HEADER_SIZE);
    batch.writeInt32BE(batch.length - BATCH_LOG_OVERHEAD, BatchOffsets.batchLength);
    batch.writeInt16BE((attributes & ~CODEC_MASK) | target, BatchOffsets.attributes);
    batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), BatchOffsets.crc);
    out.push(batch);
  }
  return Buffer.concat(out);
}
