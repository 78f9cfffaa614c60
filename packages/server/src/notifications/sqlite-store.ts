import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ActionName, InboxFilter, Notification, NotificationActions, Severity } from '@tidings/protocol';
import { BADGE, filterSql, listFilter, missing } from './filter.js';
import type { PreferenceChange, PreferenceRow } from './preference-store.js';
import { SqlitePreferences } from './sqlite-preferences.js';
import { SqliteDigests } from './sqlite-digest.js';
import { MIGRATIONS } from './sqlite-schema.js';
import {
  IdempotencyConflict, UnknownNotifications, contentHash, decodeInboxCursor, encodeInboxCursor, newId, visibleAt,
  type CreateOptions, type CreateResult, type ListOptions, type ListResult, type Mark, type NotificationInput, type NotificationStore, type Schedule, type ScheduleTarget,
} from './store.js';

interface Row {
  id: string; user_id: string; type: string; payload: string; created_at: number; visible_at: number;
  deliver_at: number | null; expire_at: number | null; seen_at: number | null; read_at: number | null;
  tags: string | null; severity: string | null; archived_at: number | null; snoozed_until: number | null;
  actions: string | null; completed_action: ActionName | null; completed_at: number | null; completed_reported: number | null;
  announced: number; digest: string | null;
}
interface ScheduleRow {
  id: string; cron: string; timezone: string; target: string; created_at: number; next_run_at: number | null; last_run_at: number | null;
}

function toNotification(r: Row): Notification {
  const n: Notification = { id: r.id, user: r.user_id, type: r.type, payload: JSON.parse(r.payload) as unknown, createdAt: r.created_at };
  if (r.deliver_at !== null) n.deliverAt = r.deliver_at;
  if (r.expire_at !== null) n.expireAt = r.expire_at;
  if (r.seen_at !== null) n.seenAt = r.seen_at;
  if (r.read_at !== null) n.readAt = r.read_at;
  if (r.tags !== null) n.tags = JSON.parse(r.tags) as string[];
  if (r.severity !== null) n.severity = r.severity as Severity;
  if (r.archived_at !== null) n.archivedAt = r.archived_at;
  if (r.snoozed_until !== null) n.snoozedUntil = r.snoozed_until;
  if (r.actions !== null) n.actions = JSON.parse(r.actions) as NotificationActions;
  if (r.completed_action !== null) n.completed = { action: r.completed_action, at: r.completed_at ?? 0, reported: r.completed_reported === 1 };
  if (r.digest !== null) n.digest = JSON.parse(r.digest) as Notification['digest'];
  return n;
}

function toSchedule(r: ScheduleRow): Schedule {
  const s: Schedule = { id: r.id, cron: r.cron, timezone: r.timezone, target: JSON.parse(r.target) as ScheduleTarget, createdAt: r.created_at, nextRunAt: r.next_run_at };
  if (r.last_run_at !== null) s.lastRunAt = r.last_run_at;
  return s;
}

const VISIBLE = 'visible_at <= @now AND (expire_at IS NULL OR expire_at > @now)';

/** The SQLite condition for a filter; its lists are bound as JSON arrays (`json_each`). */
function whereFilter(f: InboxFilter, params: Record<string, unknown>): string {
  let n = 0;
  const param = (value: unknown): string => {
    const name = `f${n++}`;
    params[name] = JSON.stringify(value);
    return `@${name}`;
  };
  return filterSql(f, '@now', param, {
    anyOf: (column, p) => `${column} IN (SELECT value FROM json_each(${p}))`,
    hasTag: (p) => `EXISTS (SELECT 1 FROM json_each(notifications.tags) AS t WHERE t.value IN (SELECT value FROM json_each(${p})))`,
  });
}

/**
 * SQLite (better-sqlite3): one file, WAL journal, `synchronous = FULL` so a notification is on
 * disk before the API answers. Migrations are versioned and run on open. Several processes on one
 * machine may share the file; leases make schedules fire once.
 */
