/**
 * Producer sequence numbers: 0 to int32 max, then 0 again, as Kafka's
 * `DefaultRecordBatch.incrementSequence`. One helper for the client (stamping batches) and the
 * broker (checking them), so both wrap at the same place.
 */

export const MAX_SEQUENCE = 0x7fffffff;

/** `sequence + increment` in the wrapping sequence space; `increment` may be negative (giving sequences back). */
export function incrementSequence(sequence: number, increment: number): number {
  const m = MAX_SEQUENCE + 1;
  return (((sequence + increment) % m) + m) % m;
}

/** The sequence of a batch's last record: `baseSequence + lastOffsetDelta`, wrapping. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return incrementSequence(baseSequence, lastOffsetDelta);
}
