import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ADMIN_STATS_CHANNEL, ErrorCode } from '@tidings/protocol';
import { AuthError, type Credentials } from './jwt.js';

/** How every admin live token starts; no JWT does (a JWT starts with base64url JSON, `eyJ…`). */
export const LIVE_TOKEN_PREFIX = 'tidings-admin-live.';
/** Seconds a live token lasts unless the console asks for less. */
export const LIVE_TOKEN_TTL_S = 60;
/** The longest a live token may last, in seconds. */
export const MAX_LIVE_TOKEN_TTL_S = 300;
/** Commands a session on a live token may send besides `connect`: it receives the admin channels and nothing else. */
export const LIVE_COMMANDS: ReadonlySet<string> = new Set(['ping', 'refresh']);

const SHAPE = /^(\d{1,12})\.([\w-]{43})$/;

/**
 * The admin console's live tokens: `tidings-admin-live.<exp>.<mac>`, where `exp` is the expiry in
 * seconds since the epoch and `mac` an HMAC-SHA256 of it under a key this node draws at start and
 * never shows. So a token is good on the node that issued it only, until `exp`, and nothing is
 * stored per token. It makes credentials that only the admin console's page gets (through its
 * session and CSRF checks): no user, the admin stats channel as their one server-side subscription,
 * and `admin` set, which nothing else sets.
 */
export class LiveTokens {
  private readonly key = randomBytes(32);

  /** A token valid for `ttl` seconds from `now` (ms); `expiresAt` in seconds since the epoch. */
  issue(ttl: number, now = Date.now()): { token: string; expiresAt: number } {
    const expiresAt = Math.ceil(now / 1000 + ttl);
    return { token: `${LIVE_TOKEN_PREFIX}${expiresAt}.${this.mac(expiresAt)}`, expiresAt };
  }

  /**
   * The credentials of a live token; undefined when `token` is not one (a JWT is checked elsewhere).
   * Throws AuthError 101 (unauthorized) for a forged or malformed one (or one from another node or
   * an earlier run of this one), 109 (token_expired) for one past its expiry.
   */
  verify(token: string, now = Date.now()): Credentials | undefined {
    if (!token.startsWith(LIVE_TOKEN_PREFIX)) return undefined;
    const m = SHAPE.exec(token.slice(LIVE_TOKEN_PREFIX.length));
    const expires = Number(m?.[1]);
    if (!m || !timingSafeEqual(Buffer.from(m[2]!), Buffer.from(this.mac(expires)))) {
      throw new AuthError(ErrorCode.Unauthorized, 'invalid admin live token');
    }
    if (expires * 1000 <= now) throw new AuthError(ErrorCode.TokenExpired, 'admin live token expired');
    return { user: '', expires, subs: [ADMIN_STATS_CHANNEL], admin: true };
  }

  private mac(expires: number): string {
    return createHmac('sha256', this.key).update(`live:${expires}`).digest('base64url');
  }
}
