import { ErrorCode } from '@tidings/protocol';
import type { Credentials } from './auth/jwt.js';
import type { PresenceManager } from './engine/engine.js';
import { TidingsError } from './errors.js';

/**
 * The engine presence set holding a user's remembered server-side subscriptions (one entry per
 * channel). `$` is not allowed in channel names, so no client can subscribe to, publish to or ask
 * the presence of this set.
 */
export function recordKey(user: string): string {
  return `$subs:${user}`;
}

/**
 * Server-side subscriptions made through `POST /api/subscribe`, remembered per user in the
 * engine's presence (cluster-wide with Redis, expiring `ttl` seconds after the last call), so
 * the user's later connections and reconnects on any node get them back. Only the server API
 * writes them: a client cannot add itself to a channel by claiming it was server-side.
 */
export class ServerSubscriptions {
  constructor(
    private readonly engine: PresenceManager,
    /** Seconds a remembered subscription lives after its last `remember`. */
    private readonly ttl: number,
    /** Most channels remembered per user (the per-connection subscription limit). */
    private readonly max: number,
  ) {}

  /**
   * Remembers `channel` for `user`. Throws limit_exceeded (106) when the user already has `max`
   * other remembered channels; engine errors as the engine throws them.
   */
  async remember(user: string, channel: string): Promise<void> {
    const held = await this.engine.presence(recordKey(user));
    if (!Object.hasOwn(held, channel) && Object.keys(held).length >= this.max) {
      throw new TidingsError(ErrorCode.LimitExceeded, `at most ${this.max} server-side subscriptions per user`);
    }
    await this.engine.addPresence(recordKey(user), channel, { client: channel, user }, this.ttl);
  }

  forget(user: string, channel: string): Promise<void> {
    return this.engine.removePresence(recordKey(user), channel);
  }

  /** The user's remembered channels; none for anonymous (`''`). */
  async of(user: string): Promise<string[]> {
    if (user === '') return [];
    return Object.keys(await this.engine.presence(recordKey(user)));
  }

  /**
   * The server-side subscriptions a connection starts with: the credentials' `subs` (the JWT
   * `subs` claim, or a connect proxy's `channels` answer), then the remembered ones, without
   * repeats or any in `skip` (channels the connection subscribes to anyway).
   */
  async forConnection(credentials: Pick<Credentials, 'user' | 'subs'> | undefined, skip: readonly string[] = []): Promise<string[]> {
    const out = new Set<string>(credentials?.subs ?? []);
    for (const channel of await this.of(credentials?.user ?? '')) out.add(channel);
    for (const channel of skip) out.delete(channel);
    return [...out];
  }
}
