/**
 * The one error type the protocol layer throws for bad bytes. Decoders never throw anything else
 * for malformed input, so callers (the broker's connection loop, the fuzz test) can tell a
 * protocol violation from a bug.
 */
export type ProtocolErrorReason =
  /** The buffer ended before the value did. */
  | 'truncated'
  /** A length, count or enum value is impossible (negative where not allowed, larger than the frame). */
  | 'invalid'
  /** A checksum did not match. */
  | 'corrupt'
  /** The API key or version is not one we know. */
  | 'unsupported';

export class ProtocolError extends Error {
  readonly reason: ProtocolErrorReason;
  constructor(reason: ProtocolErrorReason, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.reason = reason;
  }
}
