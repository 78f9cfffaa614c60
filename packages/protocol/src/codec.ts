import { isAdminChannel, isValidChannel } from './channel.js';
import { ErrorCode } from './codes.js';
import { MAX_COUNT_FILTERS, parseInboxFilter, type InboxFilter } from './inbox.js';
import { ACTION_NAMES, parsePreferenceChanges, type ActionName } from './preferences.js';
import type { Command, ProtocolError, Publication, ServerMessage, StreamPosition } from './messages.js';

/** Messages in one frame are separated by this character. */
export const FRAME_SEPARATOR = '\n';

export type Decoded =
  | { ok: true; command: Command }
  /** `id` is set when the bad command had a usable id, so the error can be a reply. */
  | { ok: false; id: number | undefined; error: ProtocolError };

type Obj = Record<string, unknown>;

function bad(id: number | undefined, message: string, code: number = ErrorCode.BadRequest): Decoded {
  return { ok: false, id, error: { code, message } };
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Longest `method` of an `rpc` command. */
export const MAX_RPC_METHOD = 255;

/** Most notifications one `inbox.list` page returns. */
export const MAX_INBOX_PAGE = 100;

function isIdList(v: unknown): v is string[] {
  return Array.isArray(v) && v.length <= 1000 && v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 64);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

/** Parses a `{offset, epoch}` value; undefined when absent, null when malformed. */
export function parsePosition(v: unknown): StreamPosition | undefined | null {
  if (v === undefined) return undefined;
  if (!isObject(v)) return null;
  const { offset, epoch } = v;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return null;
  if (typeof epoch !== 'string' || epoch.length > 64) return null;
  return { offset, epoch };
}

/** Most channels a `connect` command's `subs` may name. */
export const MAX_CONNECT_SUBS = 1000;

/** Parses `connect.subs` (channel → position) into an object without a prototype; null when malformed. */
function parseSubs(v: unknown): Record<string, StreamPosition> | undefined | null {
  if (v === undefined) return undefined;
  if (!isObject(v)) return null;
  const entries = Object.entries(v);
  if (entries.length > MAX_CONNECT_SUBS) return null;
  const out = Object.create(null) as Record<string, StreamPosition>;
  for (const [channel, at] of entries) {
    const position = parsePosition(at);
    // an admin channel's position is only where a server-side subscription the server gave resumes
    if (!(isValidChannel(channel) || isAdminChannel(channel)) || !position) return null;
    out[channel] = position;
  }
  return out;
}

function channelOf(id: number, m: Obj): string | Decoded {
  const channel = m.channel;
  if (typeof channel !== 'string') return bad(id, '`channel` must be a string');
  if (!isValidChannel(channel)) return bad(id, `invalid channel name ${JSON.stringify(channel.slice(0, 64))}`, ErrorCode.InvalidChannel);
  return channel;
}

function optionalString(m: Obj, key: string): string | undefined | null {
  const v = m[key];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : null;
}

/** Validates one decoded JSON value as a client command. Pure; never throws. */
export function decodeCommand(value: unknown): Decoded {
  if (!isObject(value)) return bad(undefined, 'a command must be a JSON object');
  const m = value;
  if (!isId(m.id)) return bad(undefined, '`id` must be a positive integer');
  const id = m.id;
  switch (m.type) {
    case 'connect': {
      const token = optionalString(m, 'token');
      const name = optionalString(m, 'name');
      if (token === null) return bad(id, '`token` must be a string');
      if (name === null) return bad(id, '`name` must be a string');
      const subs = parseSubs(m.subs);
      if (subs === null) return bad(id, `\`subs\` must map at most ${MAX_CONNECT_SUBS} channels to {offset, epoch}`);
      const command: Command = { type: 'connect', id };
      if (token !== undefined) command.token = token;
      if (name !== undefined) command.name = name;
      if (subs !== undefined) command.subs = subs;
      if (m.data !== undefined) command.data = m.data;
      return { ok: true, command };
    }
    case 'subscribe': {
      const channel = channelOf(id, m);
      if (typeof channel !== 'string') return channel;
      const since = parsePosition(m.since);
      if (since === null) return bad(id, '`since` must be {offset: integer ≥ 0, epoch: string}');
      return { ok: true, command: since ? { type: 'subscribe', id, channel, since } : { type: 'subscribe', id, channel } };
    }
    case 'unsubscribe':
    case 'presence': {
      const channel = channelOf(id, m);
      if (typeof channel !== 'string') return channel;
      return { ok: true, command: { type: m.type, id, channel } };
    }
    case 'publish': {
      const channel = channelOf(id, m);
      if (typeof channel !== 'string') return channel;
      if (!('data' in m) || m.data === undefined) return bad(id, '`data` is required');
      const key = optionalString(m, 'idempotencyKey');
      if (key === null || key === '' || (key !== undefined && key.length > 255)) return bad(id, '`idempotencyKey` must be a string of 1 to 255 characters');
      return { ok: true, command: { type: 'publish', id, channel, data: m.data, ...(key !== undefined ? { idempotencyKey: key } : {}) } };
    }
    case 'history': {
      const channel = channelOf(id, m);
      if (typeof channel !== 'string') return channel;
      const since = parsePosition(m.since);
      if (since === null) return bad(id, '`since` must be {offset: integer ≥ 0, epoch: string}');
      const limit = m.limit;
      if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0)) {
        return bad(id, '`limit` must be an integer ≥ 0');
      }
      const command: Command = { type: 'history', id, channel };
      if (since) command.since = since;
      if (limit !== undefined) command.limit = limit;
      return { ok: true, command };
    }
    case 'refresh': {
      if (typeof m.token !== 'string' || m.token === '') return bad(id, '`token` must be a non-empty string');
      return { ok: true, command: { type: 'refresh', id, token: m.token } };
    }
    case 'ping':
      return { ok: true, command: { type: m.type, id } };
    case 'inbox.count': {
      if (m.filters === undefined) return { ok: true, command: { type: m.type, id } };
      if (!Array.isArray(m.filters) || m.filters.length === 0 || m.filters.length > MAX_COUNT_FILTERS) return bad(id, `\`filters\` must be an array of 1 to ${MAX_COUNT_FILTERS} filters`);
      const filters: InboxFilter[] = [];
      for (const f of m.filters) {
        const filter = parseInboxFilter(f, 'filters[]');
        if (typeof filter === 'string') return bad(id, filter);
        filters.push(filter);
      }
      return { ok: true, command: { type: m.type, id, filters } };
    }
    case 'inbox.archive': {
      const { ids, all, archived } = m;
      if (ids !== undefined && (!isIdList(ids) || ids.length === 0)) return bad(id, '`ids` must be an array of 1 to 1000 notification ids');
      if (all !== undefined && all !== true) return bad(id, '`all` must be true when given');
      if ((ids === undefined) === (all === undefined)) return bad(id, 'give either `ids` or `all: true`');
      if (archived !== undefined && typeof archived !== 'boolean') return bad(id, '`archived` must be a boolean');
      const command: Command = { type: 'inbox.archive', id, archived: archived !== false };
      if (ids !== undefined) command.ids = ids;
      if (all) command.all = true;
      return { ok: true, command };
    }
    case 'inbox.snooze': {
      if (!isIdList(m.ids) || m.ids.length === 0) return bad(id, '`ids` must be an array of 1 to 1000 notification ids');
      const until = m.until;
      if (until !== null && (typeof until !== 'number' || !Number.isSafeInteger(until))) return bad(id, '`until` must be milliseconds since the Unix epoch, or null to unsnooze');
      return { ok: true, command: { type: 'inbox.snooze', id, ids: m.ids, until } };
    }
    case 'inbox.list': {
      const { cursor, limit, unread } = m;
      const filter = m.filter === undefined ? undefined : parseInboxFilter(m.filter);
      if (typeof filter === 'string') return bad(id, filter);
      if (cursor !== undefined && (typeof cursor !== 'string' || cursor.length > 128)) return bad(id, '`cursor` must be a string');
      if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_INBOX_PAGE)) {
        return bad(id, `\`limit\` must be an integer from 1 to ${MAX_INBOX_PAGE}`);
      }
      if (unread !== undefined && typeof unread !== 'boolean') return bad(id, '`unread` must be a boolean');
      const command: Command = { type: 'inbox.list', id };
      if (cursor !== undefined) command.cursor = cursor;
      if (limit !== undefined) command.limit = limit;
      if (unread !== undefined) command.unread = unread;
      if (filter !== undefined) command.filter = filter;
      return { ok: true, command };
    }
    case 'inbox.mark': {
      const { ids, all, read, seen } = m;
      if (ids !== undefined && !isIdList(ids)) return bad(id, '`ids` must be an array of at most 1000 notification ids');
      if (all !== undefined && all !== true) return bad(id, '`all` must be true when given');
      if ((ids === undefined) === (all === undefined)) return bad(id, 'give either `ids` or `all: true`');
      if (read !== undefined && typeof read !== 'boolean') return bad(id, '`read` must be a boolean');
      if (seen !== undefined && seen !== true) return bad(id, '`seen` must be true when given');
      if (read === undefined && seen === undefined) return bad(id, 'give `read` and/or `seen`');
      const command: Command = { type: 'inbox.mark', id };
      if (ids !== undefined) command.ids = ids;
      if (all) command.all = true;
      if (read !== undefined) command.read = read;
      if (seen) command.seen = true;
      return { ok: true, command };
    }
    case 'rpc': {
      const method = m.method;
      if (typeof method !== 'string' || method === '' || method.length > MAX_RPC_METHOD) return bad(id, `\`method\` must be a string of 1 to ${MAX_RPC_METHOD} characters`);
      return { ok: true, command: m.data === undefined ? { type: 'rpc', id, method } : { type: 'rpc', id, method, data: m.data } };
    }
    case 'inbox.preferences': {
      const changes = parsePreferenceChanges(m);
      if (typeof changes === 'string') return bad(id, changes);
      return { ok: true, command: { type: 'inbox.preferences', id, ...changes } };
    }
    case 'inbox.action': {
      const { notification, action } = m;
      if (typeof notification !== 'string' || notification === '' || notification.length > 64) return bad(id, '`notification` must be a notification id');
      if (!ACTION_NAMES.includes(action as ActionName)) return bad(id, '`action` must be primary or secondary');
      return { ok: true, command: { type: 'inbox.action', id, notification, action: action as ActionName } };
    }
    case 'inbox.delete': {
      if (!isIdList(m.ids) || m.ids.length === 0) return bad(id, '`ids` must be a non-empty array of at most 1000 notification ids');
      return { ok: true, command: { type: 'inbox.delete', id, ids: m.ids } };
    }
    default:
      return bad(id, `unknown command type ${typeof m.type === 'string' ? JSON.stringify(m.type.slice(0, 32)) : typeof m.type}`, ErrorCode.UnknownCommand);
  }
}

