/**
 * The offsets and health of one log, shared by its parts: the loader sets them, the writer moves
 * the end, truncation and retention move both ends, the facade reads them.
 */
export class LogState {
  endOffset = 0n;
  startOffset = 0n;
  highWatermark = 0n;
  /** Offset below which everything is known to be fsynced. */
  recoveryPoint = 0n;
  /** A failed write or fsync: the log refuses appends from then on (Kafka marks the dir offline). */
  failure: Error | null = null;
}
