import type {
  ActionName, ActionResult, CommandType, InboxEvent, InboxListResult, Notification, NotificationPreferences, PreferenceChanges, ResultOf,
} from '@tidings/protocol';
import { Emitter } from './emitter.js';
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
}

/**
 * The user's notifications (`client.inbox`): list, mark read / unread / all read / seen, delete,
 * preferences (mute types and tags), complete actions,
 * and a live `unreadCount`, kept in step on every device of the user through the inbox channel
 * `inbox:<user>`. Live updates start once the client has connected as a user.
 */
export class Inbox extends Emitter<InboxEvents> {
  /** The unread count, live; undefined until first known. */
  unreadCount: number | undefined;
  private subscription: Subscription | undefined;

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

  private async mark(command: CommandBody & { type: 'inbox.mark' }): Promise<number> {
    return this.setCount((await this.host.call(command)).unread);
  }

  private onEvent(event: InboxEvent): void {
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
