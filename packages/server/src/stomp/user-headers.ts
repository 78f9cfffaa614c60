import { ErrorCode } from '@tidings/protocol';
import type { StompFrame } from '@tidings/stomp';
import { StompError } from './errors.js';

/** User headers one SEND may carry to its MESSAGE frames (docs/stomp.md, "User headers"). */
export const MAX_USER_HEADERS = 32;
/** Bytes of user header names and values (UTF-8) one SEND may carry. */
export const MAX_USER_HEADER_BYTES = 4096;

/**
 * Headers that are STOMP's or Tidings' own, compared in lower case: never carried from a SEND to
 * MESSAGE frames (the MESSAGE has its own, or they concern only the sender).
 */
const RESERVED: ReadonlySet<string> = new Set([
  'destination', 'content-length', 'content-type', 'receipt', 'receipt-id', 'transaction', 'message-id', 'subscription', 'ack', 'redelivered',
  'login', 'passcode', 'authorization',
  'x-offset', 'x-epoch', 'x-client', 'x-user', 'x-idempotency-key', 'x-since-offset', 'x-recovered', 'x-code', 'x-close-code', 'x-reconnect',
]);

/**
 * The user headers of a SEND, in frame order, the first of repeated names only, without the
 * reserved ones. Throws StompError 112 when there are more than MAX_USER_HEADERS or their names
 * and values add up to more than MAX_USER_HEADER_BYTES.
 */
export function userHeaders(frame: StompFrame): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  let bytes = 0;
  for (const [name, value] of frame.headers) {
    if (seen.has(name) || RESERVED.has(name.toLowerCase())) continue;
    seen.add(name);
    out.push([name, value]);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (out.length > MAX_USER_HEADERS) {
    throw new StompError('too many user headers', ErrorCode.MessageTooLarge, undefined, `a SEND carries at most ${MAX_USER_HEADERS} user headers`);
  }
  if (bytes > MAX_USER_HEADER_BYTES) {
    throw new StompError('user headers too large', ErrorCode.MessageTooLarge, undefined, `a SEND's user headers hold at most ${MAX_USER_HEADER_BYTES} bytes of names and values`);
  }
  return out;
}
