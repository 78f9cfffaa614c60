import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of the HMAC kept in a session secret: 192 bits, written as 32 base64url characters. */
const SECRET_BYTES = 24;
const SECRET_CHARS = 32;

/**
 * Proof of owning a one-way stream session (`/sse`, `/stream`). Its client id is public (presence,
 * join/leave, `info.client`), so `/emulation` also asks for the session's secret, which only the
 * session's own stream was sent (in `connected`). A secret is the HMAC-SHA256 of the client id
 * under a random key of this node, so nothing is stored per session: an idle stream costs no
 * entry here. Only the session's own `connected` ever carries its secret, and the node answers
 * only for a session it still holds and that is a one-way stream (see `TidingsNode.ownedSession`).
 */
export class SessionSecrets {
  private readonly key = randomBytes(32);

  /** The secret of the session `client`, as base64url text (the same on every call on this node). */
  issue(client: string): string {
    return this.mac(client).toString('base64url');
  }

  /** Whether `secret` is the one issued to `client`: false for a missing or wrong secret. Compared in constant time. */
  check(client: string, secret: string | undefined): boolean {
    if (typeof secret !== 'string' || secret.length !== SECRET_CHARS) return false;
    const given = Buffer.from(secret, 'base64url');
    // base64url decoding skips what is not base64url: compare the canonical text's bytes too
    if (given.length !== SECRET_BYTES || given.toString('base64url') !== secret) return false;
    return timingSafeEqual(this.mac(client), given);
  }

  private mac(client: string): Buffer {
    return createHmac('sha256', this.key).update(client).digest().subarray(0, SECRET_BYTES);
  }
}
