/**
 * The four Kafka batch codecs behind one sync and one async entry point, keyed by the batch
 * attribute's compression type. Decompression is always size-capped (see limits.ts).
 */
import { Compression, type CompressionName, type CompressionType } from '../records/batch-header.js';
import { ProtocolError } from '../protocol-error.js';
import { gzipCompress, gzipCompressAsync, gzipDecompress, gzipDecompressAsync } from './gzip.js';
import { lz4Compress, lz4CompressAsync, lz4Decompress, lz4DecompressAsync } from './lz4.js';
import { snappyCompress, snappyCompressAsync, snappyDecompress, snappyDecompressAsync } from './snappy.js';
import { zstdCompress, zstdCompressAsync, zstdDecompress, zstdDecompressAsync } from './zstd.js';
import { checkMaxBytes, tooLarge } from './limits.js';

export { DEFAULT_MAX_DECOMPRESSED_BYTES } from './limits.js';
export { isXerialFramed, XERIAL_BLOCK_SIZE } from './snappy.js';
export { lz4FrameSizeBound } from './lz4.js';
export { zstdSizeBound, ZSTD_DEFAULT_LEVEL } from './zstd.js';

/** Resolves a codec given by name ('zstd') or by attribute value (4). */
export function compressionTypeOf(codec: CompressionType | CompressionName): CompressionType {
  if (typeof codec === 'string') {
    if (!Object.hasOwn(Compression, codec)) throw new RangeError(`unknown compression codec '${codec}'`);
    return Compression[codec];
  }
  if (!Number.isInteger(codec) || codec < 0 || codec > 4) throw new RangeError(`unknown compression type ${codec}`);
  return codec;
}

/** Compresses `data` as a magic-2 batch's records section for the given codec. */
export function compress(type: CompressionType | CompressionName, data: Buffer): Buffer {
  switch (compressionTypeOf(type)) {
    case Compression.none:
      return data;
    case Compression.gzip:
      return gzipCompress(data);
    case Compression.snappy:
      return snappyCompress(data);
    case Compression.lz4:
      return lz4Compress(data);
    case Compression.zstd:
      return zstdCompress(data);
  }
}

/**
 * Decompresses a batch's records section. Throws only ProtocolError for bad bytes: 'invalid' when
 * the output would exceed `maxBytes` (default DEFAULT_MAX_DECOMPRESSED_BYTES), 'corrupt' or
 * 'truncated' when the payload is damaged, 'unsupported' for an unknown codec number.
 */
export function decompress(type: CompressionType, data: Buffer, maxBytes?: number): Buffer {
  switch (type) {
    case Compression.none: {
      const max = checkMaxBytes(maxBytes);
      if (data.length > max) throw tooLarge('uncompressed', data.length, max);
      return data;
    }
    case Compression.gzip:
      return gzipDecompress(data, maxBytes);
    case Compression.snappy:
      return snappyDecompress(data, maxBytes);
    case Compression.lz4:
      return lz4Decompress(data, maxBytes);
    case Compression.zstd:
      return zstdDecompress(data, maxBytes);
    default:
      throw new ProtocolError('unsupported', `unknown compression type ${String(type)}`);
  }
}

/** As `compress`, with the codec's work off the event loop (libuv / napi worker threads). */
export async function compressAsync(type: CompressionType | CompressionName, data: Buffer): Promise<Buffer> {
  switch (compressionTypeOf(type)) {
    case Compression.none:
      return data;
    case Compression.gzip:
      return gzipCompressAsync(data);
    case Compression.snappy:
      return snappyCompressAsync(data);
    case Compression.lz4:
      return lz4CompressAsync(data);
    case Compression.zstd:
      return zstdCompressAsync(data);
  }
}

/** As `decompress`, with inflation off the event loop; same errors, as rejections. */
export async function decompressAsync(type: CompressionType, data: Buffer, maxBytes?: number): Promise<Buffer> {
  switch (type) {
    case Compression.none:
      return decompress(type, data, maxBytes);
    case Compression.gzip:
      return gzipDecompressAsync(data, maxBytes);
    case Compression.snappy:
      return snappyDecompressAsync(data, maxBytes);
    case Compression.lz4:
      return lz4DecompressAsync(data, maxBytes);
    case Compression.zstd:
      return zstdDecompressAsync(data, maxBytes);
    default:
      throw new ProtocolError('unsupported', `unknown compression type ${String(type)}`);
  }
}
