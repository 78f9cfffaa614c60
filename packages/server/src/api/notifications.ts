import type { IncomingMessage } from 'node:http';
import { ACTION_NAMES, ErrorCode, MAX_INBOX_PAGE, parsePreferenceChanges, type ActionName } from '@tidings/protocol';
import { TidingsError, badRequest } from '../errors.js';
import { parseActions, type InboxActions } from '../notifications/actions.js';
import { checkTimezone, nextRun } from '../notifications/cron.js';
import { parseDigest, parseThrottle, type BatchedInput } from '../notifications/digest.js';
import { MAX_NOTIFICATION_USERS, checkUser, type Inbox } from '../notifications/inbox.js';
import type { NotificationInput, NotificationStore, ScheduleTarget } from '../notifications/store.js';
import type { ServerOptions } from '../options.js';
import type { Publisher } from '../publisher.js';
import { channelField, intParam, jsonObject, optionalString, wellFormed } from './fields.js';
import { filterParams, inboxStateRoutes, tagsAndSeverity, timeField } from './inbox-state.js';

export interface NotificationsHost {
  readonly options: ServerOptions;
  readonly inbox: Inbox;
  readonly inboxActions: InboxActions;
  readonly store: NotificationStore;
  readonly policy: { resolve(channel: string): unknown };
  readonly publisher: Publisher;
}

/** Bodies of `/api/notifications` may carry 10,000 user ids. */
export const NOTIFICATIONS_BODY_LIMIT = 1024 * 1024;
const MAX_IDS = 1000;

type Route = (host: NotificationsHost, req: IncomingMessage, url: URL) => Promise<unknown>;

