import type { ClientInfo, Publication, ServerMessage, StreamPosition } from '@tidings/protocol';

/**
 * The engine connects the nodes of a cluster: it assigns offsets, keeps history,
 * carries publications to every node that subscribed, and tracks presence.
 * Implementations: MemoryEngine (one process) and RedisEngine (@tidings/redis).
 * Every implementation passes the conformance suite in ./conformance.ts.
 */

/** Acts on a user's connections wherever they are. */
export type UserControlMessage =
  | { type: 'disconnect'; user: string; code: number; reason: string }
  | { type: 'unsubscribe'; user: string; channel: string; code: number; reason: string }
  /** `POST /api/subscribe`: a server-side subscription for each of the user's connections, from `since` when given. */
  | { type: 'subscribe'; user: string; channel: string; since?: StreamPosition };

/**
 * A message from one node to all nodes: user controls, and `/emulation` commands forwarded to the
 * node that holds the session (`command`, with the caller's `secret`, which that node checks),
 * answered by that node (`command-reply`). A wrong secret gets no answer, like an unknown session.
 */
export type ControlMessage =
  | UserControlMessage
  | { type: 'command'; node: string; request: string; client: string; secret: string; commands: unknown[] }
  | { type: 'command-reply'; node: string; request: string; replies: ServerMessage[] }
  | SockjsControl
  | ViewControl
  | AdminControl;

/**
 * The admin console's live stats (admin/live.ts): `watch` says an admin console is subscribed to
 * the stats channel somewhere (sent by its node every 10 s, and when a page asks for a live token);
 * every node publishes its stats while it heard one within the last 30 s.
 */
export interface AdminControl { type: 'admin'; op: 'watch' }

/**
 * Cluster-wide views (cluster-view.ts). `from`: the sender's node id.
 * - `hello`: a node is alive (each heartbeat); `ask`: the others answer with their own hello.
 * - `bye`: a node is shutting down: no longer expected to answer.
 * - `ask`: every node answers with `channels` to `from`, naming the `request`.
 * - `channels` (to `node`): the sender's channels with local subscribers; `truncated` when it has more.
 */
export type ViewControl =
  | { type: 'view'; op: 'hello'; from: string; ask: boolean }
  | { type: 'view'; op: 'bye'; from: string }
  | { type: 'view'; op: 'ask'; from: string; request: string }
  | { type: 'view'; op: 'channels'; from: string; node: string; request: string; channels: Array<{ channel: string; subscribers: number }>; truncated: boolean };

/**
 * A SockJS request for a session held by another node, and the answers (sockjs/cluster.ts).
 * `node`: the recipient; `from`: the sender; `request`: the request's id on the node that took it;
 * `key`: the session's key (a hash of `<server>/<session>`, never the ids themselves).
 * - `send` (to the owner): the client's messages; answered by `sent` (`ok`: the session was there).
 * - `attach` (to the owner): a receiving request (`polling`: one frame per request); answered at once
 *   by `frames` (maybe none), then by `frames` as the session writes, and `end`.
 * - `detach` (to the owner): the client abandoned the receiving request.
 */
export type SockjsControl =
  | { type: 'sockjs'; op: 'send'; node: string; from: string; request: string; key: string; messages: string[] }
  | { type: 'sockjs'; op: 'sent'; node: string; from: string; request: string; ok: boolean }
  | { type: 'sockjs'; op: 'attach'; node: string; from: string; request: string; key: string; polling: boolean }
  | { type: 'sockjs'; op: 'frames'; node: string; from: string; request: string; frames: string[] }
  | { type: 'sockjs'; op: 'end'; node: string; from: string; request: string }
  | { type: 'sockjs'; op: 'detach'; node: string; from: string; request: string; key: string };

/**
 * Optional: which node holds a keyed thing (a SockJS session), shared by the cluster, each entry
 * expiring after its TTL unless claimed again. Keys are opaque strings of at most 128 characters.
 */
export interface Claims {
  /**
   * Claims `key` for `owner` for `ttl` seconds when no one holds it, or refreshes it when `owner`
   * does. Atomic. Resolves with the holder afterwards (`owner` when it won).
   */
  claim(key: string, owner: string, ttl: number): Promise<string>;
  /** The holder of `key`, undefined when no one holds it. */
  holder(key: string): Promise<string | undefined>;
  /** Lets go of `key` if `owner` holds it. */
  release(key: string, owner: string): Promise<void>;
}

/** What the node is told. Called in order per channel; never concurrently for one channel. */
export interface EngineHandler {
  /** `dataJson`: `JSON.stringify(pub.data)`, when the engine has it (publishing with `PublishOptions.dataJson`). */
  onPublication(pub: Publication, dataJson?: string): void;
  onJoin(channel: string, info: ClientInfo): void;
  onLeave(channel: string, info: ClientInfo): void;
  onControl(message: ControlMessage): void;
  /** The engine reads a gap in a channel's publications from its history (counted in the metrics). */
  onGapFill?(): void;
}

