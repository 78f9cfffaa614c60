import type { RequestHead } from '../http/request-head.js';

/** The wire protocol a client speaks: the `protocol` field of proxy calls. */
export type WireProtocol = 'json' | 'stomp' | 'sockjs';

/** What the connect proxy is told about the request that opened a connection. */
export interface ConnectRequest {
  /** `websocket`, `sse`, `stream`, `poll`, `emulation`, `sockjs`, `stomp-ws`, `stomp-tcp`. */
  transport: string;
  protocol: WireProtocol;
  /** The peer's address ('' when unknown). */
  remoteAddr: string;
  /** The allowlisted request headers (lowercase names; repeats joined with `, `). */
  headers: Record<string, string>;
}

/** The headers of every request while the connect proxy is off: nothing is copied. */
const NO_HEADERS: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

/** Longest header value forwarded; longer ones are left out rather than cut. */
const MAX_HEADER_VALUE = 8192;

/** Picks the `allow`ed headers of `headers` (a name → value list or record; names compared in lower case). */
export function allowedHeaders(headers: Iterable<readonly [string, string | string[] | undefined]>, allow: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (value === undefined || !allow.includes(key) || key in out) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (text.length <= MAX_HEADER_VALUE) out[key] = text;
  }
  return out;
}

/**
 * A connect request from an HTTP request head (the handshake of every transport but STOMP over TCP).
 * `remoteAddr`: the client's address as `--trust-proxy` reads it (`ProxyTrust.clientAddress`).
 */
export function connectRequest(req: RequestHead, allow: readonly string[], transport: string, protocol: WireProtocol, remoteAddr: string): ConnectRequest {
  const headers = allow.length === 0 ? NO_HEADERS : allowedHeaders(Object.entries(req.headers), allow);
  return { transport, protocol, remoteAddr, headers };
}