export const notificationRoutes: Record<string, Route> = {
  'POST /api/notifications': async (host, req) => {
    const body = await jsonObject(req, NOTIFICATIONS_BODY_LIMIT, host.options.limits.maxDepth);
    const users = usersField(body);
    const input: BatchedInput = notificationInput(host, body);
    input.digest = parseDigest(body.digest);
    input.throttle = parseThrottle(body.throttle);
    if (input.digest && (input.deliverAt !== undefined || input.expireAt !== undefined)) throw badRequest('a digest takes no `deliverAt` or `expireAt` (its window says when)');
    const result = await host.inbox.create(users, input, optionalString(body, 'idempotencyKey'));
    return { notifications: result.notifications, duplicate: result.duplicate, skipped: result.skipped, ...(input.throttle ? { throttled: result.throttled ?? 0 } : {}) };
  },

  'GET /api/notifications/preferences': async (host, _req, url) => ({ preferences: await host.inbox.preferencesOf(checkUser(url.searchParams.get('user'))) }),

  'POST /api/notifications/preferences': async (host, req) => {
    const body = await jsonObject(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
    const user = checkUser(body.user);
    const changes = parsePreferenceChanges(body);
    if (typeof changes === 'string') throw badRequest(changes);
    return { preferences: await host.inbox.preferencesOf(user, changes) };
  },

  'POST /api/notifications/action': async (host, req) => {
    const body = await jsonObject(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
    const user = checkUser(body.user);
    const id = optionalString(body, 'id', 64);
    if (id === undefined) throw badRequest('`id` (the notification\'s) is required');
    if (!ACTION_NAMES.includes(body.action as ActionName)) throw badRequest('`action` must be primary or secondary');
    return host.inboxActions.complete(user, id, body.action as ActionName);
  },

  'GET /api/notifications': async (host, _req, url) => {
    const user = checkUser(url.searchParams.get('user'));
    const limit = intParam(url, 'limit');
    if (limit !== undefined && (limit < 1 || limit > MAX_INBOX_PAGE)) throw badRequest(`\`limit\` must be from 1 to ${MAX_INBOX_PAGE}`);
    const unread = url.searchParams.get('unread');
    if (unread !== null && unread !== 'true' && unread !== 'false') throw badRequest('`unread` must be true or false');
    return host.inbox.list(user, { cursor: url.searchParams.get('cursor') ?? undefined, limit, unread: unread === 'true', filter: filterParams(url) });
  },

  ...inboxStateRoutes,

  'GET /api/notifications/unread-count': async (host, _req, url) => ({ unread: await host.inbox.count(checkUser(url.searchParams.get('user'))) }),

  'POST /api/notifications/read': async (host, req) => mark(host, req, { read: true }),
  'POST /api/notifications/unread': async (host, req) => mark(host, req, { read: false }),
  'POST /api/notifications/seen': async (host, req) => mark(host, req, { seen: true }),

  'DELETE /api/notifications': async (host, _req, url) => {
    const user = checkUser(url.searchParams.get('user'));
    const ids = url.searchParams.getAll('id');
    if (ids.length === 0 || ids.length > MAX_IDS) throw badRequest(`give 1 to ${MAX_IDS} \`id\` parameters`);
    return { unread: await host.inbox.remove(user, ids) };
  },

  'POST /api/schedules': async (host, req) => {
    const body = await jsonObject(req, NOTIFICATIONS_BODY_LIMIT, host.options.limits.maxDepth);
    const cron = optionalString(body, 'cron', 200);
    if (cron === undefined) throw badRequest('`cron` is required (5 fields, or 6 with seconds first)');
    const timezone = optionalString(body, 'timezone', 64) ?? 'UTC';
    checkTimezone(timezone);
    const target = scheduleTarget(host, body.target);
    const now = Date.now();
    const first = nextRun(cron, timezone, now);
    if (first === null) throw badRequest(`cron expression ${JSON.stringify(cron)} never runs after now`);
    return { schedule: await host.store.createSchedule({ cron, timezone, target, nextRunAt: first }, now) };
  },

  'GET /api/schedules': async (host) => ({ schedules: await host.store.listSchedules() }),
};

/** `DELETE /api/schedules/<id>`. */
export async function cancelSchedule(host: NotificationsHost, id: string): Promise<unknown> {
  if (!(await host.store.cancelSchedule(id))) throw new TidingsError(ErrorCode.NotFound, `no schedule ${id.slice(0, 64)}`);
  return {};
}

async function mark(host: NotificationsHost, req: IncomingMessage, how: { read?: boolean; seen?: boolean }): Promise<unknown> {
  const body = await jsonObject(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
  const user = checkUser(body.user);
  const { ids, all } = body;
  if ((ids === undefined) === (all === undefined)) throw badRequest('give either `ids` or `all: true`');
  if (all !== undefined && all !== true) throw badRequest('`all` must be true when given');
  if (ids !== undefined && (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS || !ids.every((x) => typeof x === 'string'))) {
    throw badRequest(`\`ids\` must be an array of 1 to ${MAX_IDS} notification ids`);
  }
  if (ids !== undefined) for (const id of ids as string[]) wellFormed(id, 'ids');
  if (all === true && how.read === false) throw badRequest('mark ids unread, not all');
  return { unread: await host.inbox.mark(user, all === true ? 'all' : (ids as string[]), how) };
}

function usersField(body: Record<string, unknown>): string[] {
  if (body.user !== undefined && body.users !== undefined) throw badRequest('give `user` or `users`, not both');
  if (body.user !== undefined) return [checkUser(body.user)];
  const users = body.users;
  if (!Array.isArray(users) || users.length === 0) throw badRequest('`users` must be a non-empty array of user ids (or give `user`)');
  if (users.length > MAX_NOTIFICATION_USERS) throw badRequest(`at most ${MAX_NOTIFICATION_USERS} users per request`);
  const list = users.map(checkUser);
  if (new Set(list).size !== list.length) throw badRequest('`users` has duplicates');
  return list;
}

function notificationInput(host: NotificationsHost, body: Record<string, unknown>, now = Date.now()): NotificationInput {
  const type = optionalString(body, 'type', 100);
  if (type === undefined) throw badRequest('`type` is required (at most 100 characters)');
  if (body.payload === undefined) throw badRequest('`payload` is required');
  host.publisher.checkData(body.payload, 'payload');
  if (Buffer.byteLength(JSON.stringify(body.payload)) > host.options.limits.maxMessageSize) {
    throw new TidingsError(ErrorCode.MessageTooLarge, `\`payload\` over the ${host.options.limits.maxMessageSize}-byte limit`);
  }
  const input: NotificationInput = { type, payload: body.payload, ...tagsAndSeverity(body) };
  const actions = parseActions(body.actions);
  if (actions !== undefined) input.actions = actions;
  const deliverAt = timeField(body.deliverAt, 'deliverAt');
  const expireAt = timeField(body.expireAt, 'expireAt');
  if (deliverAt !== undefined) {
    if (deliverAt <= now) throw badRequest('`deliverAt` is in the past; leave it out to deliver now');
    input.deliverAt = deliverAt;
  }
  if (expireAt !== undefined) {
    if (expireAt <= (deliverAt ?? now)) throw badRequest('`expireAt` must be after delivery');
    input.expireAt = expireAt;
  }
  return input;
}

function scheduleTarget(host: NotificationsHost, v: unknown): ScheduleTarget {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('`target` must be {channel, data} or {notification: {users, type, payload, digest?, throttle?}}');
  const t = v as Record<string, unknown>;
  if (t.channel !== undefined) {
    const channel = channelField(t.channel);
    host.policy.resolve(channel);
    if (t.data === undefined) throw badRequest('`target.data` is required');
    host.publisher.checkData(t.data, 'target.data');
    return { type: 'publication', channel, data: t.data };
  }
  if (typeof t.notification === 'object' && t.notification !== null) {
    const n = t.notification as Record<string, unknown>;
    const users = usersField(n);
    const input = notificationInput(host, n);
    if (input.deliverAt !== undefined || input.expireAt !== undefined) throw badRequest('scheduled notifications take no `deliverAt` or `expireAt`');
    const digest = parseDigest(n.digest);
    const throttle = parseThrottle(n.throttle);
    return { type: 'notification', users, notification: { ...input, ...(digest ? { digest } : {}), ...(throttle ? { throttle } : {}) } };
  }
  throw badRequest('`target` must be {channel, data} or {notification: {users, type, payload}}');
}
