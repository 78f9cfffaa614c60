import type { IncomingMessage } from 'node:http';
import { parseInboxFilter, severityError, tagsError, type InboxFilter, type Severity } from '@tidings/protocol';
import { badRequest } from '../errors.js';
import { checkUser, type Inbox } from '../notifications/inbox.js';
import type { ServerOptions } from '../options.js';
import { jsonObject, wellFormed } from './fields.js';

/** What the inbox-state routes need from the API host. */
export interface InboxStateHost {
  readonly options: ServerOptions;
  readonly inbox: Inbox;
}

type Route = (host: InboxStateHost, req: IncomingMessage, url: URL) => Promise<unknown>;

const MAX_IDS = 1000;

/** `/api/notifications/{archive,unarchive,snooze,unsnooze,count}` (docs/notifications.md, Inbox state). */
export const inboxStateRoutes: Record<string, Route> = {
  'POST /api/notifications/archive': async (host, req) => {
    const { user, target } = await idsBody(host, req, true);
    return { unread: await host.inbox.archive(user, target, true) };
  },
  'POST /api/notifications/unarchive': async (host, req) => {
    const { user, target } = await idsBody(host, req, true);
    return { unread: await host.inbox.archive(user, target, false) };
  },
  'POST /api/notifications/snooze': async (host, req) => {
    const { user, target, body } = await idsBody(host, req, false);
    const until = timeField(body.until, 'until');
    if (until === undefined) throw badRequest('`until` is required: when the snooze ends (ISO 8601 or ms since the epoch)');
    return { unread: await host.inbox.snooze(user, target as string[], until) };
  },
  'POST /api/notifications/unsnooze': async (host, req) => {
    const { user, target } = await idsBody(host, req, false);
    return { unread: await host.inbox.snooze(user, target as string[], null) };
  },
  'GET /api/notifications/count': async (host, _req, url) => {
    const user = checkUser(url.searchParams.get('user'));
    const [count] = await host.inbox.counts(user, [filterParams(url) ?? {}]);
    return { count, unread: await host.inbox.count(user) };
  },
};

/**
 * The filter of a list or count from query parameters: `read`, `seen`, `archived`, `snoozed`
 * (true or false), `type`, `tag`, `severity` (each repeatable: any of them). Undefined when none.
 */
export function filterParams(url: URL): InboxFilter | undefined {
  const q = url.searchParams;
  const raw: Record<string, unknown> = {};
  for (const key of ['read', 'seen', 'archived', 'snoozed'] as const) {
    const v = q.get(key);
    if (v === null) continue;
    if (v !== 'true' && v !== 'false') throw badRequest(`\`${key}\` must be true or false`);
    raw[key] = v === 'true';
  }
  for (const [param, key] of [['type', 'type'], ['tag', 'tags'], ['severity', 'severity']] as const) {
    const all = q.getAll(param);
    if (all.length > 0) raw[key] = all;
  }
  if (Object.keys(raw).length === 0) return undefined;
  const filter = parseInboxFilter(raw, 'query');
  if (typeof filter === 'string') throw badRequest(filter);
  return filter;
}

/** A create's `tags` and `severity`: checked (bad_request), deduplicated; absent ones left out. */
export function tagsAndSeverity(body: Record<string, unknown>): { tags?: string[]; severity?: Severity } {
  const out: { tags?: string[]; severity?: Severity } = {};
  if (body.tags !== undefined) {
    const err = tagsError(body.tags);
    if (err) throw badRequest(err);
    out.tags = [...new Set(body.tags as string[])];
  }
  if (body.severity !== undefined) {
    const err = severityError(body.severity);
    if (err) throw badRequest(err);
    out.severity = body.severity as Severity;
  }
  return out;
}

/** An ISO 8601 date-time or milliseconds since the Unix epoch. */
export function timeField(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'number' ? v : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isSafeInteger(ms)) throw badRequest(`\`${name}\` must be an ISO 8601 date-time or milliseconds since the epoch`);
  return ms;
}

/** `{user, ids}` (1–1000 ids), or with `allowAll` `{user, all: true}`. */
async function idsBody(host: InboxStateHost, req: IncomingMessage, allowAll: boolean): Promise<{ user: string; target: string[] | 'all'; body: Record<string, unknown> }> {
  const body = await jsonObject(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
  const user = checkUser(body.user);
  const { ids, all } = body;
  if (allowAll && (ids === undefined) === (all === undefined)) throw badRequest('give either `ids` or `all: true`');
  if (all !== undefined && (!allowAll || all !== true)) throw badRequest(allowAll ? '`all` must be true when given' : 'give `ids`; `all` is not accepted here');
  if (all === true) return { user, target: 'all', body };
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS || !ids.every((x) => typeof x === 'string' && x !== '' && x.length <= 64)) {
    throw badRequest(`\`ids\` must be an array of 1 to ${MAX_IDS} notification ids`);
  }
  for (const id of ids as string[]) wellFormed(id, 'ids');
  return { user, target: ids as string[], body };
}


