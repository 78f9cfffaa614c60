import { ErrorCode, decodeCursor, type Cursor } from '@tidings/protocol';
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

/** The resume cursor of a request: `Last-Event-ID` header, else `cursor` / `lastEventId` query. */
export function requestCursor(req: RequestHead, url: URL): Cursor {
  const header = req.headers['last-event-id'];
  const text = (typeof header === 'string' ? header : undefined) ?? url.searchParams.get('cursor') ?? url.searchParams.get('lastEventId') ?? '';
  const cursor = decodeCursor(text);
  if (!cursor) throw badRequest('malformed cursor (Last-Event-ID / cursor): expected channel~offset~epoch entries joined by !');
  return cursor;
}