export class SqliteStore implements NotificationStore {
  private readonly db: Database.Database;
  private readonly prefs: SqlitePreferences;
  /** Digests and throttles (./digest.ts) on the same database. */
  readonly digests: SqliteDigests<Row>;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.prefs = new SqlitePreferences(this.db);
    this.digests = new SqliteDigests<Row>(this.db, toNotification);
  }

  /** The schema version after migrating. */
  get version(): number {
    return (this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const done = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
    for (const [i, sql] of MIGRATIONS.entries()) {
      const version = i + 1;
      if (done.has(version)) continue;
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      })();
    }
  }

  async create(users: readonly string[], input: NotificationInput, options: CreateOptions): Promise<CreateResult> {
    const { now } = options;
    const key = options.idempotencyKey;
    const hash = key === undefined ? '' : contentHash(users, input);
    const insert = this.db.prepare(`INSERT INTO notifications (id, user_id, type, payload, created_at, visible_at, deliver_at, expire_at, announced, tags, severity, actions)
      VALUES (@id, @user, @type, @payload, @createdAt, @visibleAt, @deliverAt, @expireAt, @announced, @tags, @severity, @actions)`);
    const actions = input.actions === undefined ? null : JSON.stringify(input.actions);
    return this.db.transaction((): CreateResult => {
      if (key !== undefined) {
        const seen = this.db.prepare('SELECT hash, result FROM idempotency WHERE key = ?').get(key) as { hash: string; result: string } | undefined;
        if (seen) {
          if (seen.hash !== hash) throw new IdempotencyConflict(key);
          const ids = JSON.parse(seen.result) as string[];
          const rows = this.db.prepare(`SELECT * FROM notifications WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as Row[];
          return { notifications: rows.map(toNotification), duplicate: true };
        }
      }
      const payload = JSON.stringify(input.payload);
      const notifications: Notification[] = [];
      for (const user of users) {
        if (options.muted?.has(user)) continue;
        const n: Notification = { id: newId(now), user, type: input.type, payload: input.payload, createdAt: now };
        if (input.deliverAt !== undefined) n.deliverAt = input.deliverAt;
        if (input.expireAt !== undefined) n.expireAt = input.expireAt;
        if (input.tags !== undefined) n.tags = [...input.tags];
        if (input.severity !== undefined) n.severity = input.severity;
        if (input.actions !== undefined) n.actions = structuredClone(input.actions);
        insert.run({ id: n.id, user, type: n.type, payload, createdAt: now, visibleAt: visibleAt(n), deliverAt: n.deliverAt ?? null, expireAt: n.expireAt ?? null,
          announced: n.deliverAt === undefined ? 1 : 0, tags: input.tags === undefined ? null : JSON.stringify(input.tags), severity: input.severity ?? null, actions });
        notifications.push(n);
      }
      if (key !== undefined) {
        this.db.prepare('INSERT INTO idempotency (key, hash, result, created_at) VALUES (?, ?, ?, ?)').run(key, hash, JSON.stringify(notifications.map((n) => n.id)), now);
      }
      return { notifications, duplicate: false };
    }).immediate();
  }

  async list(user: string, options: ListOptions, now: number): Promise<ListResult> {
    const after = options.cursor === undefined ? undefined : decodeInboxCursor(options.cursor);
    const params: Record<string, unknown> = { user, now, limit: options.limit + 1, afterVisible: after?.visibleAt ?? 0, afterId: after?.id ?? '' };
    const rows = this.db.prepare(`SELECT * FROM notifications WHERE user_id = @user AND ${VISIBLE} AND ${whereFilter(listFilter(options), params)}
      ${after ? 'AND (visible_at, id) < (@afterVisible, @afterId)' : ''}
      ORDER BY visible_at DESC, id DESC LIMIT @limit`).all(params) as Row[];
    const page = rows.slice(0, options.limit);
    const result: ListResult = { notifications: page.map(toNotification) };
    const last = page.at(-1);
    if (rows.length > options.limit && last) result.cursor = encodeInboxCursor({ visibleAt: last.visible_at, id: last.id });
    return result;
  }

  async mark(user: string, target: readonly string[] | 'all', mark: Mark, now: number): Promise<Notification[]> {
    const sets: string[] = [];
    const changed: string[] = [];
    if (mark.read === true) { sets.push('read_at = coalesce(read_at, @now)'); changed.push('read_at IS NULL'); }
    if (mark.read === false) { sets.push('read_at = NULL'); changed.push('read_at IS NOT NULL'); }
    if (mark.seen) { sets.push('seen_at = coalesce(seen_at, @now)'); changed.push('seen_at IS NULL'); }
    if (sets.length === 0) return [];
    const which = target === 'all' ? '' : 'AND id IN (SELECT value FROM json_each(@ids))';
    const rows = this.db.prepare(`UPDATE notifications SET ${sets.join(', ')}
      WHERE user_id = @user AND ${VISIBLE} ${which} AND (${changed.join(' OR ')}) RETURNING *`)
      .all({ user, now, ids: target === 'all' ? '[]' : JSON.stringify(target) }) as Row[];
    return rows.map(toNotification);
  }

  async remove(user: string, ids: readonly string[]): Promise<string[]> {
    const rows = this.db.prepare('DELETE FROM notifications WHERE user_id = ? AND id IN (SELECT value FROM json_each(?)) RETURNING id')
      .all(user, JSON.stringify(ids)) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  async unreadCount(user: string, now: number): Promise<number> {
    return this.count(user, BADGE, now);
  }

  async claimDue(now: number, limit: number): Promise<Notification[]> {
    const rows = this.db.prepare(`UPDATE notifications SET announced = 1
      WHERE id IN (SELECT id FROM notifications WHERE announced = 0 AND visible_at <= @now ORDER BY visible_at LIMIT @limit)
      RETURNING *`).all({ now, limit }) as Row[];
    return rows.filter((r) => r.expire_at === null || r.expire_at > now).map(toNotification);
  }

  async purge(now: number, idempotencyTtl: number): Promise<number> {
    const gone = this.db.prepare('DELETE FROM notifications WHERE expire_at IS NOT NULL AND expire_at <= ?').run(now).changes;
    this.db.prepare('DELETE FROM idempotency WHERE created_at <= ?').run(now - idempotencyTtl);
    return gone;
  }

  async createSchedule(input: { cron: string; timezone: string; target: ScheduleTarget; nextRunAt: number | null }, now: number): Promise<Schedule> {
    const id = newId(now);
    this.db.prepare('INSERT INTO schedules (id, cron, timezone, target, created_at, next_run_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, input.cron, input.timezone, JSON.stringify(input.target), now, input.nextRunAt);
    return { id, cron: input.cron, timezone: input.timezone, target: input.target, createdAt: now, nextRunAt: input.nextRunAt };
  }

  async listSchedules(): Promise<Schedule[]> {
    return (this.db.prepare('SELECT * FROM schedules ORDER BY created_at, id').all() as ScheduleRow[]).map(toSchedule);
  }

  async cancelSchedule(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM schedules WHERE id = ?').run(id).changes > 0;
  }

  async claimSchedules(now: number, owner: string, leaseMs: number, limit: number): Promise<Schedule[]> {
    const rows = this.db.prepare(`UPDATE schedules SET lease_owner = @owner, lease_until = @until
      WHERE id IN (SELECT id FROM schedules WHERE next_run_at IS NOT NULL AND next_run_at <= @now
        AND (lease_until IS NULL OR lease_until <= @now OR lease_owner = @owner) ORDER BY next_run_at LIMIT @limit)
      RETURNING *`).all({ now, owner, until: now + leaseMs, limit }) as ScheduleRow[];
    return rows.map(toSchedule);
  }

  async completeSchedule(id: string, owner: string, ranAt: number, nextRunAt: number | null): Promise<void> {
    this.db.prepare('UPDATE schedules SET last_run_at = ?, next_run_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?')
      .run(ranAt, nextRunAt, id, owner);
  }

  async completeAction(user: string, id: string, action: ActionName, now: number): Promise<{ notification: Notification; recorded: boolean } | undefined> {
    const params = { user, id, action, now };
    const done = this.db.prepare(`UPDATE notifications SET completed_action = @action, completed_at = @now, completed_reported = 0
      WHERE user_id = @user AND id = @id AND ${VISIBLE} AND completed_action IS NULL AND json_extract(actions, '$.' || @action) IS NOT NULL RETURNING *`).get(params) as Row | undefined;
    if (done) return { notification: toNotification(done), recorded: true };
    const row = this.db.prepare(`SELECT * FROM notifications WHERE user_id = @user AND id = @id AND ${VISIBLE}`).get(params) as Row | undefined;
    return row && { notification: toNotification(row), recorded: false };
  }

  async setActionReported(user: string, id: string): Promise<Notification | undefined> {
    const row = this.db.prepare('UPDATE notifications SET completed_reported = 1 WHERE user_id = ? AND id = ? AND completed_action IS NOT NULL RETURNING *').get(user, id) as Row | undefined;
    return row && toNotification(row);
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
    this.db.close();
  }

  // ---- inbox state: archive, snooze, filtered counts ----

  async archive(user: string, target: readonly string[] | 'all', archived: boolean, now: number): Promise<Notification[]> {
    return this.change(user, target, now, {}, archived ? 'archived_at = @now' : 'archived_at = NULL', archived ? 'archived_at IS NULL' : 'archived_at IS NOT NULL');
  }

  async snooze(user: string, ids: readonly string[], until: number | null, now: number): Promise<Notification[]> {
    return this.change(user, ids, now, { until }, 'snoozed_until = @until, wake_owner = NULL, wake_until = NULL', 'snoozed_until IS NOT @until');
  }

  async count(user: string, filter: InboxFilter, now: number): Promise<number> {
    const params: Record<string, unknown> = { user, now };
    const r = this.db.prepare(`SELECT count(*) AS c FROM notifications WHERE user_id = @user AND ${VISIBLE} AND ${whereFilter(filter, params)}`).get(params) as { c: number };
    return r.c;
  }

  async claimWakes(now: number, owner: string, leaseMs: number, limit: number): Promise<Notification[]> {
    const rows = this.db.prepare(`UPDATE notifications SET wake_owner = @owner, wake_until = @until
      WHERE id IN (SELECT id FROM notifications WHERE snoozed_until IS NOT NULL AND snoozed_until <= @now
        AND (wake_until IS NULL OR wake_until <= @now OR wake_owner = @owner) ORDER BY snoozed_until LIMIT @limit)
      RETURNING *`).all({ now, owner, until: now + leaseMs, limit }) as Row[];
    return rows.map(toNotification);
  }

  async completeWakes(ids: readonly string[], owner: string): Promise<Notification[]> {
    const rows = this.db.prepare(`UPDATE notifications SET snoozed_until = NULL, wake_owner = NULL, wake_until = NULL
      WHERE id IN (SELECT value FROM json_each(@ids)) AND wake_owner = @owner RETURNING *`).all({ ids: JSON.stringify(ids), owner }) as Row[];
    return rows.map(toNotification);
  }

  /**
   * In one transaction: refuses ids that are not the user's visible notifications (all or nothing),
   * then sets `set` where `unchanged` holds; returns the rows changed.
   */
  private change(user: string, target: readonly string[] | 'all', now: number, extra: Record<string, unknown>, set: string, unchanged: string): Notification[] {
    const ids = target === 'all' ? '[]' : JSON.stringify(target);
    const which = target === 'all' ? '' : 'AND id IN (SELECT value FROM json_each(@ids))';
    return this.db.transaction((): Notification[] => {
      if (target !== 'all') {
        const found = this.db.prepare(`SELECT id FROM notifications WHERE user_id = @user AND ${VISIBLE} ${which}`).all({ user, now, ids }) as Array<{ id: string }>;
        const unknown = missing(target, found.map((r) => r.id));
        if (unknown.length > 0) throw new UnknownNotifications(unknown);
      }
      const rows = this.db.prepare(`UPDATE notifications SET ${set} WHERE user_id = @user AND ${VISIBLE} ${which} AND ${unchanged} RETURNING *`)
        .all({ user, now, ids, ...extra }) as Row[];
      return rows.map(toNotification);
    }).immediate();
  }
}
