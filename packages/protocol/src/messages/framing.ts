/**
 * Request/response framing: headers, the 4-byte size prefix, and dispatch to the generated body
 * codecs by API key and version.
 *
 * A "frame" is the bytes after the size prefix. `encode*` return the whole message including the
 * prefix, ready for a socket. Decoded `bytes`/`records` values alias the frame (zero-copy).
 * Trailing bytes after a request or response body are ignored, as Kafka's own parsers do.
 */
import { ProtocolError } from '../protocol-error.js';
import { Reader, Writer, newSizeQueue, type SizeQueue } from '../primitives/index.js';
import {
  apiInfo,
  requestCodecs,
  responseCodecs,
  readRequestHeaderData,
  sizeRequestHeaderData,
  writeRequestHeaderData,
  readResponseHeaderData,
  sizeResponseHeaderData,
  writeResponseHeaderData,
  readConsumerProtocolSubscription,
  sizeConsumerProtocolSubscription,
  writeConsumerProtocolSubscription,
  readConsumerProtocolAssignment,
  sizeConsumerProtocolAssignment,
  writeConsumerProtocolAssignment,
  type MessageCodec,
  type RequestBodies,
  type ResponseBodies,
  type RequestHeaderData,
  type ConsumerProtocolSubscription,
  type ConsumerProtocolAssignment,
} from './generated/index.js';
import type { TaggedField } from './runtime.js';
import { ConsumerProtocolAssignment as assignmentDecl, ConsumerProtocolSubscription as subscriptionDecl } from './declarations/index.js';
import { parseVersions } from './declarations/types.js';
import { checkWritten, decodeVersioned, encodeVersioned, type DataCodec } from './versioned-data.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Absent from header v0; decoded as '' there (Kafka's default). */
  clientId: string | null;
  unknownTaggedFields?: TaggedField[];
}

/**
 * A decoded request. TypeScript does not narrow on nested properties, so the API key is repeated
 * at the top: `switch (req.apiKey) { case ApiKey.Produce: req.body.topicData … }`.
 */
export type DecodedRequest = {
  [K in keyof RequestBodies]: { apiKey: K; apiVersion: number; header: RequestHeader & { apiKey: K }; body: RequestBodies[K] };
}[keyof RequestBodies];

const API_VERSIONS_KEY = 18;
const CONTROLLED_SHUTDOWN_KEY = 7;

function isFlexible(apiKey: number, apiVersion: number): boolean {
  const info = apiInfo.get(apiKey);
  return info !== undefined && info.flexibleMinVersion !== null && apiVersion >= info.flexibleMinVersion;
}

/** Request header version: 2 for flexible API versions, else 1 (0 only for ControlledShutdown v0). */
export function requestHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 | 2 {
  if (isFlexible(apiKey, apiVersion)) return 2;
  if (apiKey === CONTROLLED_SHUTDOWN_KEY && apiVersion === 0) return 0;
  return 1;
}

/** Response header version: 1 for flexible API versions, else 0. ApiVersions responses always use 0. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === API_VERSIONS_KEY) return 0;
  return isFlexible(apiKey, apiVersion) ? 1 : 0;
}

function codecFor(codecs: ReadonlyMap<number, MessageCodec>, apiKey: number, apiVersion: number): MessageCodec {
  const info = apiInfo.get(apiKey);
  const codec = codecs.get(apiKey);
  if (info === undefined || codec === undefined) throw new ProtocolError('unsupported', `unknown API key ${apiKey}`);
  if (apiVersion < info.minVersion || apiVersion > info.maxVersion) {
    throw new ProtocolError('unsupported', `${info.name} v${apiVersion} is not supported (v${info.minVersion}-v${info.maxVersion})`);
  }
  return codec;
}

/** Reads API key, version and correlation id without validating anything else. */
export function peekRequestHeader(frame: Buffer): { apiKey: number; apiVersion: number; correlationId: number } {
  if (frame.length < 8) throw new ProtocolError('truncated', `request frame of ${frame.length} bytes has no header`);
  return { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) };
}

/**
 * Decodes the request header. An unknown API key fails with 'unsupported' before the rest is read
 * (its header version cannot be known); a known key with an unsupported version fails with
 * 'unsupported' after the header was parsed and checked. Use `peekRequestHeader` to answer either.
 */
export function decodeRequestHeader(frame: Buffer): { header: RequestHeader; bodyOffset: number } {
  const { apiKey, apiVersion } = peekRequestHeader(frame);
  const info = apiInfo.get(apiKey);
  if (info === undefined) throw new ProtocolError('unsupported', `unknown API key ${apiKey}`);
  const r = new Reader(frame);
  const h = readRequestHeaderData(r, requestHeaderVersion(apiKey, apiVersion));
  codecFor(requestCodecs, apiKey, apiVersion);
  const header: RequestHeader = { apiKey, apiVersion, correlationId: h.correlationId, clientId: h.clientId ?? null };
  if (h.unknownTaggedFields !== undefined) header.unknownTaggedFields = h.unknownTaggedFields;
  return { header, bodyOffset: r.pos };
}

export function decodeRequest(frame: Buffer): DecodedRequest {
  const { header, bodyOffset } = decodeRequestHeader(frame);
  const codec = codecFor(requestCodecs, header.apiKey, header.apiVersion);
  const body = codec.read(new Reader(frame, bodyOffset), header.apiVersion);
  return { apiKey: header.apiKey, apiVersion: header.apiVersion, header, body } as DecodedRequest;
}

