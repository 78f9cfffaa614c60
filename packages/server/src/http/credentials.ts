import type { RequestHead } from './request-head.js';

export const TOKEN_COOKIE = 'tidings_token';

/**
 * The token a handshake carries: `Authorization: Bearer <jwt>`, the `token` query parameter,
 * or the `tidings_token` cookie, in that order.
 */
export function handshakeToken(req: RequestHead, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const q = url.searchParams.get('token');
  if (q) return q;
  const cookie = req.headers.cookie;
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}
