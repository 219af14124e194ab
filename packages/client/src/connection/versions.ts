/**
 * The API version range this client speaks. The codecs cover every version; the caps here are
 * where a newer version changes the request's shape in a way the client does not build (Fetch
 * v13+ names topics by id, OffsetFetch v8+ batches groups) or where older versions lack what the
 * client relies on (record batches v2 need Produce v3 / Fetch v4).
 */
import { ApiKey, apiInfo } from '@sluice/protocol';

const CLIENT_RANGES = new Map<number, { min: number; max: number }>([
  [ApiKey.Produce, { min: 3, max: 11 }],
  [ApiKey.Fetch, { min: 4, max: 12 }],
  [ApiKey.ListOffsets, { min: 1, max: 10 }],
  [ApiKey.Metadata, { min: 1, max: 12 }],
  [ApiKey.OffsetFetch, { min: 1, max: 7 }],
  [ApiKey.OffsetCommit, { min: 2, max: 9 }],
]);

/** The client's own [min, max] for an API: the codec's range narrowed by the caps above. */
export function clientRange(apiKey: number): { min: number; max: number } {
  const info = apiInfo.get(apiKey);
  if (info === undefined) throw new RangeError(`unknown API key ${apiKey}`);
  const cap = CLIENT_RANGES.get(apiKey);
  return { min: Math.max(info.minVersion, cap?.min ?? 0), max: Math.min(info.maxVersion, cap?.max ?? info.maxVersion) };
}

/** Broker-advertised ranges by API key. */
export type VersionTable = ReadonlyMap<number, { min: number; max: number }>;

/** The highest version both sides support, or -1 when the ranges do not meet. */
export function negotiateVersion(apiKey: number, broker: VersionTable): number {
  const ours = clientRange(apiKey);
  const theirs = broker.get(apiKey);
  if (theirs === undefined) return -1;
  const version = Math.min(ours.max, theirs.max);
  return version >= Math.max(ours.min, theirs.min) ? version : -1;
}
