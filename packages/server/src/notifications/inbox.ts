import {
  CHANNEL_CHARS, ErrorCode, MAX_SNOOZE_MS, MIN_SNOOZE_MS, isValidChannel, type InboxEvent, type InboxFilter, type Notification,
  type NotificationPreferences, type PreferenceChanges,
} from '@tidings/protocol';
import { TidingsError, badRequest } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import type { Publisher } from '../publisher.js';
import { digestsOf, type BatchedInput } from './digest.js';
import { Preferences } from './preferences.js';
import { IdempotencyConflict, InvalidCursor, UnknownNotifications, type CreateResult, type ListResult, type Mark, type NotificationStore } from './store.js';

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
  /**
   * `preferences`: who mutes what (no type muted, none critical when not given). `onSkipped`: told
   * how many users of a create were skipped because they muted it (the metric). `metrics`: digest
   * and throttle counters.
   */
  constructor(
    private readonly store: NotificationStore,
    private readonly publisher: Publisher,
    private readonly log: Logger,
    readonly preferences: Preferences = new Preferences(store, {}),
    private readonly onSkipped: (count: number) => void = () => {},
    private readonly metrics?: Metrics,
  ) {}

  /**
   * Stores for every user who did not mute it (all or none); visible ones are announced once stored.
   * `skipped`: how many users muted its type or a tag and got nothing (one preferences read per create).
   * With `digest` or `throttle` (./digest.ts), for the users who did not mute it: items join the
   * user's open digest (announced as `notification.updated`, without an unread count) and users over
   * their throttle are skipped (`throttled`).
   * Throws TidingsError 107 (bad_request) for a payload the publisher's `checkData` refuses, or a
   * digest or throttle on a store without `digests` (nothing is stored).
   */
  async create(users: readonly string[], input: BatchedInput, idempotencyKey?: string): Promise<CreateResult & { skipped: number; throttled?: number }> {
    this.publisher.checkData(input.payload, 'payload');
    const muted = await this.preferences.muted(users, input.type, input.tags);
    if (input.digest || input.throttle) {
      const result = await this.createBatched(muted.size === 0 ? users : users.filter((u) => !muted.has(u)), input, idempotencyKey);
      if (!result.duplicate && muted.size > 0) this.onSkipped(muted.size);
      return { ...result, skipped: muted.size };
    }
    const now = Date.now();
    let result: CreateResult;
    try {
      result = await this.store.create(users, input, { idempotencyKey, now, muted });
    } catch (err) {
      if (err instanceof IdempotencyConflict) throw new TidingsError(ErrorCode.Conflict, err.message);
      throw err;
    }
    // a repeat answers what the first create stored: the users without a notification were skipped then
    const skipped = result.duplicate ? users.length - result.notifications.length : muted.size;
    if (!result.duplicate) {
      if (skipped > 0) this.onSkipped(skipped);
      this.announce(result.notifications.filter((n) => n.deliverAt === undefined || n.deliverAt <= now));
    }
    return { ...result, skipped };
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


  /**
   * The user's preferences, after applying `changes` when it holds any; a change is announced to
   * the user's devices (`preferences.updated`). Throws as Preferences.change does (130, 106).
   */
  async preferencesOf(user: string, changes: PreferenceChanges = {}): Promise<NotificationPreferences> {
    if (Object.keys(changes.types ?? {}).length + Object.keys(changes.tags ?? {}).length === 0) return this.preferences.get(user);
    const preferences = await this.preferences.change(user, changes);
    await this.emit(user, { type: 'preferences.updated', preferences });
    return preferences;
  }

  /** Tells the user's devices that these notifications changed (`notification.updated`). */
  async updated(user: string, notifications: Notification[]): Promise<void> {
    if (notifications.length > 0) await this.emit(user, { type: 'notification.updated', notifications });
  }

  /** A page of the user's notifications matching `filter` (default: not archived, not snoozed now). */
  async list(user: string, options: { cursor?: string | undefined; limit?: number | undefined; unread?: boolean | undefined; filter?: InboxFilter | undefined }): Promise<ListResult> {
    try {
      return await this.store.list(user, { cursor: options.cursor, limit: options.limit ?? DEFAULT_INBOX_PAGE, unread: options.unread, filter: options.filter }, Date.now());
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

  // ---- inbox state: archive, snooze, filtered counts, waking snoozed ones ----

  /**
   * Archives (or unarchives) the given or all visible notifications and tells the user's devices;
   * resolves with the unread count after. Throws TidingsError 129 when an id names no visible
   * notification of the user (nothing changed).
   */
  async archive(user: string, target: readonly string[] | 'all', archived: boolean): Promise<number> {
    return this.changed(user, await this.known(() => this.store.archive(user, target, archived, Date.now())));
  }

  /**
   * Snoozes notifications until `until` (ms since the epoch, MIN_SNOOZE_MS to MAX_SNOOZE_MS from
   * now, else TidingsError 128), or unsnoozes them (`null`), and tells the user's devices; resolves
   * with the unread count after. Unknown ids: TidingsError 129, nothing changed.
   */
  async snooze(user: string, ids: readonly string[], until: number | null): Promise<number> {
    const now = Date.now();
    if (until !== null && (until < now + MIN_SNOOZE_MS || until > now + MAX_SNOOZE_MS)) {
      const when = Number.isFinite(until) && Math.abs(until) < 8.64e15 ? new Date(until).toISOString() : String(until);
      throw new TidingsError(ErrorCode.SnoozeOutOfRange, `a snooze must end ${MIN_SNOOZE_MS / 1000} s to ${MAX_SNOOZE_MS / 86_400_000} days from now; ${when} is not`);
    }
    return this.changed(user, await this.known(() => this.store.snooze(user, ids, until, now)));
  }

  /** How many of the user's notifications match each filter, in order. */
  async counts(user: string, filters: readonly InboxFilter[]): Promise<number[]> {
    const now = Date.now();
    return Promise.all(filters.map((f) => this.store.count(user, f, now)));
  }

  /**
   * Wakes snoozed notifications whose time has come: leases them to `owner` in the store (so one
   * node of a cluster does it), announces each as `notification.updated` without `snoozedUntil`
   * (then the user's unread count), and ends their snooze. Resolves with how many were announced.
   */
  async wake(now: number, owner: string, leaseMs: number): Promise<number> {
    const due = await this.store.claimWakes(now, owner, leaseMs, 1000);
    if (due.length === 0) return 0;
    const byUser = new Map<string, Notification[]>();
    for (const n of due) {
      if (n.expireAt !== undefined && n.expireAt <= now) continue;
      const { snoozedUntil: _, ...woken } = n;
      byUser.set(n.user, [...(byUser.get(n.user) ?? []), woken]);
    }
    for (const [user, notifications] of byUser) {
      await this.emit(user, { type: 'notification.updated', notifications });
      await this.emit(user, { type: 'unread.count', unread: await this.count(user) });
    }
    await this.store.completeWakes(due.map((n) => n.id), owner);
    return due.length;
  }

  /** Tells the user's devices what changed (when anything did); resolves with the unread count. */
  private async changed(user: string, notifications: Notification[]): Promise<number> {
    const unread = await this.count(user);
    if (notifications.length > 0) {
      await this.emit(user, { type: 'notification.updated', notifications });
      await this.emit(user, { type: 'unread.count', unread });
    }
    return unread;
  }

  private async known<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (err) {
      if (err instanceof UnknownNotifications) throw new TidingsError(ErrorCode.UnknownNotification, err.message);
      throw err;
    }
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
