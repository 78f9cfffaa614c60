import {
  MAX_COUNT_FILTERS, type ActionName, type ActionResult, type CommandType, type InboxEvent, type InboxFilter, type InboxListResult, type Notification,
  type NotificationPreferences, type PreferenceChanges, type ResultOf,
} from '@tidings/protocol';
import { Emitter } from './emitter.js';
import { LiveCount } from './live-count.js';
import type { CommandBody } from './session.js';
import type { Subscription, SubscriptionHandlers } from './subscription.js';

/** What the inbox needs from its client. */
export interface InboxHost {
  call<T extends CommandType>(command: CommandBody & { type: T }): Promise<ResultOf[T]>;
  subscribe(channel: string, handlers: SubscriptionHandlers): Subscription;
}

export interface InboxEvents {
  /** The unread count changed (here or on another device of the user). */
  unread: { unread: number };
  created: Notification;
  updated: Notification[];
  deleted: string[];
  /** The user's preferences changed (here or on another device). */
  preferences: NotificationPreferences;
}

export interface InboxListOptions {
  cursor?: string;
  limit?: number;
  unread?: boolean;
  /** Which ones (default: not archived, not snoozed now); see InboxFilter. */
  filter?: InboxFilter;
}

/**
 * The user's notifications (`client.inbox`): list (filtered), mark read / unread / all read /
 * seen, archive, snooze, delete, preferences (mute types and tags), complete actions, a live
 * `unreadCount`, and live counts per filter (`watch`), kept in step on every device of the user
 * through the inbox channel `inbox:<user>`. Live updates start once the client has connected as a
 * user.
 */
export class Inbox extends Emitter<InboxEvents> {
  /** The unread count, live; undefined until first known. */
  unreadCount: number | undefined;
  private subscription: Subscription | undefined;
  private readonly watched = new Set<LiveCount>();
  /** A refresh of the watched counts is running; `stale`: another is needed after it. */
  private refreshing = false;
  private stale = false;

  constructor(private readonly host: InboxHost) {
    super();
  }

  /** Follows `inbox:<user>`; the client calls it when connected as `user`. */
  follow(user: string): void {
    if (user === '' || this.subscription?.channel === `inbox:${user}`) return;
    this.subscription?.unsubscribe();
    this.subscription = this.host.subscribe(`inbox:${user}`, {
      subscribed: ({ recovered }) => {
        // without recovery the count may have changed meanwhile: ask for it
        if (!recovered) void this.count().catch(() => {});
        // watched counts not known yet (asked for before connecting) or possibly stale
        if (!recovered || [...this.watched].some((c) => c.value === undefined)) this.refresh();
      },
      publication: ({ data }) => this.onEvent(data as InboxEvent),
    });
  }

  list(options: InboxListOptions = {}): Promise<InboxListResult> {
    return this.host.call({ type: 'inbox.list', ...options });
  }

  markRead(ids: string[]): Promise<number> {
    return this.mark({ type: 'inbox.mark', ids, read: true });
  }

  markUnread(ids: string[]): Promise<number> {
    return this.mark({ type: 'inbox.mark', ids, read: false });
  }

  markAllRead(): Promise<number> {
    return this.mark({ type: 'inbox.mark', all: true, read: true });
  }

  markSeen(ids: string[] | 'all'): Promise<number> {
    return this.mark(ids === 'all' ? { type: 'inbox.mark', all: true, seen: true } : { type: 'inbox.mark', ids, seen: true });
  }

  async delete(ids: string[]): Promise<number> {
    return this.setCount((await this.host.call({ type: 'inbox.delete', ids })).unread);
  }

  /** The user's notification preferences: muted types (and critical ones) and muted tags. */
  preferences(): Promise<NotificationPreferences> {
    return this.host.call({ type: 'inbox.preferences' });
  }

  /**
   * Changes the user's preferences (`types`: true mutes, false unmutes, null returns to the
   * default; `tags`: true mutes, false unmutes) and resolves with them after. Rejects with code
   * 130 (`type_critical`) for a critical type; then nothing changed.
   */
  setPreferences(changes: PreferenceChanges): Promise<NotificationPreferences> {
    return this.host.call({ type: 'inbox.preferences', ...changes });
  }

