import type { ActionCompletion, ActionName, NotificationActions, NotificationPreferences, PreferenceChanges } from './preferences.js';

/**
 * Wire messages of the Tidings JSON protocol (docs/protocol.md).
 *
 * Every message is a JSON object keyed on `type`. One transport frame (a
 * WebSocket message, one NDJSON line batch) carries one or more messages
 * separated by `\n`; JSON text never contains a raw newline, so splitting is safe.
 */
import type { InboxFilter, Severity } from './inbox.js';

/** Where a client is in a channel's stream. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/** Who published or joined, as others see it. */
export interface ClientInfo {
  client: string;
  user: string;
}

export interface Publication {
  channel: string;
  /** Grows by one per publication in the channel, starting at 1. */
  offset: number;
  /** Changes when the channel's history is lost; offsets are comparable only within one epoch. */
  epoch: string;
  data: unknown;
  /** Server time of publication, milliseconds since the Unix epoch. */
  time: number;
  info?: ClientInfo;
  /**
   * User headers of the STOMP SEND that made it (name → value, in frame order; at most 32, 4 KiB
   * in all); absent when there were none. STOMP subscribers get them in MESSAGE frames.
   */
  headers?: Record<string, string>;
}

// ---- client → server commands ----

/**
 * `subs`: where the client is in each server-side subscription it had (channel → position, at most
 * 1000), so the server resumes them from there on reconnect. It subscribes nothing by itself: the
 * server decides which server-side subscriptions the connection has (token `subs` claim, `/api/subscribe`).
 * `data`: anything the app wants its backend's connect proxy to see (docs/proxy.md); ignored without one.
 */
export interface ConnectCommand { type: 'connect'; id: number; token?: string; name?: string; subs?: Record<string, StreamPosition>; data?: unknown }
export interface SubscribeCommand { type: 'subscribe'; id: number; channel: string; since?: StreamPosition }
export interface UnsubscribeCommand { type: 'unsubscribe'; id: number; channel: string }
/**
 * `idempotencyKey` (1–255 characters): the same key and data on the channel within 5 minutes
 * publish once, and the repeat is answered with the first result; other data with it fails (117).
 */
export interface PublishCommand { type: 'publish'; id: number; channel: string; data: unknown; idempotencyKey?: string }
export interface HistoryCommand { type: 'history'; id: number; channel: string; since?: StreamPosition; limit?: number }
export interface PresenceCommand { type: 'presence'; id: number; channel: string }
export interface RefreshCommand { type: 'refresh'; id: number; token: string }
export interface PingCommand { type: 'ping'; id: number }
/**
 * The user's notifications, newest first; `cursor` from the previous page's result. `filter`
 * chooses which (default: not archived, not snoozed now); `unread: true` is `filter.read: false`.
 */
export interface InboxListCommand { type: 'inbox.list'; id: number; cursor?: string; limit?: number; unread?: boolean; filter?: InboxFilter }
/** Marks notifications (`ids`, or `all`) read or unread (`read`), and/or seen (`seen: true`). */
export interface InboxMarkCommand { type: 'inbox.mark'; id: number; ids?: string[]; all?: boolean; read?: boolean; seen?: boolean }
export interface InboxDeleteCommand { type: 'inbox.delete'; id: number; ids: string[] }
/** The unread count (the badge), and with `filters` (1–20) how many match each, in order (`counts`). */
export interface InboxCountCommand { type: 'inbox.count'; id: number; filters?: InboxFilter[] }
/**
 * Archives (`archived: true`, the default) or unarchives notifications: `ids` (1–1000), or `all`
 * visible ones. An id the user has no visible notification under fails the whole command with 129
 * (`unknown_notification`) and changes nothing.
 */
export interface InboxArchiveCommand { type: 'inbox.archive'; id: number; ids?: string[]; all?: boolean; archived?: boolean }
/**
 * Snoozes notifications (`ids`, 1–1000) until `until` (ms since the Unix epoch, 1 s to 90 days
 * from now, else 128 `snooze_out_of_range`), or wakes them now (`until: null`). Unknown ids: 129.
 */
