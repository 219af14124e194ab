/**
 * Producer ids for idempotent producers (InitProducerId with no transactional id). Ids come from
 * blocks reserved durably in the metadata store before any id of the block is handed out, so a
 * restart (clean or not) skips the rest of the block instead of reusing an id.
 */
import type { MetadataStore } from '../metadata/metadata-store.js';

/** Kafka's producer id block size. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

export class ProducerIdAllocator {
  private next = 0n;
  private blockEnd = 0n;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(private readonly metadata: MetadataStore) {}

  /** A producer id never handed out before by this cluster's metadata. */
  allocate(): Promise<bigint> {
    const run = async (): Promise<bigint> => {
      if (this.next >= this.blockEnd) {
        const first = await this.metadata.reserveProducerIds(PRODUCER_ID_BLOCK_SIZE);
        this.next = first;
        this.blockEnd = first + BigInt(PRODUCER_ID_BLOCK_SIZE);
      }
      return this.next++;
    };
    const result = this.pending.then(run);
    this.pending = result.catch(() => undefined);
    return result;
  }

  /**
   * False for an id no InitProducerId of this cluster can have returned (at or beyond the ids
   * reserved so far): such an id cannot be bumped. Resolves after any reservation under way.
   */
  async mayHaveIssued(producerId: bigint): Promise<boolean> {
    await this.pending;
    return producerId >= 0n && producerId < this.next;
  }
}
