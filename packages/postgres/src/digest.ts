import type pg from 'pg';
import type { Notification } from '@tidings/protocol';
import {
  IdempotencyConflict, batchedHash, bumpThrottle, joinDigest, newBatchedNotification, newId, visibleAt,
  type BatchedInput, type BatchedResult, type DigestStore, type Outcome,
} from '@tidings/server';

/** Runs `fn` in one transaction (PostgresStore's): committed when it resolves, rolled back when it throws. */
export type InTransaction = <T>(fn: (c: pg.PoolClient) => Promise<T>) => Promise<T>;

/**
 * PostgresStore's DigestStore, on the tables of the digest migration. Each call is one transaction
 * that first takes a transaction-scoped advisory lock per user and key (in one sorted order, so two
 * calls cannot deadlock): concurrent creates on any nodes for the same user and key run one after
 * the other, and the second sees the first's digest. `R` is the store's row type and
 * `toNotification` its reader (so columns added later come along).
 */
export class PostgresDigests<R extends pg.QueryResultRow & { announced: boolean }> implements DigestStore {
  constructor(private readonly transaction: InTransaction, private readonly toNotification: (row: R) => Notification) {}

  async createBatched(users: readonly string[], input: BatchedInput, options: { idempotencyKey?: string | undefined; now: number }): Promise<BatchedResult> {
    const { now, idempotencyKey: key } = options;
    const hash = batchedHash(users, input);
    return this.transaction(async (c) => {
      if (key !== undefined) {
        // the first transaction with the key inserts it; a concurrent one waits here for it to commit
        const mine = await c.query('INSERT INTO idempotency (key, hash, result, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING', [key, hash, '[]', now]);
        if (mine.rowCount === 0) {
          const seen = (await c.query<{ hash: string; result: string }>('SELECT hash, result FROM idempotency WHERE key = $1', [key])).rows[0];
          if (seen && seen.hash !== hash) throw new IdempotencyConflict(key);
          const ids = JSON.parse(seen?.result ?? '[]') as string[];
          const rows = (await c.query<R>('SELECT * FROM notifications WHERE id = ANY($1::text[]) ORDER BY id', [ids])).rows;
          return { notifications: rows.map(this.toNotification), duplicate: true, outcomes: rows.map(() => 'updated'), throttled: users.length - ids.length };
        }
      }
      const locks = [input.throttle && ['throttle', input.throttle.key], input.digest && ['digest', input.digest.key]]
        .flatMap((k) => (k ? users.map((u) => JSON.stringify([...k, u])) : []))
        .sort();
      await c.query('SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(k, i) ORDER BY i', [locks]);
      const notifications: Notification[] = [];
      const outcomes: Outcome[] = [];
      let throttled = 0;
      for (const user of users) {
        if (input.throttle && !(await this.pass(c, user, input, now))) {
          throttled++;
          continue;
        }
        const joined = input.digest && (await this.join(c, user, input, now));
        if (joined) {
          notifications.push(joined.n);
          outcomes.push(joined.outcome);
          continue;
        }
        const n = newBatchedNotification(newId(now), user, input, now);
        await c.query(`INSERT INTO notifications (id, user_id, type, payload, created_at, visible_at, deliver_at, expire_at, announced, digest, tags, severity, actions)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [n.id, user, n.type, JSON.stringify(n.payload), now, visibleAt(n), n.deliverAt ?? null, n.expireAt ?? null, n.deliverAt === undefined, n.digest ? JSON.stringify(n.digest) : null,
          n.tags ?? null, n.severity ?? null, n.actions ? JSON.stringify(n.actions) : null]);
        if (input.digest && n.digest) {
          await c.query(`INSERT INTO digests (user_id, key, notification_id, closes_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (user_id, key) DO UPDATE SET notification_id = excluded.notification_id, closes_at = excluded.closes_at`,
          [user, input.digest.key, n.id, n.digest.closesAt]);
        }
        notifications.push(n);
        outcomes.push(n.deliverAt === undefined ? 'created' : 'pending');
      }
      if (key !== undefined) await c.query('UPDATE idempotency SET result = $2 WHERE key = $1', [key, JSON.stringify(notifications.map((n) => n.id))]);
      return { notifications, duplicate: false, outcomes, throttled };
    });
  }

  async purge(now: number): Promise<number> {
    return this.transaction(async (c) => ((await c.query('DELETE FROM digests WHERE closes_at <= $1', [now])).rowCount ?? 0)
      + ((await c.query('DELETE FROM throttles WHERE ends_at <= $1', [now])).rowCount ?? 0));
  }

  /** Counts one more attempt; false when it is over the limit. */
  private async pass(c: pg.PoolClient, user: string, input: BatchedInput, now: number): Promise<boolean> {
    const spec = input.throttle!;
    const row = (await c.query<{ started_at: string; count: number }>('SELECT started_at, count FROM throttles WHERE user_id = $1 AND key = $2', [user, spec.key])).rows[0];
    const next = bumpThrottle(row && { startedAt: Number(row.started_at), count: row.count }, spec, now);
    await c.query(`INSERT INTO throttles (user_id, key, started_at, ends_at, count) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (user_id, key) DO UPDATE SET started_at = excluded.started_at, ends_at = excluded.ends_at, count = excluded.count`,
    [user, spec.key, next.startedAt, next.startedAt + spec.window, next.count]);
    return next.count <= spec.limit;
  }

  /** Adds the item to the user's open digest; undefined when there is none (closed, or its notification deleted). */
  private async join(c: pg.PoolClient, user: string, input: BatchedInput, now: number): Promise<{ n: Notification; outcome: Outcome } | undefined> {
    const spec = input.digest!;
    // FOR UPDATE: a scheduler claiming it as due waits, then announces it with this item in
    const row = (await c.query<R>(`SELECT n.* FROM digests d JOIN notifications n ON n.id = d.notification_id
      WHERE d.user_id = $1 AND d.key = $2 AND d.closes_at > $3 FOR UPDATE OF n`, [user, spec.key, now])).rows[0];
    const n = row && this.toNotification(row);
    if (!row || !n?.digest) return undefined;
    n.digest = joinDigest(n.digest, spec, input.payload);
    n.payload = input.payload;
    await c.query('UPDATE notifications SET payload = $1, digest = $2 WHERE id = $3', [JSON.stringify(n.payload), JSON.stringify(n.digest), n.id]);
    return { n, outcome: row.announced ? 'updated' : 'pending' };
  }
}
