/**
 * Request dispatch: API key → handler. Each handler declares the version range it serves; the
 * ApiVersions response is derived from this table, so registering a handler (as the group
 * coordinator does for its APIs) is all it takes to advertise an API.
 *
 * Errors follow Kafka: an ApiVersions request of a version we do not serve gets a v0 response
 * with UNSUPPORTED_VERSION and our ranges (so clients downgrade); an unknown API key, another
 * API's unsupported version or a malformed body closes the connection.
 */
import {
  apiInfo,
  decodeRequest,
  encodeResponse,
  encodeResponseChunks,
  ErrorCode,
  peekRequestHeader,
  ProtocolError,
  type RequestBodies,
  type RequestHeader,
  type ResponseBodies,
} from '@sluice/protocol';
import { isThrottleable, type ConnectionInfo, type Response } from '../network/connection.js';
import type { ClientQuotaManager } from '../quotas/client-quotas.js';

export type ServedApiKey = keyof RequestBodies & keyof ResponseBodies;

export interface RequestContext {
  header: RequestHeader;
  connection: ConnectionInfo;
}

/** What a handler returns: the response body, or null when the request takes no response. */
export type HandlerResult<K extends ServedApiKey> = ResponseBodies[K] | null;

export interface ApiHandler<K extends ServedApiKey = ServedApiKey> {
  readonly apiKey: K;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * True when nothing the handler starts refers to the request's bytes once its response is
   * ready (decoded `bytes`/`records` fields alias the frame), so the frame's buffer may be reused.
   * Leave unset for anything that keeps request bytes (group metadata, assignments).
   */
  readonly releasesRequestFrame?: boolean;
  handle(request: RequestBodies[K], context: RequestContext): HandlerResult<K> | Promise<HandlerResult<K>>;
}

export class RequestRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestRejected';
  }
}

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

const API_VERSIONS = 18;

export class Dispatcher {
  private readonly handlers = new Map<number, ApiHandler>();
  /** Client quotas: request time is recorded here, and a throttled response mutes its connection. */
  quotas: ClientQuotaManager | null = null;

  /** Adds (or replaces) the handler of one API. */
  register<K extends ServedApiKey>(handler: ApiHandler<K>): void {
    const info = apiInfo.get(handler.apiKey);
    if (!info) throw new Error(`API key ${handler.apiKey} has no codec`);
    if (handler.minVersion < info.minVersion || handler.maxVersion > info.maxVersion || handler.minVersion > handler.maxVersion) {
      throw new Error(`${info.name} handler range v${handler.minVersion}-v${handler.maxVersion} is outside the codec's v${info.minVersion}-v${info.maxVersion}`);
    }
    this.handlers.set(handler.apiKey, handler as unknown as ApiHandler);
  }

  /** The version ranges we serve, ordered by API key (the ApiVersions response body). */
  supportedVersions(): ApiVersionRange[] {
    return [...this.handlers.values()]
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  handlerFor(apiKey: number): ApiHandler | undefined {
    return this.handlers.get(apiKey);
  }

  /** Whether the frame's buffer may be reused once its response is ready (see releasesRequestFrame). */
  frameReusable(frame: Buffer): boolean {
    return frame.length >= 2 && this.handlers.get(frame.readInt16BE(0))?.releasesRequestFrame === true;
  }

  /** The connection's frame handler: decode, dispatch, encode. Throws to close the connection. */
  handleFrame(frame: Buffer, connection: ConnectionInfo): Response | Promise<Response> {
    const { apiKey, apiVersion, correlationId } = peekRequestHeader(frame);
    const handler = this.handlers.get(apiKey);
    if (!handler) throw new RequestRejected(`unsupported API key ${apiKey}`);
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === API_VERSIONS) {
        // KIP-511: answer in v0 (which every client can read) with the ranges we do serve.
        return encodeResponse(API_VERSIONS, 0, correlationId, {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: this.supportedVersions(),
        });
      }
      const name = apiInfo.get(apiKey)?.name ?? `API ${apiKey}`;
      throw new RequestRejected(`${name} v${apiVersion} is not supported (v${handler.minVersion}-v${handler.maxVersion})`);
    }
    let decoded;
    try {
      decoded = decodeRequest(frame);
    } catch (err) {
      if (err instanceof ProtocolError) throw new RequestRejected(`malformed ${apiInfo.get(apiKey)?.name ?? apiKey} v${apiVersion} request: ${err.message}`);
      throw err;
    }
    const context: RequestContext = { header: decoded.header, connection };
    const quotas = this.quotas !== null && this.quotas.active ? this.quotas : null;
    const started = quotas ? performance.now() : 0;
    const result = handler.handle(decoded.body as never, context);
    // request_percentage: the time this request held the event loop, as percent-seconds.
    const requestThrottleMs = quotas ? quotas.record('request_percentage', connection.principal.name, decoded.header.clientId ?? '', (performance.now() - started) / 10) : 0;
    const finish = (body: HandlerResult<ServedApiKey>): Response => {
      if (body !== null && typeof body === 'object' && 'throttleTimeMs' in body) {
        const throttled = body as { throttleTimeMs: number };
        if (requestThrottleMs > throttled.throttleTimeMs) throttled.throttleTimeMs = requestThrottleMs;
        if (throttled.throttleTimeMs > 0 && isThrottleable(connection)) connection.throttle(throttled.throttleTimeMs, frame);
      }
      return encode(apiKey as ServedApiKey, apiVersion, correlationId, body);
    };
    if (result instanceof Promise) return result.then(finish);
    return finish(result);
  }
}

const FETCH = 1;

function encode(apiKey: ServedApiKey, apiVersion: number, correlationId: number, body: unknown): Response {
  if (body === null) return null;
  // Fetch responses carry log bytes: gather them by reference instead of copying them into the frame.
  if (apiKey === FETCH) return encodeResponseChunks(apiKey, apiVersion, correlationId, body as never);
  return encodeResponse(apiKey, apiVersion, correlationId, body as never);
}
