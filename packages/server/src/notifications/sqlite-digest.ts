import type Database from 'better-sqlite3';
import type { Notification } from '@tidings/protocol';
import { batchedHash, bumpThrottle, joinDigest, newBatchedNotification, type BatchedInput, type BatchedResult, type DigestStore, type Outcome } from './digest.js';
import { IdempotencyConflict, newId, visibleAt } from './store.js';

/**
 * SqliteStore's DigestStore, on the tables of the digest migration. Each call is one IMMEDIATE
 * transaction: processes sharing the file take turns, so a user's key never opens two digests.
 * `R` is the store's row type and `toNotification` its reader (so columns added later come along).
 */
export class SqliteDigests<R extends { announced: number }> implements DigestStore {
  private readonly insert: Database.Statement;
  private readonly openDigest: Database.Statement;
  private readonly findDigest: Database.Statement;
  private readonly updateDigest: Database.Statement;
  private readonly findCounter: Database.Statement;
  private readonly putCounter: Database.Statement;

  /** `db` must be migrated (the digest migration applied). */
  constructor(private readonly db: Database.Database, private readonly toNotification: (row: R) => Notification) {
    this.insert = db.prepare(`INSERT INTO notifications (id, user_id, type, payload, created_at, visible_at, deliver_at, expire_at, announced, digest, tags, severity, actions)
      VALUES (@id, @user, @type, @payload, @createdAt, @visibleAt, @deliverAt, @expireAt, @announced, @digest, @tags, @severity, @actions)`);
    this.openDigest = db.prepare(`INSERT INTO digests (user_id, key, notification_id, closes_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (user_id, key) DO UPDATE SET notification_id = excluded.notification_id, closes_at = excluded.closes_at`);
    this.findDigest = db.prepare(`SELECT n.* FROM digests d JOIN notifications n ON n.id = d.notification_id
      WHERE d.user_id = ? AND d.key = ? AND d.closes_at > ?`);
    this.updateDigest = db.prepare('UPDATE notifications SET payload = ?, digest = ? WHERE id = ?');
    this.findCounter = db.prepare('SELECT started_at AS startedAt, count FROM throttles WHERE user_id = ? AND key = ?');
    this.putCounter = db.prepare(`INSERT INTO throttles (user_id, key, started_at, ends_at, count) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (user_id, key) DO UPDATE SET started_at = excluded.started_at, ends_at = excluded.ends_at, count = excluded.count`);
  }

  async createBatched(users: readonly string[], input: BatchedInput, options: { idempotencyKey?: string | undefined; now: number }): Promise<BatchedResult> {
    const { now, idempotencyKey: key } = options;
    const hash = batchedHash(users, input);
    const db = this.db;
    return db.transaction((): BatchedResult => {
      if (key !== undefined) {
        const seen = db.prepare('SELECT hash, result FROM idempotency WHERE key = ?').get(key) as { hash: string; result: string } | undefined;
        if (seen) {
          if (seen.hash !== hash) throw new IdempotencyConflict(key);
          const ids = JSON.parse(seen.result) as string[];
          const rows = db.prepare('SELECT * FROM notifications WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as R[];
          return { notifications: rows.map(this.toNotification), duplicate: true, outcomes: rows.map(() => 'updated'), throttled: users.length - ids.length };
        }
      }
      const notifications: Notification[] = [];
      const outcomes: Outcome[] = [];
      let throttled = 0;
      for (const user of users) {
        if (input.throttle && !this.pass(user, input, now)) {
          throttled++;
          continue;
        }
        const joined = input.digest && this.join(user, input, now);
        if (joined) {
          notifications.push(joined.n);
          outcomes.push(joined.outcome);
          continue;
        }
        const n = newBatchedNotification(newId(now), user, input, now);
        this.insert.run({ id: n.id, user, type: n.type, payload: JSON.stringify(n.payload), createdAt: now, visibleAt: visibleAt(n), deliverAt: n.deliverAt ?? null,
            expireAt: n.expireAt ?? null, announced: n.deliverAt === undefined ? 1 : 0, digest: n.digest ? JSON.stringify(n.digest) : null,
            tags: n.tags ? JSON.stringify(n.tags) : null, severity: n.severity ?? null, actions: n.actions ? JSON.stringify(n.actions) : null });
        if (input.digest && n.digest) this.openDigest.run(user, input.digest.key, n.id, n.digest.closesAt);
        notifications.push(n);
        outcomes.push(n.deliverAt === undefined ? 'created' : 'pending');
      }
      if (key !== undefined) db.prepare('INSERT INTO idempotency (key, hash, result, created_at) VALUES (?, ?, ?, ?)').run(key, hash, JSON.stringify(notifications.map((n) => n.id)), now);
      return { notifications, duplicate: false, outcomes, throttled };
    }).immediate();
  }

  async purge(now: number): Promise<number> {
    return this.db.transaction(() => this.db.prepare('DELETE FROM digests WHERE closes_at <= ?').run(now).changes
      + this.db.prepare('DELETE FROM throttles WHERE ends_at <= ?').run(now).changes)();
  }

  /** Counts one more attempt; false when it is over the limit. */
  private pass(user: string, input: BatchedInput, now: number): boolean {
    const spec = input.throttle!;
    const row = this.findCounter.get(user, spec.key) as { startedAt: number; count: number } | undefined;
    const next = bumpThrottle(row, spec, now);
    this.putCounter.run(user, spec.key, next.startedAt, next.startedAt + spec.window, next.count);
    return next.count <= spec.limit;
  }

  /** Adds the item to the user's open digest; undefined when there is none (closed, or its notification deleted). */
  private join(user: string, input: BatchedInput, now: number): { n: Notification; outcome: Outcome } | undefined {
    const spec = input.digest!;
    const row = this.findDigest.get(user, spec.key, now) as R | undefined;
    const n = row && this.toNotification(row);
    if (!row || !n?.digest) return undefined;
    n.digest = joinDigest(n.digest, spec, input.payload);
    n.payload = input.payload;
    this.updateDigest.run(JSON.stringify(n.payload), JSON.stringify(n.digest), n.id);
    return { n, outcome: row.announced ? 'updated' : 'pending' };
  }
}