export interface InboxSnoozeCommand { type: 'inbox.snooze'; id: number; ids: string[]; until: number | null }
/** The user's notification preferences; with `types` and/or `tags`, changes them first (see PreferenceChanges). */
export interface InboxPreferencesCommand extends PreferenceChanges { type: 'inbox.preferences'; id: number }
/** Completes the `action` of the user's notification `notification` (its id). */
export interface InboxActionCommand { type: 'inbox.action'; id: number; notification: string; action: ActionName }
/**
 * A call to the app backend through the RPC proxy (`--rpc-proxy`): `method` (1–255 characters) and
 * `data` go to the backend, and its answer comes back as the reply (`{data}`) or an error (an
 * application code 4000–4999 from the backend, or 124–127 when the backend failed).
 */
export interface RpcCommand { type: 'rpc'; id: number; method: string; data?: unknown }

export type Command =
  | ConnectCommand
  | SubscribeCommand
  | UnsubscribeCommand
  | PublishCommand
  | HistoryCommand
  | PresenceCommand
  | RefreshCommand
  | PingCommand
  | InboxListCommand
  | InboxMarkCommand
  | InboxDeleteCommand
  | InboxCountCommand
  | InboxArchiveCommand
  | InboxSnoozeCommand
  | InboxPreferencesCommand
  | InboxActionCommand
  | RpcCommand;

export type CommandType = Command['type'];

// ---- results carried by replies ----

export interface ConnectResult {
  client: string;
  user: string;
  /** Token expiry, seconds since the Unix epoch; absent when the token does not expire. */
  expires?: number;
  version: string;
  /**
   * On one-way streams (SSE, HTTP streaming): seconds between the server's keepalives. The server
   * sends something at least this often, so a stream silent for much longer is dead (half-open).
   */
  ping?: number;
}
export interface SubscribeResult {
  position: StreamPosition;
  /** True when every publication after `since` is in `publications`; false when history could not provide them. */
  recovered: boolean;
  /** Missed publications, oldest first (only when `since` was given). */
  publications: Publication[];
}
export interface PublishResult { offset: number; epoch: string }
export interface HistoryResult { position: StreamPosition; publications: Publication[] }
export interface PresenceResult { clients: Record<string, ClientInfo> }
export interface RefreshResult { expires?: number }
/** The backend's answer to an `rpc` command (absent when it gave none). */
export interface RpcResult { data?: unknown }

/** A durable notification in a user's inbox. Times are milliseconds since the Unix epoch. */
export interface Notification {
  id: string;
  user: string;
  type: string;
  payload: unknown;
  createdAt: number;
  /** Delayed delivery: invisible and not counted until then. */
  deliverAt?: number;
  /** Gone from the inbox after this. */
  expireAt?: number;
  seenAt?: number;
  readAt?: number;
  /** Up to 10 tags (docs/notifications.md, Tags and severity). */
  tags?: string[];
  /** Absent means `info`. */
  severity?: Severity;
  /** When it was archived: it is out of the default list and counts until unarchived. */
  archivedAt?: number;
  /** Snoozed until then: out of the default list and counts; it comes back by itself (announced). */
  snoozedUntil?: number;
  /** Buttons the user may complete (`inbox.action`). */
  actions?: NotificationActions;
  /** The action the user completed, when and whether the app was told. */
  completed?: ActionCompletion;
  /** Present on a digest: several notifications with one key merged into this one. */
  digest?: NotificationDigest;
}
/**
 * A digest's state: `count` items joined so far, the payloads of the latest ones (newest first, at
 * most the create's `digest.items`), and when its window closes (ms since the epoch). The
 * notification's own `payload` is the latest item's.
 */
export interface NotificationDigest { key: string; count: number; items: unknown[]; closesAt: number }
/**
 * The answer to completing an action: the notification with its completion, and what became of the
 * report to the app: `sent` (the backend accepted it), `failed` (it did not: recorded, not
 * reported; complete the same action again to retry) or `off` (no action proxy is configured).
 */
