/**
 * The published contract of error codes (replies to commands, API errors) and
 * close codes (the end of a connection). docs/codes.md is generated from the
 * same tables: change them here and the docs test tells you.
 *
 * Close code ranges tell a client whether reconnecting makes sense:
 *   3000–3499  transient: reconnect with backoff
 *   3500–3999  terminal: do not reconnect until something changes (token, code, config)
 *   4000–4499  application-defined, reconnect
 *   4500–4999  application-defined, do not reconnect
 * Standard WebSocket codes (1000–2999) reconnect, except 1008 (policy violation) and
 * 1009 (a frame over the maximum message size), which the client caused and would cause again.
 */

export interface ErrorCodeInfo {
  readonly code: number;
  readonly name: string;
  /** HTTP status used when the error is returned by an HTTP endpoint. */
  readonly status: number;
  /** True when retrying the same request later may succeed. */
  readonly temporary: boolean;
  readonly description: string;
}

export interface CloseCodeInfo {
  readonly code: number;
  readonly name: string;
  readonly reconnect: boolean;
  readonly description: string;
}

export const ErrorCode = {
  Internal: 100,
  Unauthorized: 101,
  UnknownChannel: 102,
  PermissionDenied: 103,
  UnknownCommand: 104,
  AlreadySubscribed: 105,
  LimitExceeded: 106,
  BadRequest: 107,
  NotAvailable: 108,
  TokenExpired: 109,
  NotSubscribed: 110,
  InvalidChannel: 111,
  MessageTooLarge: 112,
  EngineUnavailable: 113,
  NotFound: 114,
  NotConnected: 115,
  AlreadyConnected: 116,
  Conflict: 117,
  ShuttingDown: 118,
  OutcomeUnknown: 119,
  StoreUnavailable: 120,
  QueueFull: 121,
  ProxyUnavailable: 124,
  ProxyTimeout: 125,
  ProxyBadResponse: 126,
  ProxyOverloaded: 127,
  SnoozeOutOfRange: 128,
  UnknownNotification: 129,
  TypeCritical: 130,
  ActionCompleted: 131,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_CODES: readonly ErrorCodeInfo[] = [
  { code: 100, name: 'internal', status: 500, temporary: true, description: 'Unexpected server error; the request may be retried.' },
  { code: 101, name: 'unauthorized', status: 401, temporary: false, description: 'Missing, malformed or unverifiable credentials (token or API key).' },
  { code: 102, name: 'unknown_channel', status: 404, temporary: false, description: 'The channel\'s namespace is not configured.' },
  { code: 103, name: 'permission_denied', status: 403, temporary: false, description: 'The user may not do this on this channel (subscribe, publish, presence).' },
  { code: 104, name: 'unknown_command', status: 400, temporary: false, description: 'The command type is not part of the protocol.' },
  { code: 105, name: 'already_subscribed', status: 409, temporary: false, description: 'This connection is already subscribed to the channel.' },
  { code: 106, name: 'limit_exceeded', status: 429, temporary: true, description: 'A documented limit was reached (subscriptions per connection, connections, list size).' },
  { code: 107, name: 'bad_request', status: 400, temporary: false, description: 'Malformed JSON, a missing field or a field of the wrong type; or data or a payload nested deeper than `maxDepth`, or holding a number JSON cannot carry.' },
  { code: 108, name: 'not_available', status: 400, temporary: false, description: 'The feature is disabled for this namespace (presence, history) or this server.' },
  { code: 109, name: 'token_expired', status: 401, temporary: false, description: 'The token\'s `exp` has passed; get a new token.' },
  { code: 110, name: 'not_subscribed', status: 400, temporary: false, description: 'The command needs a subscription this connection does not have.' },
  { code: 111, name: 'invalid_channel', status: 400, temporary: false, description: 'The channel name breaks the naming rules (charset, length).' },
  { code: 112, name: 'message_too_large', status: 413, temporary: false, description: 'The message or body exceeds the maximum message size.' },
  { code: 113, name: 'engine_unavailable', status: 503, temporary: true, description: 'The engine (e.g. Redis) is down or not answering, and nothing was sent to it; retry later.' },
  { code: 114, name: 'not_found', status: 404, temporary: false, description: 'No such endpoint or resource.' },
  { code: 115, name: 'not_connected', status: 400, temporary: false, description: 'A command other than `connect` arrived before `connect`.' },
  { code: 116, name: 'already_connected', status: 400, temporary: false, description: '`connect` was sent twice on one connection.' },
  { code: 117, name: 'conflict', status: 409, temporary: false, description: 'The idempotency key was used before with different content.' },
  { code: 118, name: 'shutting_down', status: 503, temporary: true, description: 'The node is draining; retry on another node.' },
  { code: 119, name: 'outcome_unknown', status: 504, temporary: true, description: 'The engine did not confirm a command that was sent: it may have run, or may still run. Retry a publish with the `idempotencyKey` the error carries (yours, or one the server made; kept 60 s) and it runs exactly once.' },
  { code: 120, name: 'store_unavailable', status: 503, temporary: true, description: 'The notification store (e.g. PostgreSQL) is down or did not answer within its statement timeout. Retry later: a create retried with the same `idempotencyKey` is stored once, even if the first try was.' },
  { code: 121, name: 'queue_full', status: 429, temporary: true, description: 'A STOMP `/queue/…` holds its most messages (waiting plus unacknowledged, `--stomp-queue-max-length`); nothing was queued. Send again once consumers caught up.' },
  { code: 124, name: 'proxy_unavailable', status: 502, temporary: true, description: 'The app backend behind a proxy (connect, refresh, subscribe, publish, rpc) could not be reached or answered with an HTTP error; retry later.' },
  { code: 125, name: 'proxy_timeout', status: 504, temporary: true, description: 'The app backend did not answer a proxy call within that proxy\'s timeout; retry later.' },
  { code: 126, name: 'proxy_bad_response', status: 502, temporary: true, description: 'The app backend answered a proxy call with something other than the documented JSON (docs/proxy.md), or more than `--max-message-size` bytes.' },
  { code: 127, name: 'proxy_overloaded', status: 503, temporary: true, description: 'Too many proxy calls are waiting for the app backend (`--proxy-queue`); retry later.' },
  { code: 128, name: 'snooze_out_of_range', status: 400, temporary: false, description: 'A snooze must end 1 s to 90 days from now (docs/notifications.md, Snooze); nothing was snoozed.' },
  { code: 129, name: 'unknown_notification', status: 404, temporary: false, description: 'An id names no visible notification of this user (never made, deleted, expired, not yet delivered, or another user\'s); nothing was changed.' },
  { code: 130, name: 'type_critical', status: 409, temporary: false, description: 'A user tried to mute a notification type the server marks critical (`notificationTypes.<type>.critical`); no preference was changed.' },
  { code: 131, name: 'action_completed', status: 409, temporary: false, description: 'Another action of this notification was completed already; a notification records one completion, and nothing was changed.' },
];

export const CloseCode = {
  Shutdown: 3000,
  Slow: 3001,
  NoPong: 3002,
  WriteError: 3003,
  ForceReconnect: 3004,
  TokenExpired: 3005,
  ConnectionLimit: 3006,
  ConnectTimeout: 3007,
  InvalidToken: 3500,
  BadRequest: 3501,
  ForceDisconnect: 3502,
  PermissionDenied: 3503,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const CLOSE_CODES: readonly CloseCodeInfo[] = [
  { code: 3000, name: 'shutdown', reconnect: true, description: 'The node is shutting down or draining; reconnect (to another node).' },
  { code: 3001, name: 'slow', reconnect: true, description: 'The client did not read fast enough and its outbound queue overflowed; reconnect and recover.' },
  { code: 3002, name: 'no_pong', reconnect: true, description: 'The connection missed its heartbeat and is considered dead.' },
  { code: 3003, name: 'write_error', reconnect: true, description: 'Writing to the connection failed.' },
  { code: 3004, name: 'force_reconnect', reconnect: true, description: 'The server asked the client to reconnect.' },
  { code: 3005, name: 'token_expired', reconnect: true, description: 'The token expired and was not refreshed in time; reconnect with a fresh token.' },
  { code: 3006, name: 'connection_limit', reconnect: true, description: 'The node is at its maximum number of connections; reconnect later or elsewhere.' },
  { code: 3007, name: 'connect_timeout', reconnect: true, description: 'No `connect` command arrived within the connect timeout.' },
  { code: 3500, name: 'invalid_token', reconnect: false, description: 'The token is malformed, badly signed or refused; get a new token before trying again.' },
  { code: 3501, name: 'bad_request', reconnect: false, description: 'The client broke the protocol (unparsable frame, wrong message shape).' },
  { code: 3502, name: 'force_disconnect', reconnect: false, description: 'The backend disconnected this user (`POST /api/disconnect`).' },
  { code: 3503, name: 'permission_denied', reconnect: false, description: 'The connection is not allowed (e.g. anonymous where not permitted).' },
];

/**
 * Codes of the `unsubscribed` push (the server ended one subscription):
 *   2000–2499  final: do not resubscribe
 *   2500–2999  transient: resubscribe (with `since`, to recover)
 */
export const UnsubscribeCode = {
  Server: 2000,
  Resubscribe: 2500,
} as const;

export const UNSUBSCRIBE_CODES: readonly CloseCodeInfo[] = [
  { code: 2000, name: 'server', reconnect: false, description: 'The backend ended the subscription (`POST /api/unsubscribe`); do not resubscribe.' },
  { code: 2500, name: 'resubscribe', reconnect: true, description: 'The node lost the subscription\'s state; resubscribe with `since` to recover.' },
];

/** Whether a client should reconnect after a connection closed with `code`. */
export function shouldReconnect(code: number): boolean {
  if (code >= 3500 && code < 4000) return false;
  if (code >= 4500 && code < 5000) return false;
  if (code === 1008 || code === 1009) return false;
  return true;
}

const errorByCode = new Map(ERROR_CODES.map((e) => [e.code, e]));
const closeByCode = new Map(CLOSE_CODES.map((c) => [c.code, c]));

export function errorInfo(code: number): ErrorCodeInfo | undefined {
  return errorByCode.get(code);
}

export function closeInfo(code: number): CloseCodeInfo | undefined {
  return closeByCode.get(code);
}

/** Whether `code` is an application code (4000–4999): an app backend's answer, passed to the client as it is. */
export function isApplicationCode(code: number): boolean {
  return Number.isInteger(code) && code >= 4000 && code <= 4999;
}

/** HTTP status for an error code; 403 for application codes (4000–4999), 500 for other codes outside the table. */
export function httpStatusOf(code: number): number {
  if (isApplicationCode(code)) return 403;
  return errorByCode.get(code)?.status ?? 500;
}
