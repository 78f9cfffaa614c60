/** Login attempts one client address may make per window. */
export const LOGIN_ATTEMPTS = 5;
/** The window, in milliseconds. */
export const LOGIN_WINDOW_MS = 60_000;
/** The longest block, in milliseconds: each block after the first doubles, up to this. */
export const MAX_BLOCK_MS = 3600_000;
/** Addresses remembered at most; beyond, the oldest is forgotten. */
export const MAX_ADDRESSES = 10_000;

interface Entry {
  windowStart: number;
  attempts: number;
  /** Blocks so far; the next lasts LOGIN_WINDOW_MS × 2^blocks. */
  blocks: number;
  blockedUntil: number;
}

/**
 * Rate limit of admin logins per client address: LOGIN_ATTEMPTS attempts per LOGIN_WINDOW_MS; one
 * more blocks the address for a window, then twice as long at each new block (backoff), up to
 * MAX_BLOCK_MS. A successful login forgets the address.
 */
export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts an attempt from `address`: undefined when it may go on, else the seconds to wait (for `Retry-After`). */
  attempt(address: string): number | undefined {
    const now = this.now();
    let e = this.entries.get(address);
    if (e && e.blockedUntil <= now && now - Math.max(e.windowStart, e.blockedUntil) > MAX_BLOCK_MS) {
      this.entries.delete(address);
      e = undefined;
    }
    if (!e) {
      if (this.entries.size >= MAX_ADDRESSES) this.entries.delete(this.entries.keys().next().value!);
      e = { windowStart: now, attempts: 0, blocks: 0, blockedUntil: 0 };
      this.entries.set(address, e);
    }
    if (e.blockedUntil > now) return Math.ceil((e.blockedUntil - now) / 1000);
    if (now - e.windowStart >= LOGIN_WINDOW_MS) {
      e.windowStart = now;
      e.attempts = 0;
    }
    e.attempts++;
    if (e.attempts <= LOGIN_ATTEMPTS) return undefined;
    e.blockedUntil = now + Math.min(MAX_BLOCK_MS, LOGIN_WINDOW_MS * 2 ** e.blocks);
    e.blocks++;
    e.attempts = 0;
    e.windowStart = e.blockedUntil;
    return Math.ceil((e.blockedUntil - now) / 1000);
  }

  /** Forgets `address` after a successful login. */
  succeeded(address: string): void {
    this.entries.delete(address);
  }
}