/**
 * Parses one frame of text into decoded commands, one per `\n`-separated line.
 * A line that is not JSON yields an error without an id.
 */
export function decodeFrame(text: string): Decoded[] {
  const out: Decoded[] = [];
  for (const line of text.split(FRAME_SEPARATOR)) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      out.push(bad(undefined, 'frame is not valid JSON'));
      continue;
    }
    out.push(decodeCommand(value));
  }
  return out;
}

export function encodeMessage(message: ServerMessage): string {
  return JSON.stringify(message);
}

/**
 * Encodes a publication push once; the same string is written to every subscriber.
 * `dataJson`, when given, must be `JSON.stringify(pub.data)`: it is used as is, so data published to
 * many channels (`POST /api/broadcast`) is stringified once, not once per channel. Same text either way.
 */
export function encodePublication(pub: Publication, dataJson?: string): string {
  if (dataJson === undefined) return JSON.stringify({ type: 'publication', ...pub });
  const { channel, offset, epoch, time, info, headers } = pub;
  let text = `{"type":"publication","channel":${JSON.stringify(channel)},"offset":${JSON.stringify(offset)},"epoch":${JSON.stringify(epoch)},"data":${dataJson},"time":${JSON.stringify(time)}`;
  if (info !== undefined) text += `,"info":${JSON.stringify(info)}`;
  if (headers !== undefined) text += `,"headers":${JSON.stringify(headers)}`;
  return `${text}}`;
}

/** Splits a received frame into server messages. Throws on invalid JSON (a server bug, not user input). */
export function decodeServerFrame(text: string): ServerMessage[] {
  const out: ServerMessage[] = [];
  for (const line of text.split(FRAME_SEPARATOR)) {
    if (line !== '') out.push(JSON.parse(line) as ServerMessage);
  }
  return out;
}
