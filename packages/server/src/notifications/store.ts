import { createHash, randomBytes } from 'node:crypto';
import type { InboxFilter, Notification, NotificationActions, Severity } from '@tidings/protocol';
import type { ActionStore } from './actions.js';
import type { PreferenceStore } from './preference-store.js';
import type { DigestSpec, ThrottleSpec } from './digest-spec.js';

/**
 * Durable storage of notifications and schedules. Implementations: SqliteStore (the default of
 * `tidings serve`), MemoryStore (tests, embedding). Every implementation passes ./conformance.ts.
 * Methods are async so a networked store (PostgreSQL) fits the same contract.
 * Times are milliseconds since the Unix epoch; `now` is passed in so callers and tests control it.
 */

export interface NotificationInput {
  type: string;
  payload: unknown;
  /** Delayed delivery: invisible, uncounted and unannounced until then. */
  deliverAt?: number;
  expireAt?: number;
  /** Up to MAX_TAGS tags (checked by the caller): stored, returned and filtered on. */
  tags?: string[];
  /** Absent means `info`. */
  severity?: Severity;
  /** Buttons the user may complete (docs/notifications.md#actions). */
  actions?: NotificationActions;
}

/** Options of `NotificationStore.create`. */
export interface CreateOptions {
  idempotencyKey?: string | undefined;
  now: number;
  /**
   * Users of the create who muted it: nothing is stored for them. The idempotency key still covers
   * every user, so a repeat answers the first result even if preferences changed since.
   */
  muted?: ReadonlySet<string> | undefined;
}

export interface CreateResult {
  notifications: Notification[];
  /** True when the idempotency key was seen before with the same content: nothing new was stored. */
  duplicate: boolean;
}

export interface ListOptions {
  /** From the previous page's `cursor`: the page continues strictly after it. */
  cursor?: string | undefined;
  limit: number;
  /** Same as `filter.read: false`. */
  unread?: boolean | undefined;
  /** Which ones (InboxFilter); absent: not archived and not snoozed now. */
  filter?: InboxFilter | undefined;
}

export interface ListResult {
  notifications: Notification[];
  /** Present when more notifications follow. */
  cursor?: string;
}

export interface Mark {
  /** true sets `readAt` (kept when already read); false clears it. */
  read?: boolean | undefined;
  /** true sets `seenAt` (kept when already seen). */
  seen?: boolean | undefined;
}

export type ScheduleTarget =
  | { type: 'publication'; channel: string; data: unknown }
  | { type: 'notification'; users: string[]; notification: NotificationInput & { digest?: DigestSpec; throttle?: ThrottleSpec } };

export interface Schedule {
  id: string;
  cron: string;
  timezone: string;
  target: ScheduleTarget;
  createdAt: number;
  /** Null once the expression has no further run. */
  nextRunAt: number | null;
  lastRunAt?: number;
}

export class IdempotencyConflict extends Error {
  constructor(key: string) {
    super(`idempotency key ${JSON.stringify(key)} was already used with different content`);
    this.name = 'IdempotencyConflict';
  }
}

/** Ids that name no visible notification of the user: the whole change was refused (code 129). */
export class UnknownNotifications extends Error {
  constructor(readonly ids: readonly string[]) {
    super(`no such notification: ${ids.slice(0, 5).map((id) => JSON.stringify(id.slice(0, 64))).join(', ')}${ids.length > 5 ? ` and ${ids.length - 5} more` : ''}`);
    this.name = 'UnknownNotifications';
  }
}

export class InvalidCursor extends Error {
  constructor() {
    super('malformed cursor: pass the `cursor` of the previous page');
    this.name = 'InvalidCursor';
  }
}

