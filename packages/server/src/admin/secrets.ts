import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** The longest password or key compared; longer ones are refused without hashing. */
export const MAX_SECRET_LENGTH = 1024;
const KEY_BYTES = 32;

function derive(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_BYTES, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * The admin console's login secrets (`adminPassword`, `adminKey`), kept only as scrypt hashes with
 * a random salt: the plain text is never held here, and a guess is compared in constant time.
 */
export class AdminSecrets {
  private constructor(private readonly salt: Buffer, private readonly hashes: Buffer[]) {}

  /** Hashes every given secret (empty and undefined ones are skipped). */
  static async create(secrets: readonly (string | undefined)[]): Promise<AdminSecrets> {
    const salt = randomBytes(16);
    const given = secrets.filter((s): s is string => s !== undefined && s !== '');
    return new AdminSecrets(salt, await Promise.all(given.map((s) => derive(s, salt))));
  }

  /** True when `guess` is one of the secrets. Never rejects; takes one scrypt derivation whatever the guess. */
  async matches(guess: string): Promise<boolean> {
    if (this.hashes.length === 0 || guess === '' || guess.length > MAX_SECRET_LENGTH) return false;
    const key = await derive(guess, this.salt);
    let ok = false;
    for (const h of this.hashes) ok = timingSafeEqual(h, key) || ok;
    return ok;
  }
}

/** True when `a` and `b` are the same text, in time independent of where they differ. */
export function sameText(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
