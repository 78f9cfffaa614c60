import pg from 'pg';
import type { ActionName, InboxFilter, Notification, NotificationActions, Severity } from '@tidings/protocol';
import {
  BADGE, IdempotencyConflict, StoreUnavailableError, UnknownNotifications, contentHash, filterSql, listFilter, missing, decodeInboxCursor, encodeInboxCursor, newId, visibleAt,
  type CreateOptions, type CreateResult, type ListOptions, type ListResult, type Mark, type NotificationInput, type NotificationStore, type PreferenceChange, type PreferenceRow, type Schedule, type ScheduleTarget,
} from '@tidings/server';
import { PostgresDigests } from './digest.js';
import { migrate } from './migrate.js';
import { PostgresPreferences } from './preferences.js';
import { MIGRATIONS } from './schema.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/db`; a secret (it holds the password): never logged. */
  url: string;
  /** Most connections this node opens. Default 10. */
  poolSize?: number;
  /** Milliseconds a statement may run before the server cancels it (503, code 120). Default 5000. */
  statementTimeout?: number;
  /** Milliseconds to wait for a connection (new or from the pool) before giving up (503). Default 5000. */
  connectTimeout?: number;
  /** Told once each time the database goes away and comes back; never given the URL. */
  onStatus?: (up: boolean, err?: Error) => void;
}

interface Row {
  id: string; user_id: string; type: string; payload: string; created_at: string; visible_at: string;
  deliver_at: string | null; expire_at: string | null; seen_at: string | null; read_at: string | null;
  tags: string[] | null; severity: string | null; archived_at: string | null; snoozed_until: string | null;
  actions: string | null; completed_action: ActionName | null; completed_at: string | null; completed_reported: boolean | null;
  announced: boolean; digest: string | null;
}
interface ScheduleRow {
  id: string; cron: string; timezone: string; target: string; created_at: string; next_run_at: string | null; last_run_at: string | null;
}

const num = (v: string | null): number | undefined => (v === null ? undefined : Number(v));

function toNotification(r: Row): Notification {
  const n: Notification = { id: r.id, user: r.user_id, type: r.type, payload: JSON.parse(r.payload) as unknown, createdAt: Number(r.created_at) };
  if (r.deliver_at !== null) n.deliverAt = Number(r.deliver_at);
  if (r.expire_at !== null) n.expireAt = Number(r.expire_at);
  if (r.seen_at !== null) n.seenAt = Number(r.seen_at);
  if (r.read_at !== null) n.readAt = Number(r.read_at);
  if (r.tags !== null) n.tags = r.tags;
  if (r.severity !== null) n.severity = r.severity as Severity;
  if (r.archived_at !== null) n.archivedAt = Number(r.archived_at);
  if (r.snoozed_until !== null) n.snoozedUntil = Number(r.snoozed_until);
  if (r.actions !== null) n.actions = JSON.parse(r.actions) as NotificationActions;
  if (r.completed_action !== null) n.completed = { action: r.completed_action, at: Number(r.completed_at ?? 0), reported: r.completed_reported === true };
  if (r.digest !== null) n.digest = JSON.parse(r.digest) as Notification['digest'];
  return n;
}

function toSchedule(r: ScheduleRow): Schedule {
  const s: Schedule = { id: r.id, cron: r.cron, timezone: r.timezone, target: JSON.parse(r.target) as ScheduleTarget, createdAt: Number(r.created_at), nextRunAt: num(r.next_run_at) ?? null };
  if (r.last_run_at !== null) s.lastRunAt = Number(r.last_run_at);
  return s;
}

/** SQLSTATE classes that mean "the database is not there right now", not "this statement is wrong". */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58']);

/** node-postgres' own words for a lost or unobtainable connection (it gives these errors no code). */
const CONNECTION_TROUBLE = /connection|timeout|terminated|not queryable/i;

/**
 * True for errors of reaching PostgreSQL: refused, reset, timed out, shutting down, out of
 * connections, or a statement canceled by `statement_timeout`. False for everything else.
 */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (err instanceof pg.DatabaseError) return typeof code === 'string' && UNAVAILABLE_CLASSES.has(code.slice(0, 2));
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return true;
  // only a plain Error, as node-postgres throws them: never ours (IdempotencyConflict may name any key)
  return Object.getPrototypeOf(err) === Error.prototype && CONNECTION_TROUBLE.test(err.message);
}