/**
 * The store cannot be reached or did not answer in time (a networked store that is down, or a
 * statement over its timeout). The API answers 503 with code 120 (`store_unavailable`); retrying
 * later is safe (a create with its idempotency key is stored at most once).
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export interface NotificationStore extends PreferenceStore, ActionStore {
  /**
   * Stores one notification per user, in one transaction: all of them or none. With an
   * idempotency key seen before: the same content returns the first result (`duplicate`), other
   * content throws IdempotencyConflict. Resolves only once the notifications are durable.
   */
  create(users: readonly string[], input: NotificationInput, options: CreateOptions): Promise<CreateResult>;

  /**
   * The user's visible notifications (delivered, not expired), newest first (by delivery time,
   * then id). Paging with the returned cursor never skips or repeats one, even while new ones
   * arrive. Throws InvalidCursor for a cursor it did not make.
   */
  list(user: string, options: ListOptions, now: number): Promise<ListResult>;

  /** Marks the given (or all visible) notifications; returns those that changed. */
  mark(user: string, target: readonly string[] | 'all', mark: Mark, now: number): Promise<Notification[]>;

  /** Deletes the user's given notifications; returns the ids deleted. */
  remove(user: string, ids: readonly string[]): Promise<string[]>;

  /** Visible notifications not read, not archived and not snoozed at `now`: the badge. */
  unreadCount(user: string, now: number): Promise<number>;

  /**
   * Delayed notifications whose time has come and that were not claimed before: each is returned
   * once, ever (across restarts and nodes sharing the store).
   */
  claimDue(now: number, limit: number): Promise<Notification[]>;

  /** Deletes expired notifications and idempotency records older than `idempotencyTtl` ms. */
  purge(now: number, idempotencyTtl: number): Promise<number>;

  createSchedule(input: { cron: string; timezone: string; target: ScheduleTarget; nextRunAt: number | null }, now: number): Promise<Schedule>;
  listSchedules(): Promise<Schedule[]>;
  /** True when a schedule was deleted. */
  cancelSchedule(id: string): Promise<boolean>;

  /**
   * Due schedules (`nextRunAt <= now`) leased to `owner` until `now + leaseMs`: while the lease
   * holds, no other owner gets them. This is how exactly one node fires each run.
   */
  claimSchedules(now: number, owner: string, leaseMs: number, limit: number): Promise<Schedule[]>;

  /** Records a run by the lease's owner and the next run time; ends the lease. */
  completeSchedule(id: string, owner: string, ranAt: number, nextRunAt: number | null): Promise<void>;

  close(): Promise<void>;

  // ---- inbox state: archive, snooze, filtered counts (conformance-state.ts) ----

  /**
   * Archives (`archived`) or unarchives the given (or all visible) notifications; returns those
   * that changed. Given ids must all name visible notifications of the user, else it throws
   * UnknownNotifications and changes nothing.
   */
  archive(user: string, target: readonly string[] | 'all', archived: boolean, now: number): Promise<Notification[]>;

  /**
   * Snoozes the given notifications until `until` (a time after `now`), or unsnoozes them (`null`);
   * returns those that changed. Ids as for `archive` (UnknownNotifications, nothing changed). A new
   * snooze replaces the old one and ends its wake lease.
   */
  snooze(user: string, ids: readonly string[], until: number | null, now: number): Promise<Notification[]>;

  /** How many visible notifications of the user match `filter` (see ListOptions.filter). */
  count(user: string, filter: InboxFilter, now: number): Promise<number>;

  /**
   * Snoozed notifications whose time has come (`snoozedUntil <= now`), leased to `owner` until
   * `now + leaseMs`: while the lease holds, no other owner gets them. Returned as stored (with
   * `snoozedUntil`). The owner announces them, then calls `completeWakes`.
   */
  claimWakes(now: number, owner: string, leaseMs: number, limit: number): Promise<Notification[]>;

  /**
   * Ends the snooze of the given notifications still leased to `owner` (a re-snooze or unsnooze
   * since the claim took the lease away); returns those it ended, without `snoozedUntil`.
   */
  completeWakes(ids: readonly string[], owner: string): Promise<Notification[]>;
}

/** A visible-time + id keyset cursor, opaque to clients. */
export function encodeInboxCursor(n: { visibleAt: number; id: string }): string {
  return `${n.visibleAt.toString(36)}.${n.id}`;
}

export function decodeInboxCursor(cursor: string): { visibleAt: number; id: string } {
  const m = /^([0-9a-z]{1,12})\.([0-9a-z]{1,64})$/.exec(cursor);
  if (!m) throw new InvalidCursor();
  return { visibleAt: parseInt(m[1]!, 36), id: m[2]! };
}

/** When a notification shows in the inbox: its delivery time, else its creation. */
export function visibleAt(n: Pick<Notification, 'createdAt' | 'deliverAt'>): number {
  return n.deliverAt ?? n.createdAt;
}

let lastId = '';

/** Unique, roughly time-ordered ids of `[0-9a-z]`. */
export function newId(now = Date.now()): string {
  let id = now.toString(36).padStart(9, '0') + randomBytes(6).toString('hex');
  if (id <= lastId) id = lastId.slice(0, 9) + (BigInt(`0x${lastId.slice(9)}`) + 1n).toString(16).padStart(12, '0');
  lastId = id;
  return id;
}

/** The digest idempotency compares: users and content. */
export function contentHash(users: readonly string[], input: NotificationInput): string {
  const extra = input.tags === undefined && input.severity === undefined ? [] : [input.tags ?? null, input.severity ?? null];
  const content: unknown[] = [users, input.type, input.payload, input.deliverAt ?? null, input.expireAt ?? null, ...extra];
  // appended only when given, so keys stored before these fields existed keep their digest
  if (input.actions !== undefined) content.push({ actions: input.actions });
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}
