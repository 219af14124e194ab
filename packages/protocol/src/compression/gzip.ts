/** gzip via node:zlib. Kafka gzip payloads are ordinary gzip members (RFC 1952). */
import * as zlib from 'node:zlib';
import { checkMaxBytes, corrupt, requireInput, tooLarge } from './limits.js';

function mapError(err: unknown, maxBytes: number): Error {
  if ((err as { code?: string } | null)?.code === 'ERR_BUFFER_TOO_LARGE') return tooLarge('gzip', maxBytes + 1, maxBytes);
  return corrupt('gzip', err);
}

export function gzipCompress(data: Uint8Array): Buffer {
  return zlib.gzipSync(data);
}

export function gzipDecompress(data: Uint8Array, maxBytes?: number): Buffer {
  const max = checkMaxBytes(maxBytes);
  requireInput('gzip', data);
  try {
    // zlib stops inflating and throws once the output would pass maxOutputLength, so a bomb never
    // allocates more than the limit.
    const out = zlib.gunzipSync(data, { maxOutputLength: Math.max(max, 1) });
    if (out.length > max) throw tooLarge('gzip', out.length, max);
    return out;
  } catch (err) {
    throw mapError(err, max);
  }
}

export function gzipCompressAsync(data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.gzip(data, (err, out) => (err ? reject(err) : resolve(out))));
}

export function gzipDecompressAsync(data: Uint8Array, maxBytes?: number): Promise<Buffer> {
  const max = checkMaxBytes(maxBytes);
  requireInput('gzip', data);
  return new Promise((resolve, reject) =>
    zlib.gunzip(data, { maxOutputLength: Math.max(max, 1) }, (err, out) => {
      if (err) reject(mapError(err, max));
      else if (out.length > max) reject(tooLarge('gzip', out.length, max));
      else resolve(out);
    }),
  );
}