const VISIBLE = 'visible_at <= $2 AND (expire_at IS NULL OR expire_at > $2)';

/** The PostgreSQL condition for a filter, its values appended to `params` (where `$2` is now). */
function whereFilter(f: InboxFilter, params: unknown[]): string {
  return filterSql(f, '$2', (value) => `$${params.push(value)}::text[]`, {
    anyOf: (column, p) => `${column} = ANY(${p})`,
    hasTag: (p) => `tags && ${p}`,
  });
}

/**
 * PostgreSQL through node-postgres (`pg`): a pool per node, every node of a cluster on one
 * database. Writes commit before they resolve (durable before the API answers). Due work is
 * claimed with `FOR UPDATE SKIP LOCKED`, so concurrent nodes never claim the same row. Errors of
 * reaching the database reject with StoreUnavailableError (503, code 120); the pool reconnects by
 * itself when the database is back. Open it with `PostgresStore.open`, which migrates first.
 */
export class PostgresStore implements NotificationStore {
  private down = false;
  private readonly prefs = new PostgresPreferences((sql, params) => this.query(sql, params));
  /** Digests and throttles (@tidings/server's notifications/digest.ts) on the same database. */
  readonly digests: PostgresDigests<Row>;

  private constructor(private readonly pool: pg.Pool, private readonly options: PostgresStoreOptions, readonly migrationsApplied: readonly number[]) {
    this.digests = new PostgresDigests<Row>((fn) => this.transaction(fn), toNotification);
  }

  /**
   * Connects and migrates (under an advisory lock, so nodes starting together migrate once).
   * Rejects with StoreUnavailableError when the database cannot be reached.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      statement_timeout: options.statementTimeout ?? 5000,
      connectionTimeoutMillis: options.connectTimeout ?? 5000,
      idleTimeoutMillis: 30_000,
      application_name: 'tidings',
    });
    // an idle connection that dies (database restart) is dropped by the pool; the next query opens a new one
    pool.on('error', () => {});
    let applied: number[];
    try {
      applied = await migrate(pool);
    } catch (err) {
      await pool.end().catch(() => {});
      throw isUnavailable(err) ? new StoreUnavailableError(`PostgreSQL unavailable: ${(err as Error).message}`, { cause: err }) : err;
    }
    return new PostgresStore(pool, options, applied);
  }

  /** The schema version this code expects (the last migration). */
  static get version(): number {
    return MIGRATIONS.length;
  }

  async create(users: readonly string[], input: NotificationInput, options: CreateOptions): Promise<CreateResult> {
    const { now, muted } = options;
    const key = options.idempotencyKey;
    const notifications = (muted ? users.filter((u) => !muted.has(u)) : users).map((user) => {
      const n: Notification = { id: newId(now), user, type: input.type, payload: input.payload, createdAt: now };
      if (input.deliverAt !== undefined) n.deliverAt = input.deliverAt;
      if (input.expireAt !== undefined) n.expireAt = input.expireAt;
      if (input.tags !== undefined) n.tags = [...input.tags];
      if (input.severity !== undefined) n.severity = input.severity;
      if (input.actions !== undefined) n.actions = structuredClone(input.actions);
      return n;
    });
    const insert = notifications.length === 0 ? undefined : {
      text: `INSERT INTO notifications (id, user_id, type, payload, created_at, visible_at, deliver_at, expire_at, announced, tags, severity, actions)
        SELECT id, user_id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM unnest($1::text[], $2::text[]) AS t(id, user_id)`,
      values: [notifications.map((n) => n.id), notifications.map((n) => n.user), input.type, JSON.stringify(input.payload), now, visibleAt(notifications[0]!),
        input.deliverAt ?? null, input.expireAt ?? null, input.deliverAt === undefined, input.tags ?? null, input.severity ?? null,
        input.actions === undefined ? null : JSON.stringify(input.actions)],
    };
    if (key === undefined) {
      // one statement is one transaction: all rows or none, committed before it answers
      if (insert) await this.query(insert.text, insert.values);
      return { notifications, duplicate: false };
    }
    const hash = contentHash(users, input);
    return this.transaction(async (c) => {
      // the first transaction with the key inserts it; a concurrent one waits here for it to commit
      const mine = await c.query('INSERT INTO idempotency (key, hash, result, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING',
        [key, hash, JSON.stringify(notifications.map((n) => n.id)), now]);
      if (mine.rowCount === 0) {
        const seen = (await c.query<{ hash: string; result: string }>('SELECT hash, result FROM idempotency WHERE key = $1', [key])).rows[0];
        if (seen && seen.hash !== hash) throw new IdempotencyConflict(key);
        const ids = JSON.parse(seen?.result ?? '[]') as string[];
        const rows = (await c.query<Row>('SELECT * FROM notifications WHERE id = ANY($1::text[]) ORDER BY id', [ids])).rows;
        return { notifications: rows.map(toNotification), duplicate: true };
      }
      if (insert) await c.query(insert.text, insert.values);
      return { notifications, duplicate: false };
    });
  }

