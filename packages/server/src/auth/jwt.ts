import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ErrorCode } from '@tidings/protocol';
import type { JwtOptions } from '../options.js';

/** What a verified token says about its holder. */
export interface Credentials {
  user: string;
  /** Expiry, seconds since the Unix epoch. */
  expires?: number;
  /** Channels the token grants regardless of namespace policy (the `channels` claim). It subscribes nothing. */
  channels?: string[];
  /**
   * Server-side subscriptions the connection starts with (the `subs` claim; a connect proxy's
   * `channels` answer belongs here too): subscribed at connect without a permission check.
   */
  subs?: string[];
  /** Made from the connect proxy's answer, not a token: refreshed through the refresh proxy. */
  proxied?: boolean;
  /**
   * An admin console live token's (auth/live-token.ts): receives the admin channels (`subs`) and
   * nothing else. Set by `LiveTokens.verify` only, never from a JWT claim or a proxy answer.
   */
  admin?: true;
}

/** A token was refused; `code` is ErrorCode.Unauthorized or ErrorCode.TokenExpired. */
export class AuthError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa': return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss': return ['PS256', 'PS384', 'PS512'];
    case 'ec': return ['ES256', 'ES384', 'ES512'];
    case 'ed25519': return ['EdDSA', 'Ed25519'];
    default: throw new TypeError(`jwt.publicKey: unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
  }
}

/**
 * Verifies JWTs with jose against whichever keys are configured: an HMAC secret, a PEM public
 * key, and/or a JWKS (URL or file). `sub` is the user; `exp` is enforced; `channels` (grants) and
 * `subs` (server-side subscriptions at connect) are optional.
 */
export class TokenVerifier {
  private readonly keys: Array<{ algs: string[]; key: KeyObject | Uint8Array | JWTVerifyGetKey }> = [];

  constructor(private readonly options: JwtOptions) {
    if (options.secret) this.keys.push({ algs: HMAC_ALGS, key: new TextEncoder().encode(options.secret) });
    if (options.publicKey) {
      const key = createPublicKey(options.publicKey);
      this.keys.push({ algs: algorithmsFor(key), key });
    }
    if (options.jwks) {
      const jwks = /^https?:\/\//.test(options.jwks)
        ? createRemoteJWKSet(new URL(options.jwks))
        : createLocalJWKSet(JSON.parse(readFileSync(options.jwks, 'utf8')) as Parameters<typeof createLocalJWKSet>[0]);
      this.keys.push({ algs: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'], key: jwks });
    }
  }

  get configured(): boolean {
    return this.keys.length > 0;
  }

  async verify(token: string): Promise<Credentials> {
    if (!this.configured) {
      throw new AuthError(ErrorCode.Unauthorized, 'tokens cannot be verified: no JWT key is configured (set --jwt-secret, --jwt-public-key or --jwks)');
    }
    const alg = headerAlg(token);
    const entry = this.keys.find((k) => k.algs.includes(alg));
    if (!entry) throw new AuthError(ErrorCode.Unauthorized, `token algorithm ${alg} is not accepted by this server`);
    let payload: JWTPayload;
    try {
      const verifyOptions = { algorithms: entry.algs, ...(this.options.audience ? { audience: this.options.audience } : {}), ...(this.options.issuer ? { issuer: this.options.issuer } : {}) };
      const key = entry.key;
      payload = typeof key === 'function'
        ? (await jwtVerify(token, key, verifyOptions)).payload
        : (await jwtVerify(token, key, verifyOptions)).payload;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new AuthError(ErrorCode.TokenExpired, 'token expired');
      throw new AuthError(ErrorCode.Unauthorized, `invalid token: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new AuthError(ErrorCode.Unauthorized, 'invalid token: `sub` claim missing');
    const creds: Credentials = { user: payload.sub };
    if (typeof payload.exp === 'number') creds.expires = payload.exp;
    const channels = stringList(payload.channels, 'channels');
    if (channels !== undefined) creds.channels = channels;
    const subs = stringList(payload.subs, 'subs');
    if (subs !== undefined) creds.subs = subs;
    return creds;
  }
}

function stringList(value: unknown, claim: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) {
    throw new AuthError(ErrorCode.Unauthorized, `invalid token: \`${claim}\` claim must be an array of strings`);
  }
  return value;
}

function headerAlg(token: string): string {
  const head = token.split('.')[0] ?? '';
  try {
    const parsed = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: unknown };
    if (typeof parsed.alg === 'string') return parsed.alg;
  } catch {
    // fall through
  }
  throw new AuthError(ErrorCode.Unauthorized, 'invalid token: not a JWT');
}