function headerData(h: RequestHeader): RequestHeaderData {
  const d: RequestHeaderData = { requestApiKey: h.apiKey, requestApiVersion: h.apiVersion, correlationId: h.correlationId, clientId: h.clientId };
  if (h.unknownTaggedFields !== undefined) d.unknownTaggedFields = h.unknownTaggedFields;
  return d;
}

type Part = (w: Writer) => void;

/** Two-pass encode of a size-prefixed frame made of parts (header, body), contiguous or gathered. */
function encodeFrame(size: number, q: SizeQueue, parts: Part[], gather: boolean): Writer {
  const w = new Writer(4 + size, q, gather);
  w.int32(size);
  for (const part of parts) part(w);
  checkWritten(w, gather ? 4 + size - q[0] : 4 + size);
  return w;
}

function requestFrame<K extends keyof RequestBodies>(header: RequestHeader & { apiKey: K }, body: RequestBodies[K], gather: boolean): Writer {
  const codec = codecFor(requestCodecs, header.apiKey, header.apiVersion);
  const hv = requestHeaderVersion(header.apiKey, header.apiVersion);
  const hd = headerData(header);
  const q = newSizeQueue();
  const size = sizeRequestHeaderData(hd, hv, q) + codec.size(body as never, header.apiVersion, q);
  return encodeFrame(size, q, [(w) => writeRequestHeaderData(w, hd, hv), (w) => codec.write(w, body as never, header.apiVersion)], gather);
}

function responseFrame<K extends keyof ResponseBodies>(apiKey: K, apiVersion: number, correlationId: number, body: ResponseBodies[K], gather: boolean): Writer {
  const codec = codecFor(responseCodecs, apiKey, apiVersion);
  const hv = responseHeaderVersion(apiKey, apiVersion);
  const hd = { correlationId };
  const q = newSizeQueue();
  const size = sizeResponseHeaderData(hd, hv, q) + codec.size(body as never, apiVersion, q);
  return encodeFrame(size, q, [(w) => writeResponseHeaderData(w, hd, hv), (w) => codec.write(w, body as never, apiVersion)], gather);
}

/** The whole request (size prefix, header, body) in one buffer. */
export function encodeRequest<K extends keyof RequestBodies>(header: RequestHeader & { apiKey: K }, body: RequestBodies[K]): Buffer {
  return requestFrame(header, body, false).buf;
}

/** The whole response (size prefix, header, body) in one buffer. */
export function encodeResponse<K extends keyof ResponseBodies>(apiKey: K, apiVersion: number, correlationId: number, body: ResponseBodies[K]): Buffer {
  return responseFrame(apiKey, apiVersion, correlationId, body, false).buf;
}

/**
 * Like `encodeRequest`, but `bytes`/`records` values of at least `DETACH_MIN` bytes are not
 * copied: the result is the frame as buffers to write in order, some of which alias `body`.
 */
export function encodeRequestChunks<K extends keyof RequestBodies>(header: RequestHeader & { apiKey: K }, body: RequestBodies[K]): Buffer[] {
  return requestFrame(header, body, true).finishChunks();
}

/** Like `encodeResponse`, gathering large `records` (e.g. a Fetch response's) by reference. */
export function encodeResponseChunks<K extends keyof ResponseBodies>(apiKey: K, apiVersion: number, correlationId: number, body: ResponseBodies[K]): Buffer[] {
  return responseFrame(apiKey, apiVersion, correlationId, body, true).finishChunks();
}

export function decodeResponse<K extends keyof ResponseBodies>(apiKey: K, apiVersion: number, frame: Buffer): { correlationId: number; body: ResponseBodies[K] } {
  const codec = codecFor(responseCodecs, apiKey, apiVersion);
  const r = new Reader(frame);
  const h = readResponseHeaderData(r, responseHeaderVersion(apiKey, apiVersion));
  const body = codec.read(r, apiVersion) as ResponseBodies[K];
  return { correlationId: h.correlationId, body };
}

// ---- consumer protocol data (the opaque metadata/assignment bytes of JoinGroup/SyncGroup) ----

const subscriptionCodec: DataCodec<ConsumerProtocolSubscription> = {
  read: readConsumerProtocolSubscription,
  size: sizeConsumerProtocolSubscription,
  write: writeConsumerProtocolSubscription,
  maxVersion: parseVersions(subscriptionDecl.validVersions).max,
};
const assignmentCodec: DataCodec<ConsumerProtocolAssignment> = {
  read: readConsumerProtocolAssignment,
  size: sizeConsumerProtocolAssignment,
  write: writeConsumerProtocolAssignment,
  maxVersion: parseVersions(assignmentDecl.validVersions).max,
};

/** Encodes a consumer subscription with its int16 version prefix. */
export function encodeConsumerProtocolSubscription(value: ConsumerProtocolSubscription, version: number): Buffer {
  return encodeVersioned(subscriptionCodec, value, version);
}

export function decodeConsumerProtocolSubscription(data: Buffer): { version: number; value: ConsumerProtocolSubscription } {
  return decodeVersioned(subscriptionCodec, data);
}

/** Encodes a consumer assignment with its int16 version prefix. */
export function encodeConsumerProtocolAssignment(value: ConsumerProtocolAssignment, version: number): Buffer {
  return encodeVersioned(assignmentCodec, value, version);
}

export function decodeConsumerProtocolAssignment(data: Buffer): { version: number; value: ConsumerProtocolAssignment } {
  return decodeVersioned(assignmentCodec, data);
}