  async list(user: string, options: ListOptions, now: number): Promise<ListResult> {
    const after = options.cursor === undefined ? undefined : decodeInboxCursor(options.cursor);
    const params: unknown[] = after ? [user, now, options.limit + 1, after.visibleAt, after.id] : [user, now, options.limit + 1];
    const rows = await this.query<Row>(`SELECT * FROM notifications WHERE user_id = $1 AND ${VISIBLE}
      ${after ? 'AND (visible_at, id) < ($4, $5)' : ''} AND ${whereFilter(listFilter(options), params)}
      ORDER BY visible_at DESC, id DESC LIMIT $3`, params);
    const page = rows.slice(0, options.limit);
    const result: ListResult = { notifications: page.map(toNotification) };
    const last = page.at(-1);
    if (rows.length > options.limit && last) result.cursor = encodeInboxCursor({ visibleAt: Number(last.visible_at), id: last.id });
    return result;
  }

  async mark(user: string, target: readonly string[] | 'all', mark: Mark, now: number): Promise<Notification[]> {
    const sets: string[] = [];
    const changed: string[] = [];
    if (mark.read === true) { sets.push('read_at = coalesce(read_at, $2)'); changed.push('read_at IS NULL'); }
    if (mark.read === false) { sets.push('read_at = NULL'); changed.push('read_at IS NOT NULL'); }
    if (mark.seen) { sets.push('seen_at = coalesce(seen_at, $2)'); changed.push('seen_at IS NULL'); }
    if (sets.length === 0) return [];
    // row locks serialize concurrent marks; the loser re-checks `changed` on the winner's row, so each change is reported once
    const rows = await this.query<Row>(`UPDATE notifications SET ${sets.join(', ')}
      WHERE user_id = $1 AND ${VISIBLE} ${target === 'all' ? '' : 'AND id = ANY($3::text[])'} AND (${changed.join(' OR ')}) RETURNING *`,
    target === 'all' ? [user, now] : [user, now, [...target]]);
    return rows.map(toNotification);
  }

  async remove(user: string, ids: readonly string[]): Promise<string[]> {
    const rows = await this.query<{ id: string }>('DELETE FROM notifications WHERE user_id = $1 AND id = ANY($2::text[]) RETURNING id', [user, [...ids]]);
    return rows.map((r) => r.id);
  }

  async unreadCount(user: string, now: number): Promise<number> {
    return this.count(user, BADGE, now);
  }

  async claimDue(now: number, limit: number): Promise<Notification[]> {
    const rows = await this.query<Row>(`UPDATE notifications SET announced = true
      WHERE id IN (SELECT id FROM notifications WHERE NOT announced AND visible_at <= $1 ORDER BY visible_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      AND NOT announced RETURNING *`, [now, limit]);
    return rows.filter((r) => r.expire_at === null || Number(r.expire_at) > now).map(toNotification);
  }

  async purge(now: number, idempotencyTtl: number): Promise<number> {
    const gone = await this.pool.query('DELETE FROM notifications WHERE expire_at IS NOT NULL AND expire_at <= $1', [now]).catch(this.unavailable);
    await this.query('DELETE FROM idempotency WHERE created_at <= $1', [now - idempotencyTtl]);
    return gone.rowCount ?? 0;
  }

