import type { Command, InboxCountResult, InboxListResult } from '@tidings/protocol';
import type { Inbox } from './inbox.js';

/** The JSON protocol's inbox commands. */
export type InboxCommand = Extract<Command, { type: `inbox.${string}` }>;

/**
 * Runs one inbox command for the connection's `user` (already decoded and checked for shape by
 * the protocol codec). Throws TidingsError as Inbox does (128, 129, bad cursor 107).
 */
export async function inboxCommand(inbox: Inbox, user: string, cmd: InboxCommand): Promise<InboxListResult | InboxCountResult> {
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
  }
}
