/**
 * JSON that keeps Kafka Connect's int64 values exact. JavaScript numbers hold integers only up to
 * 2^53, but source offsets (file positions, sequence numbers, database log positions) are Java
 * longs: integers beyond 2^53 parse as bigint and bigints are written back as plain digits, so an
 * offset survives the offsets topic, the standalone file and the REST API unchanged.
 */
import { isInteger, isSafeNumber, parse, stringify } from 'lossless-json';

/** JSON.parse, except that integers JavaScript numbers cannot hold exactly become bigints. */
export function parseExactJson(text: string): unknown {
  return parse(text, null, (value: string) => (isInteger(value) && !isSafeNumber(value) ? BigInt(value) : Number(value)));
}

/** JSON.stringify that also writes bigints (as JSON numbers). */
export function stringifyExactJson(value: unknown): string {
  return stringify(value) ?? 'null';
}
