import type { Pool } from 'pg';
import { MIGRATIONS } from './schema.js';

/** The advisory lock key every Tidings node takes to migrate (any fixed bigint; "tidings" in ASCII). */
export const MIGRATION_LOCK = 0x7469_6469_6e67_73n;

/**
 * Applies the migrations not yet in `tidings_migrations`, each in its own transaction, while
 * holding `pg_advisory_lock(MIGRATION_LOCK)`: nodes starting together wait for one another, so the
 * first migrates and the others find nothing left to do.
 * Resolves with the versions this call applied (empty when the schema was current).
 */
export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  let broken: Error | undefined;
  client.on('error', (err: Error) => { broken = err; });
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS tidings_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM tidings_migrations')).rows.map((r) => r.version));
      for (const [i, sql] of MIGRATIONS.entries()) {
        const version = i + 1;
        if (done.has(version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(sql);
          await client.query('INSERT INTO tidings_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
        applied.push(version);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => {});
    }
  } finally {
    client.release(broken ?? false);
  }
  return applied;
}