  /**
   * Completes the notification's `action`: recorded, shown on the user's other devices
   * (`updated`), and reported to the app; `report` says whether that worked (`sent`, `failed`, `off`).
   */
  completeAction(id: string, action: ActionName = 'primary'): Promise<ActionResult> {
    return this.host.call({ type: 'inbox.action', notification: id, action });
  }

  async count(): Promise<number> {
    return this.setCount((await this.host.call({ type: 'inbox.count' })).unread);
  }

  /** Archives notifications (or all); they leave the default list and the badge on every device. Resolves with the unread count. */
  archive(ids: string[] | 'all'): Promise<number> {
    return this.command(ids === 'all' ? { type: 'inbox.archive', all: true } : { type: 'inbox.archive', ids });
  }

  unarchive(ids: string[] | 'all'): Promise<number> {
    return this.command(ids === 'all' ? { type: 'inbox.archive', all: true, archived: false } : { type: 'inbox.archive', ids, archived: false });
  }

  /**
   * Snoozes notifications until `until` (1 s to 90 days from now, else error 128): they leave the
   * default list and the badge, and come back by themselves then (an `updated` event).
   */
  snooze(ids: string[], until: Date | number): Promise<number> {
    return this.command({ type: 'inbox.snooze', ids, until: typeof until === 'number' ? until : until.getTime() });
  }

  unsnooze(ids: string[]): Promise<number> {
    return this.command({ type: 'inbox.snooze', ids, until: null });
  }

  /** How many notifications match each filter (at most 20), in order. */
  async counts(filters: InboxFilter[]): Promise<number[]> {
    const result = await this.host.call({ type: 'inbox.count', filters });
    this.setCount(result.unread);
    return result.counts ?? [];
  }

  /**
   * A live count of the notifications matching `filter` (e.g. one per tab): known after the first
   * answer, then asked again after every inbox event, on any device. `close()` it when done.
   */
  watch(filter: InboxFilter): LiveCount {
    const live = new LiveCount(filter, (c) => this.watched.delete(c));
    this.watched.add(live);
    this.refresh();
    return live;
  }

  /** Asks for every watched count again (at most one request at a time, and one more if needed meanwhile). */
  private refresh(): void {
    if (this.watched.size === 0) return;
    if (this.refreshing) {
      this.stale = true;
      return;
    }
    this.refreshing = true;
    this.stale = false;
    void (async () => {
      const all = [...this.watched];
      for (let i = 0; i < all.length; i += MAX_COUNT_FILTERS) {
        const chunk = all.slice(i, i + MAX_COUNT_FILTERS);
        const counts = await this.counts(chunk.map((c) => c.filter));
        chunk.forEach((c, j) => { if (counts[j] !== undefined) c.set(counts[j]); });
      }
    })().catch(() => {
      // not connected now: the next event or resubscription asks again
    }).finally(() => {
      this.refreshing = false;
      if (this.stale) this.refresh();
    });
  }

  private async command(command: CommandBody & { type: 'inbox.archive' | 'inbox.snooze' }): Promise<number> {
    return this.setCount((await this.host.call(command)).unread);
  }

  private async mark(command: CommandBody & { type: 'inbox.mark' }): Promise<number> {
    return this.setCount((await this.host.call(command)).unread);
  }

  private onEvent(event: InboxEvent): void {
    if (event.type !== 'unread.count') this.refresh();
    switch (event.type) {
      case 'unread.count': this.setCount(event.unread); break;
      case 'notification.created': this.emit('created', event.notification); break;
      case 'notification.updated': this.emit('updated', event.notifications); break;
      case 'notification.deleted': this.emit('deleted', event.ids); break;
      case 'preferences.updated': this.emit('preferences', event.preferences); break;
    }
  }

  private setCount(unread: number): number {
    if (unread !== this.unreadCount) {
      this.unreadCount = unread;
      this.emit('unread', { unread });
    }
    return unread;
  }
}
