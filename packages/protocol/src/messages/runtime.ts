/** Small shared pieces the generated codecs import. */
export { ZERO_UUID } from '../primitives/reader.js';

/** A tagged field this code does not know, kept verbatim so that a frame re-encodes byte-exact. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);
export const NO_TAGS: readonly TaggedField[] = Object.freeze([]);

/** One row of the API key/version table. `flexibleMinVersion` is null when no version is flexible. */
export interface ApiInfo {
  key: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  flexibleMinVersion: number | null;
  /** `maxVersion` is still unstable upstream; a broker should advertise `maxVersion - 1` by default. */
  latestVersionUnstable: boolean;
}
