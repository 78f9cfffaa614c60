import { CHANNEL_CHARS, ErrorCode, isValidChannel, type InboxEvent, type Notification } from '@tidings/protocol';
import { TidingsError, badRequest } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import type { Publisher } from '../publisher.js';
import { digestsOf, type BatchedInput } from './digest.js';
import { IdempotencyConflict, InvalidCursor, type CreateResult, type ListResult, type Mark, type NotificationStore } from './store.js';

/** Most users one create may address. */
export const MAX_NOTIFICATION_USERS = 10_000;
export const DEFAULT_INBOX_PAGE = 20;
/** Levels an inbox event adds around a payload: `{notifications: [{payload}]}`. */
const EVENT_WRAPPING = 3;

/** A user's inbox channel, where every change to their notifications is published. */
export function inboxChannel(user: string): string {
  return `inbox:${user}`;
}

/** Throws bad_request unless `user` can own an inbox (its channel name must be valid). */
export function checkUser(user: unknown): string {
  if (typeof user !== 'string' || user === '' || user.length > 200 || !isValidChannel(inboxChannel(user))) {
    const shown = typeof user === 'string' ? JSON.stringify(user.slice(0, 64)) : typeof user;
    throw badRequest(`invalid user id ${shown}: 1–200 characters of ${CHANNEL_CHARS}`);
  }
  return user;
}

/**
 * Notifications as a product: stored first (durable before anyone is told), then announced on the
 * user's inbox channel — `notification.created` / `.updated` / `.deleted`, then `unread.count` —
 * so every device of the user, on any transport, keeps the same list and badge.
 */
export class Inbox {
  constructor(private readonly store: NotificationStore, private readonly publisher: Publisher, private readonly log: Logger, private readonly metrics?: Metrics) {}

  /**
   * Stores for every user (all or none); visible ones are announced once stored. With `digest` or
   * `throttle` (./digest.ts): items join the user's open digest (announced as
   * `notification.updated`, without an unread count) and users over their throttle are skipped
   * (`throttled`). Throws TidingsError 107 (bad_request) for a payload the publisher's `checkData`
   * refuses, or a digest or throttle on a store without `digests` (nothing is stored).
   */
  async create(users: readonly string[], input: BatchedInput, idempotencyKey?: string): Promise<CreateResult & { throttled?: number }> {
    this.publisher.checkData(input.payload, 'payload');
    if (input.digest || input.throttle) return this.createBatched(users, input, idempotencyKey);
    const now = Date.now();
    let result: CreateResult;
    try {
      result = await this.store.create(users, input, { idempotencyKey, now });
    } catch (err) {
      if (err instanceof IdempotencyConflict) throw new TidingsError(ErrorCode.Conflict, err.message);
      throw err;
    }
    if (!result.duplicate) this.announce(result.notifications.filter((n) => n.deliverAt === undefined || n.deliverAt <= now));
    return result;
  }

  private async createBatched(users: readonly string[], input: BatchedInput, idempotencyKey?: string): Promise<CreateResult & { throttled: number }> {
    const digests = digestsOf(this.store);
    if (!digests) throw badRequest('this notification store does no digests or throttles');
    let result;
    try {
      result = await digests.createBatched(users, input, { idempotencyKey, now: Date.now() });
    } catch (err) {
      if (err instanceof IdempotencyConflict) throw new TidingsError(ErrorCode.Conflict, err.message);
      throw err;
    }
    const { notifications, outcomes, throttled, duplicate } = result;
    if (!duplicate) {
      if (throttled > 0) this.metrics?.notificationsThrottled.inc(throttled);
      for (const n of notifications) if (n.digest) this.metrics?.digestItems.inc({ outcome: n.digest.count === 1 ? 'opened' : 'joined' });
      this.announce(notifications.filter((_, i) => outcomes[i] === 'created'));
      const updated = notifications.filter((_, i) => outcomes[i] === 'updated');
      if (updated.length > 0) {
        void (async () => {
          for (const n of updated) await this.emit(n.user, { type: 'notification.updated', notifications: [n] });
        })().catch((err: unknown) => this.log.warn('announcing digest updates failed', { err: String(err) }));
      }
    }
    return { notifications, duplicate, throttled };
  }

  async list(user: string, options: { cursor?: string | undefined; limit?: number | undefined; unread?: boolean | undefined }): Promise<ListResult> {
    try {
      return await this.store.list(user, { cursor: options.cursor, limit: options.limit ?? DEFAULT_INBOX_PAGE, unread: options.unread }, Date.now());
    } catch (err) {
      if (err instanceof InvalidCursor) throw badRequest(err.message);
      throw err;
    }
  }

  /** Marks and tells the user's devices; resolves with the unread count after. */
  async mark(user: string, target: readonly string[] | 'all', mark: Mark): Promise<number> {
    const changed = await this.store.mark(user, target, mark, Date.now());
    const unread = await this.count(user);
    if (changed.length > 0) {
      await this.emit(user, { type: 'notification.updated', notifications: changed });
      await this.emit(user, { type: 'unread.count', unread });
    }
    return unread;
  }

  async remove(user: string, ids: readonly string[]): Promise<number> {
    const gone = await this.store.remove(user, ids);
    const unread = await this.count(user);
    if (gone.length > 0) {
      await this.emit(user, { type: 'notification.deleted', ids: gone });
      await this.emit(user, { type: 'unread.count', unread });
    }
    return unread;
  }

  count(user: string): Promise<number> {
    return this.store.unreadCount(user, Date.now());
  }

  /** Publishes `notification.created` for each, then each user's new unread count. Never throws. */
  announce(notifications: readonly Notification[]): void {
    if (notifications.length === 0) return;
    void (async () => {
      const users = new Set<string>();
      for (const n of notifications) {
        users.add(n.user);
        await this.emit(n.user, { type: 'notification.created', notification: n });
      }
      for (const user of users) await this.emit(user, { type: 'unread.count', unread: await this.count(user) });
    })().catch((err: unknown) => this.log.warn('announcing notifications failed', { err: String(err) }));
  }

  private async emit(user: string, event: InboxEvent): Promise<void> {
    await this.publisher.publish(inboxChannel(user), event, { wrapping: EVENT_WRAPPING, source: 'notification' });
  }
}