  async createSchedule(input: { cron: string; timezone: string; target: ScheduleTarget; nextRunAt: number | null }, now: number): Promise<Schedule> {
    const id = newId(now);
    await this.query('INSERT INTO schedules (id, cron, timezone, target, created_at, next_run_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [id, input.cron, input.timezone, JSON.stringify(input.target), now, input.nextRunAt]);
    return { id, cron: input.cron, timezone: input.timezone, target: input.target, createdAt: now, nextRunAt: input.nextRunAt };
  }

  async listSchedules(): Promise<Schedule[]> {
    return (await this.query<ScheduleRow>('SELECT * FROM schedules ORDER BY created_at, id')).map(toSchedule);
  }

  async cancelSchedule(id: string): Promise<boolean> {
    return (await this.query<{ id: string }>('DELETE FROM schedules WHERE id = $1 RETURNING id', [id])).length > 0;
  }

  async claimSchedules(now: number, owner: string, leaseMs: number, limit: number): Promise<Schedule[]> {
    // SKIP LOCKED: a node claiming at the same moment passes over rows another is leasing, instead of waiting for them
    const rows = await this.query<ScheduleRow>(`UPDATE schedules SET lease_owner = $2, lease_until = $3
      WHERE id IN (SELECT id FROM schedules WHERE next_run_at IS NOT NULL AND next_run_at <= $1
        AND (lease_until IS NULL OR lease_until <= $1 OR lease_owner = $2) ORDER BY next_run_at LIMIT $4 FOR UPDATE SKIP LOCKED)
      RETURNING *`, [now, owner, now + leaseMs, limit]);
    return rows.map(toSchedule);
  }

  async completeSchedule(id: string, owner: string, ranAt: number, nextRunAt: number | null): Promise<void> {
    await this.query('UPDATE schedules SET last_run_at = $1, next_run_at = $2, lease_owner = NULL, lease_until = NULL WHERE id = $3 AND lease_owner = $4',
      [ranAt, nextRunAt, id, owner]);
  }

  async completeAction(user: string, id: string, action: ActionName, now: number): Promise<{ notification: Notification; recorded: boolean } | undefined> {
    // the row lock makes a concurrent completion wait, then find completed_action set: one records it
    const done = await this.query<Row>(`UPDATE notifications SET completed_action = $3, completed_at = $2, completed_reported = false
      WHERE user_id = $1 AND id = $4 AND ${VISIBLE} AND completed_action IS NULL AND (actions::jsonb) ? $3 RETURNING *`, [user, now, action, id]);
    if (done[0]) return { notification: toNotification(done[0]), recorded: true };
    const rows = await this.query<Row>(`SELECT * FROM notifications WHERE user_id = $1 AND id = $3 AND ${VISIBLE}`, [user, now, id]);
    return rows[0] && { notification: toNotification(rows[0]), recorded: false };
  }

  async setActionReported(user: string, id: string): Promise<Notification | undefined> {
    const rows = await this.query<Row>('UPDATE notifications SET completed_reported = true WHERE user_id = $1 AND id = $2 AND completed_action IS NOT NULL RETURNING *', [user, id]);
    return rows[0] && toNotification(rows[0]);
  }

  preferences(user: string): Promise<PreferenceRow[]> {
    return this.prefs.preferences(user);
  }

  setPreferences(user: string, changes: readonly PreferenceChange[]): Promise<void> {
    return this.prefs.setPreferences(user, changes);
  }

  preferencesAmong(users: readonly string[], type: string, tags: readonly string[]): Promise<PreferenceRow[]> {
    return this.prefs.preferencesAmong(users, type, tags);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  // ---- inbox state: archive, snooze, filtered counts ----

  async archive(user: string, target: readonly string[] | 'all', archived: boolean, now: number): Promise<Notification[]> {
    return this.change(user, target, now, [], archived ? 'archived_at = $2' : 'archived_at = NULL', archived ? 'archived_at IS NULL' : 'archived_at IS NOT NULL');
  }

  async snooze(user: string, ids: readonly string[], until: number | null, now: number): Promise<Notification[]> {
    return this.change(user, ids, now, [until], 'snoozed_until = $5, wake_owner = NULL, wake_until = NULL', 'snoozed_until IS DISTINCT FROM $5::bigint');
  }

  async count(user: string, filter: InboxFilter, now: number): Promise<number> {
    const params: unknown[] = [user, now];
    const rows = await this.query<{ c: string }>(`SELECT count(*) AS c FROM notifications WHERE user_id = $1 AND ${VISIBLE} AND ${whereFilter(filter, params)}`, params);
    return Number(rows[0]?.c ?? 0);
  }

  async claimWakes(now: number, owner: string, leaseMs: number, limit: number): Promise<Notification[]> {
    const rows = await this.query<Row>(`UPDATE notifications SET wake_owner = $2, wake_until = $3
      WHERE id IN (SELECT id FROM notifications WHERE snoozed_until IS NOT NULL AND snoozed_until <= $1
        AND (wake_until IS NULL OR wake_until <= $1 OR wake_owner = $2) ORDER BY snoozed_until LIMIT $4 FOR UPDATE SKIP LOCKED)
      RETURNING *`, [now, owner, now + leaseMs, limit]);
    return rows.map(toNotification);
  }

  async completeWakes(ids: readonly string[], owner: string): Promise<Notification[]> {
    const rows = await this.query<Row>(`UPDATE notifications SET snoozed_until = NULL, wake_owner = NULL, wake_until = NULL
      WHERE id = ANY($1::text[]) AND wake_owner = $2 RETURNING *`, [[...ids], owner]);
    return rows.map(toNotification);
  }

  /**
   * In one transaction: locks the given rows and refuses ids that are not the user's visible
   * notifications (all or nothing), then sets `set` where `unchanged` holds; returns the rows
   * changed. Parameters: $1 user, $2 now, $3 all, $4 ids, then `extra` from $5.
   */
  private change(user: string, target: readonly string[] | 'all', now: number, extra: unknown[], set: string, unchanged: string): Promise<Notification[]> {
    const ids = target === 'all' ? [] : [...new Set(target)];
    return this.transaction(async (c) => {
      if (target !== 'all') {
        const found = await c.query<{ id: string }>(`SELECT id FROM notifications WHERE user_id = $1 AND ${VISIBLE} AND id = ANY($3::text[]) FOR UPDATE`, [user, now, ids]);
        const unknown = missing(target, found.rows.map((r) => r.id));
        if (unknown.length > 0) throw new UnknownNotifications(unknown);
      }
      const rows = await c.query<Row>(`UPDATE notifications SET ${set} WHERE user_id = $1 AND ${VISIBLE} AND ($3::boolean OR id = ANY($4::text[])) AND ${unchanged} RETURNING *`,
        [user, now, target === 'all', ids, ...extra]);
      return rows.rows.map(toNotification);
    });
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    const result = await this.pool.query<R>(sql, params).catch(this.unavailable);
    this.status(true);
    return result.rows;
  }

  /** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect().catch(this.unavailable);
    let broken: Error | undefined;
    let failed = false;
    // a connection lost between two statements emits 'error' on the client: without a listener it would crash the process
    const onError = (err: Error): void => { broken = err; };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      this.status(true);
      return result;
    } catch (err) {
      failed = isUnavailable(err);
      if (!broken && !failed) await c.query('ROLLBACK').catch(() => {});
      return this.unavailable(err);
    } finally {
      c.off('error', onError);
      // a connection in doubt is closed, not handed to the next caller
      c.release(broken ?? failed);
    }
  }

  /** Rethrows: errors of reaching the database as StoreUnavailableError, others as they are. */
  private readonly unavailable = (err: unknown): never => {
    if (!isUnavailable(err)) throw err;
    this.status(false, err as Error);
    throw new StoreUnavailableError(`PostgreSQL unavailable: ${(err as Error).message}`, { cause: err });
  };

  private status(up: boolean, err?: Error): void {
    if (this.down === !up) return;
    this.down = !up;
    this.options.onStatus?.(up, err);
  }
}
