import { randomBytes } from 'node:crypto';
import { sameText } from './secrets.js';

/** The cookie holding the admin session id. */
export const SESSION_COOKIE = 'tidings_admin';
/** Seconds an admin session lasts after its login. */
export const SESSION_TTL_S = 8 * 3600;
/** Admin sessions held at once; a login beyond ends the oldest. */
export const MAX_SESSIONS = 64;

/** One logged-in admin: a random 256-bit id (the cookie), a CSRF token of its own, and its expiry (ms since the epoch). */
export interface AdminSession {
  readonly id: string;
  readonly csrf: string;
  readonly expires: number;
}

/** The admin sessions, in memory on this node (a login on one node does not log in on another). */
export class AdminSessions {
  private readonly sessions = new Map<string, AdminSession>();

  constructor(private readonly now: () => number = Date.now) {}

  create(): AdminSession {
    this.sweep();
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expires: this.now() + SESSION_TTL_S * 1000 };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, if any. */
  get(id: string | undefined): AdminSession | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expires <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** True when `token` is the session's CSRF token (constant time). */
  checkCsrf(session: AdminSession, token: string | undefined): boolean {
    return token !== undefined && sameText(token, session.csrf);
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expires <= now) this.sessions.delete(id);
  }
}

/** The value of cookie `name` in a `Cookie` header, if there is one. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
