import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '@tidings/protocol';
import type { Refusals } from '../observability/refusals.js';

/**
 * node:http's `clientError`: a request it could not read. A request (head and body) that did not
 * arrive within `requestTimeout` (the `bodyTimeout` setting) gets 408 with the JSON error
 * `{error: {code: 107, message}}`; a head too large 431 (112); anything else unparsable 400 (107).
 * Each is logged as a refusal; then the connection closes.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket, refusals: Refusals, bodyTimeout: number): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? [408, ErrorCode.BadRequest, `the request did not arrive in full within ${bodyTimeout} s (see --body-timeout)`]
    : err.code === 'HPE_HEADER_OVERFLOW' ? [431, ErrorCode.MessageTooLarge, 'request head too large']
      : [400, ErrorCode.BadRequest, 'malformed request'];
  refusals.refused(status === 431 ? 'limit' : 'bad_request', { transport: 'http', code, message, remote: socket.remoteAddress });
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
}
