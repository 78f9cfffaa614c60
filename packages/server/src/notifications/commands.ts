import type { ActionResult, Command, InboxCountResult, InboxListResult, NotificationPreferences } from '@tidings/protocol';
import type { InboxActions } from './actions.js';
import type { Inbox } from './inbox.js';

/** The JSON protocol's inbox commands. */
export type InboxCommand = Extract<Command, { type: `inbox.${string}` }>;

/** What the inbox commands run on: the node's inbox and its action recorder. */
export interface InboxCommandHost { readonly inbox: Inbox; readonly inboxActions: InboxActions }

/**
 * Runs one inbox command for the connection's `user` (already decoded and checked for shape by
 * the protocol codec); `client` is the connection's client id, passed to the action proxy.
 * Throws TidingsError as Inbox and InboxActions do (128–131, bad cursor 107).
 */
export async function inboxCommand(
  host: InboxCommandHost, user: string, cmd: InboxCommand, client: string,
): Promise<InboxListResult | InboxCountResult | NotificationPreferences | ActionResult> {
  const { inbox } = host;
  switch (cmd.type) {
    case 'inbox.list': return inbox.list(user, cmd);
    case 'inbox.count': {
      const unread = await inbox.count(user);
      return cmd.filters ? { unread, counts: await inbox.counts(user, cmd.filters) } : { unread };
    }
    case 'inbox.delete': return { unread: await inbox.remove(user, cmd.ids) };
    case 'inbox.mark': return { unread: await inbox.mark(user, cmd.all ? 'all' : cmd.ids ?? [], { read: cmd.read, seen: cmd.seen }) };
    case 'inbox.archive': return { unread: await inbox.archive(user, cmd.all ? 'all' : cmd.ids ?? [], cmd.archived !== false) };
    case 'inbox.snooze': return { unread: await inbox.snooze(user, cmd.ids, cmd.until) };
    case 'inbox.preferences': return inbox.preferencesOf(user, cmd);
    case 'inbox.action': return host.inboxActions.complete(user, cmd.notification, cmd.action, client);
  }
}