export interface ActionResult {
  notification: Notification;
  report: 'sent' | 'failed' | 'off';
}

export interface InboxListResult { notifications: Notification[]; cursor?: string }
/** `unread`: the badge (unread, not archived, not snoozed now); `counts`: one per filter asked for. */
export interface InboxCountResult { unread: number; counts?: number[] }

/**
 * Data of the publications on a user's inbox channel `inbox:<user>`: every change is followed by
 * `unread.count`, so each of the user's devices keeps its badge in step.
 */
export type InboxEvent =
  | { type: 'notification.created'; notification: Notification }
  /** Read, seen, archived, snoozed changed, or a snooze ended (the notification is back). */
  | { type: 'notification.updated'; notifications: Notification[] }
  | { type: 'notification.deleted'; ids: string[] }
  | { type: 'unread.count'; unread: number }
  | { type: 'preferences.updated'; preferences: NotificationPreferences };
export type EmptyResult = Record<string, never>;

export interface ResultOf {
  connect: ConnectResult;
  subscribe: SubscribeResult;
  unsubscribe: EmptyResult;
  publish: PublishResult;
  history: HistoryResult;
  presence: PresenceResult;
  refresh: RefreshResult;
  ping: EmptyResult;
  'inbox.list': InboxListResult;
  'inbox.mark': InboxCountResult;
  'inbox.delete': InboxCountResult;
  'inbox.count': InboxCountResult;
  'inbox.archive': InboxCountResult;
  'inbox.snooze': InboxCountResult;
  'inbox.preferences': NotificationPreferences;
  'inbox.action': ActionResult;
  rpc: RpcResult;
}

// ---- server → client messages ----

/**
 * An error reply's `error`. `idempotencyKey` comes with `outcome_unknown` (119) when the command was
 * a publish: repeat the command with this key (and the same data) and it takes effect exactly once.
 */
export interface ProtocolError { code: number; message: string; idempotencyKey?: string }

export interface ReplyMessage { type: 'reply'; id: number; result: ResultOf[CommandType] }
export interface ErrorMessage { type: 'error'; id: number; error: ProtocolError }
export interface PublicationMessage extends Publication { type: 'publication' }
export interface JoinMessage { type: 'join'; channel: string; info: ClientInfo }
export interface LeaveMessage { type: 'leave'; channel: string; info: ClientInfo }
/** The server ended a subscription (e.g. `POST /api/unsubscribe`); `server: true` for a server-side one. */
export interface UnsubscribedMessage { type: 'unsubscribed'; channel: string; code: number; reason: string; server?: true }
/** The token expires in `expiresIn` seconds: send `refresh` with a new one. */
export interface RefreshRequiredMessage { type: 'refresh_required'; expiresIn: number }
/**
 * One-way transports (SSE, HTTP streaming, long polling) have no `connect` command: the request is
 * the connect, and this is its result, the first message of the stream.
 */
export interface ConnectedMessage extends ConnectResult {
  type: 'connected';
  /**
   * On SSE and HTTP streaming: the session's private secret (32 base64url characters). `/emulation`
   * runs commands in the session only when given it with `client`: keep it, never share it.
   */
  secret?: string;
}
/**
 * On one-way transports, a subscription made by the server (channels in the request) or through
 * `/emulation`; on every transport, a server-side subscription (`server: true`: the token's
 * `subs` claim, or `POST /api/subscribe`). Replayed publications follow it as ordinary
 * `publication` messages.
 */
export interface SubscribedMessage { type: 'subscribed'; channel: string; position: StreamPosition; recovered: boolean; server?: true }
/** Sent right before the server closes the connection. */
export interface DisconnectMessage { type: 'disconnect'; code: number; reason: string; reconnect: boolean }

export type ServerMessage =
  | ReplyMessage
  | ErrorMessage
  | PublicationMessage
  | JoinMessage
  | LeaveMessage
  | UnsubscribedMessage
  | RefreshRequiredMessage
  | ConnectedMessage
  | SubscribedMessage
  | DisconnectMessage;

export const PROTOCOL_VERSION = '1';
