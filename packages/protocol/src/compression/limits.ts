/**
 * Decompression limits shared by every codec.
 *
 * A compressed batch is small on the wire but may claim to expand enormously (a "decompression
 * bomb"). Every decompressor here learns or bounds the output size from the compressed stream's
 * own framing before it allocates, and refuses anything larger than `maxBytes`.
 */
import { ProtocolError } from '../protocol-error.js';

/**
 * Default cap on one decompressed payload: 64 MiB. Kafka's default message.max.bytes is ~1 MiB of
 * *compressed* batch; highly repetitive producer data compresses 10-50x, so 64 MiB leaves room for
 * honest batches while keeping a hostile one from taking the process down. A broker should pass
 * its own figure derived from its configured limits.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export function checkMaxBytes(maxBytes: number | undefined): number {
  const max = maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${max}`);
  return max;
}

export function tooLarge(codec: string, claimed: number, maxBytes: number): ProtocolError {
  return new ProtocolError('invalid', `${codec} payload would decompress to ${claimed} bytes, over the ${maxBytes}-byte limit`);
}

/** Wraps a library failure on bad input into the one error type decoders may throw. */
export function corrupt(codec: string, cause: unknown): ProtocolError {
  if (cause instanceof ProtocolError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ProtocolError('corrupt', `${codec} payload does not decompress: ${detail}`);
}

export function requireInput(codec: string, data: Uint8Array): void {
  if (data.length === 0) throw new ProtocolError('truncated', `${codec} payload is empty`);
}
