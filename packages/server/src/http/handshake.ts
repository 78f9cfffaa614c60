import { ErrorCode, decodeCursor, mergeCursors, type Cursor } from '@tidings/protocol';
import type { Credentials } from '../auth/jwt.js';
import { TidingsError, badRequest } from '../errors.js';
import { handshakeToken } from './credentials.js';
import type { RequestHead } from './request-head.js';

/**
 * The credentials of an HTTP transport request: a verified token from `Authorization: Bearer`,
 * `?token=` or the `tidings_token` cookie, or undefined (anonymous). A token anywhere else
 * (`?access_token=`, a non-Bearer Authorization) is refused rather than silently ignored.
 */
export async function requestCredentials(req: RequestHead, url: URL, verify: (token: string) => Promise<Credentials>): Promise<Credentials | undefined> {
  const auth = req.headers.authorization;
  if (auth !== undefined && !auth.startsWith('Bearer ')) {
    throw new TidingsError(ErrorCode.Unauthorized, 'the Authorization header must be `Bearer <jwt>`');
  }
  if (url.searchParams.has('access_token') || url.searchParams.has('jwt')) {
    throw badRequest('pass the token as `token=`, an `Authorization: Bearer` header or the `tidings_token` cookie');
  }
  const token = handshakeToken(req, url);
  return token === undefined ? undefined : verify(token);
}

/** `channel=` parameters, deduplicated, in order. */
export function channelParams(url: URL): string[] {
  return [...new Set(url.searchParams.getAll('channel'))];
}

/** At most this many resume positions per request: `Last-Event-ID` values plus `cursor=` and `lastEventId=` parameters. */
export const MAX_RESUME_POSITIONS = 8;

/**
 * The resume cursor of a request, merged from every position it gives: the `Last-Event-ID`
 * header (repeated ones are joined by `, `) and every `cursor=` and `lastEventId=` query
 * parameter. Recency runs header first, then the parameters from last to first (EventSource
 * polyfills append `lastEventId=<newest id>` to the app's URL). Per channel the result is the
 * most recent source's epoch with the highest offset given for that epoch (`mergeCursors`).
 * Throws 400 (107) when any of them is malformed or there are more than MAX_RESUME_POSITIONS.
 */
export function requestCursor(req: RequestHead, url: URL): Cursor {
  const texts: string[] = [];
  const params: string[] = [];
  for (const [name, value] of url.searchParams) if (name === 'cursor' || name === 'lastEventId') params.push(value);
  const header = req.headers['last-event-id'];
  if (typeof header === 'string') texts.push(...header.split(', ').reverse());
  for (let i = params.length - 1; i >= 0; i--) texts.push(params[i]!);
  if (texts.length > MAX_RESUME_POSITIONS) {
    throw badRequest(`at most ${MAX_RESUME_POSITIONS} resume positions (Last-Event-ID, cursor=, lastEventId=) per request`);
  }
  const cursors: Cursor[] = [];
  for (const text of texts) {
    const cursor = decodeCursor(text);
    if (!cursor) throw badRequest('malformed cursor (Last-Event-ID / cursor / lastEventId): expected channel~offset~epoch entries joined by !');
    cursors.push(cursor);
  }
  return mergeCursors(cursors);
}
