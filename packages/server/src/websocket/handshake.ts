import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode, httpStatusOf } from '@tidings/protocol';
import type { RequestHead } from '../http/request-head.js';
import { selectSubprotocol } from '../stomp/subprotocols.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Base64 of 16 bytes: 22 characters, the last of which leaves the 4 spare bits zero, then `==`. */
const KEY = /^[+/0-9A-Za-z]{21}[AQgw]==$/;
/** An RFC 7230 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A valid upgrade request: its key and the chosen subprotocol (`undefined`: our JSON protocol). */
export interface Upgrade {
  readonly key: string;
  readonly protocol: string | undefined;
}

/** Why an upgrade request is refused: the HTTP status, a message, extra header lines. */
export interface UpgradeRefusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: string;
}

/** A request header's value; repeated ones joined with `, `. */
export function header(req: RequestHead, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Checks an upgrade request against RFC 6455 §4.2.1 and picks the subprotocol. */
export function checkUpgrade(req: RequestHead): Upgrade | UpgradeRefusal {
  if (req.method !== undefined && req.method !== 'GET') return { status: 405, message: 'a WebSocket handshake is a GET', headers: 'Allow: GET\r\n' };
  if (req.httpVersion === '1.0' || req.httpVersion === '0.9') return { status: 400, message: 'a WebSocket handshake needs HTTP/1.1' };
  if (header(req, 'upgrade')?.toLowerCase() !== 'websocket') return { status: 400, message: 'missing or invalid Upgrade header' };
  if (!header(req, 'connection')?.split(',').some((t) => t.trim().toLowerCase() === 'upgrade')) {
    return { status: 400, message: 'missing or invalid Connection header' };
  }
  if (header(req, 'sec-websocket-version') !== '13') {
    return { status: 426, message: 'unsupported Sec-WebSocket-Version: only 13', headers: 'Sec-WebSocket-Version: 13\r\n' };
  }
  const key = header(req, 'sec-websocket-key')?.trim();
  if (key === undefined || !KEY.test(key)) return { status: 400, message: 'missing or invalid Sec-WebSocket-Key header' };
  const offered = header(req, 'sec-websocket-protocol');
  if (offered === undefined) return { key, protocol: undefined };
  const names = new Set<string>();
  for (const part of offered.split(',')) {
    const name = part.trim();
    if (!TOKEN.test(name) || names.has(name)) return { status: 400, message: 'invalid Sec-WebSocket-Protocol header' };
    names.add(name);
  }
  const protocol = selectSubprotocol(names);
  return { key, protocol: protocol === false ? undefined : protocol };
}

export function isRefusal(check: Upgrade | UpgradeRefusal): check is UpgradeRefusal {
  return 'status' in check;
}

/** `Sec-WebSocket-Accept` for `key`. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** The `101 Switching Protocols` response head; `extensions` is the agreed `Sec-WebSocket-Extensions` value, if any. */
export function switchingProtocols(upgrade: Upgrade, extensions?: string): string {
  return 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptKey(upgrade.key)}\r\n` +
    (upgrade.protocol === undefined ? '' : `Sec-WebSocket-Protocol: ${upgrade.protocol}\r\n`) +
    (extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) + '\r\n';
}

/** An HTTP error response with the JSON error body `{error: {code, message}}`. */
export function refusal(code: number, message: string, status = httpStatusOf(code), headers = ''): string {
  const body = JSON.stringify({ error: { code, message } });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`;
}

/** Answers a refused upgrade with an HTTP error and closes. */
export function refuse(socket: Duplex, code: number, message: string, status?: number, headers?: string): void {
  socket.end(refusal(code, message, status, headers));
}

/** Answers an upgrade that breaks RFC 6455 (400, 405, 426). */
export function refuseUpgrade(socket: Duplex, r: UpgradeRefusal): void {
  refuse(socket, ErrorCode.BadRequest, r.message, r.status, r.headers);
}