export interface PublishOptions {
  /** History kept for the channel (0: none; the offset still advances). */
  historySize: number;
  /** Seconds the history lives after this publication. */
  historyTtl: number;
  /**
   * Publishing twice with the same key and data within `idempotencyTtl` publishes once and returns
   * the first result; the same key with other data rejects with IdempotencyConflictError.
   */
  idempotencyKey?: string;
  /** Seconds an idempotency key is remembered (default 300). */
  idempotencyTtl?: number;
  /**
   * `JSON.stringify(data)`, made once by the caller: an engine may use it rather than stringify
   * again (the memory engine keeps it for idempotency and hands it to `onPublication`).
   */
  dataJson?: string;
  info?: ClientInfo;
  /** Stored and delivered with the publication as its `headers` (STOMP user headers). */
  headers?: Record<string, string>;
}

export interface HistoryOptions {
  /** Return publications after this offset (oldest first). Without it: the latest `limit`. */
  since?: number;
  /** At most this many publications; 0 returns only the position. Absent: all held. */
  limit?: number;
}

export interface HistoryResult {
  /** The channel's current top: the last assigned offset and the current epoch. */
  position: StreamPosition;
  /** Oldest first, contiguous offsets. */
  publications: Publication[];
}

export interface Broker {
  /**
   * Registers the node's handler and connects. Must be called once, before anything else.
   * Resolves when the engine is usable.
   */
  start(handler: EngineHandler): Promise<void>;

  /**
   * Assigns the channel's next offset (previous + 1, the first is 1), stores the publication
   * in history (bounded by `historySize`, expiring after `historyTtl`), and delivers it to every
   * node subscribed to the channel, this one included. Publications of one channel reach each
   * node in offset order. Resolves with the stored publication once it is durable in history.
   * Rejects with EngineUnavailableError when the publication certainly did not happen (the engine
   * is known to be down, nothing was sent), and with OutcomeUnknownError when it was sent but not
   * confirmed: it may have happened, or may still happen. That error carries an idempotency key
   * (the one given, or one the engine made up and used): publishing the same data with it within
   * `idempotencyTtl` then publishes exactly once. An engine whose outcome is never unknown
   * (memory) never rejects with OutcomeUnknownError.
   */
  publish(channel: string, data: unknown, options: PublishOptions): Promise<Publication>;

  /** Delivers a join/leave event to subscribed nodes. Not stored. */
  publishJoin(channel: string, info: ClientInfo): Promise<void>;
  publishLeave(channel: string, info: ClientInfo): Promise<void>;

  /** Delivers a control message to every node, this one included. */
  publishControl(message: ControlMessage): Promise<void>;

  /**
   * From when this resolves, the node receives every publication, join and leave of the channel.
   * Calls are not reference counted: the hub subscribes once per channel.
   */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;

  /**
   * The channel's position and the publications after `since`. A channel that never had a
   * publication has offset 0 and a fresh epoch, which stays the channel's epoch until its
   * history is lost. When history was lost (expired, trimmed, engine restarted), the result
   * has fewer publications than the gap, or a different epoch: never a silent gap.
   */
  history(channel: string, options: HistoryOptions): Promise<HistoryResult>;

  /** Whether the engine can currently serve requests. */
  isReady(): boolean;

  close(): Promise<void>;
}

export interface PresenceManager {
  /**
   * Adds or refreshes a client's presence. An entry not refreshed within `ttl` seconds expires:
   * it is dropped, with a `leave` to the nodes subscribed to the channel, within about half a TTL
   * (the engine's sweep). Resolves true when the client was not present (or had expired) before.
   */
  addPresence(channel: string, clientId: string, info: ClientInfo, ttl: number): Promise<boolean>;
  removePresence(channel: string, clientId: string): Promise<void>;
  /** Clients present in the channel, by client id. */
  presence(channel: string): Promise<Record<string, ClientInfo>>;
}

export interface Engine extends Broker, PresenceManager {
  readonly name: string;
  /** True when other nodes can share this engine (a cluster); false for a single process. */
  readonly shared: boolean;
  /** Cluster-wide claims; without them, SockJS sessions need sticky load balancing. */
  readonly claims?: Claims;
}

export class EngineUnavailableError extends Error {
  constructor(message = 'the engine is unavailable') {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}

/**
 * A command was sent to the engine but not confirmed (timeout, connection lost in flight): it may
 * have run, or may still run. For a publication, `idempotencyKey` is the key it was sent with;
 * retrying with it runs exactly once. Commands without such a key (control messages) are safe to
 * repeat as they are.
 */
export class OutcomeUnknownError extends Error {
  constructor(message: string, readonly idempotencyKey?: string) {
    super(message);
    this.name = 'OutcomeUnknownError';
  }
}

export class IdempotencyConflictError extends Error {
  constructor(key: string) {
    super(`idempotency key ${JSON.stringify(key)} was already used with different data`);
    this.name = 'IdempotencyConflictError';
  }
}
