import { randomBytes, timingSafeEqual } from 'node:crypto';

/** Random bytes in a session secret: 192 bits, written as 32 base64url characters. */
const SECRET_BYTES = 24;
const SECRET_CHARS = 32;
/** What a secret for an unknown client is compared against, so both cases take the same work. */
const NO_SECRET = Buffer.alloc(SECRET_CHARS);

/**
 * Proof of owning a one-way stream session (`/sse`, `/stream`). Its client id is public (presence,
 * join/leave, `info.client`), so `/emulation` also asks for the session's secret, which only the
 * session's own stream was sent (in `connected`). Only sessions given a secret here can be reached
 * through `/emulation`: WebSocket sessions never are.
 */
export class SessionSecrets {
  private readonly secrets = new Map<string, Buffer>();

  /** Makes and remembers a new secret for the session `client`; returns it as base64url text. */
  issue(client: string): string {
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    this.secrets.set(client, Buffer.from(secret));
    return secret;
  }

  /**
   * Whether `secret` is the one issued to `client`: false for a client never issued one (or
   * forgotten), and for a missing or wrong secret. Compared in constant time.
   */
  check(client: string, secret: string | undefined): boolean {
    if (typeof secret !== 'string' || secret.length !== SECRET_CHARS) return false;
    const given = Buffer.from(secret);
    if (given.length !== SECRET_CHARS) return false;
    const expected = this.secrets.get(client);
    return timingSafeEqual(expected ?? NO_SECRET, given) && expected !== undefined;
  }

  /** The session closed: its secret no longer opens anything. */
  forget(client: string): void {
    this.secrets.delete(client);
  }
}
