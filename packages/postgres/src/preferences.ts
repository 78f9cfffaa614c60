import type { PreferenceChange, PreferenceRow, PreferenceStore } from '@tidings/server';

interface Row { user_id: string; kind: 'type' | 'tag'; name: string; muted: boolean }

/** Runs one statement and resolves with its rows (the store's query, with its error mapping). */
export type Query = <R extends Record<string, unknown>>(sql: string, params: unknown[]) => Promise<R[]>;

const toRow = (r: Row): PreferenceRow => ({ user: r.user_id, kind: r.kind, name: r.name, muted: r.muted });

/** Preferences of the PostgresStore, in its `notification_preferences` table. */
export class PostgresPreferences implements PreferenceStore {
  constructor(private readonly query: Query) {}

  async preferences(user: string): Promise<PreferenceRow[]> {
    return (await this.query<Row & Record<string, unknown>>('SELECT * FROM notification_preferences WHERE user_id = $1 ORDER BY kind, name', [user])).map(toRow);
  }

  async setPreferences(user: string, changes: readonly PreferenceChange[]): Promise<void> {
    const forget = changes.filter((c) => c.muted === null);
    const choose = changes.filter((c) => c.muted !== null);
    // one statement is one transaction: every change or none
    await this.query(`WITH forgotten AS (
        DELETE FROM notification_preferences WHERE user_id = $1 AND (kind, name) IN (SELECT * FROM unnest($2::text[], $3::text[]))
      )
      INSERT INTO notification_preferences (user_id, kind, name, muted)
        SELECT $1, kind, name, muted FROM unnest($4::text[], $5::text[], $6::boolean[]) AS t(kind, name, muted)
      ON CONFLICT (user_id, kind, name) DO UPDATE SET muted = excluded.muted`,
    [user, forget.map((c) => c.kind), forget.map((c) => c.name), choose.map((c) => c.kind), choose.map((c) => c.name), choose.map((c) => c.muted)]);
  }

  async preferencesAmong(users: readonly string[], type: string, tags: readonly string[]): Promise<PreferenceRow[]> {
    const rows = await this.query<Row & Record<string, unknown>>(`SELECT * FROM notification_preferences WHERE user_id = ANY($1::text[])
      AND ((kind = 'type' AND name = $2) OR (kind = 'tag' AND name = ANY($3::text[])))`, [[...users], type, [...tags]]);
    return rows.map(toRow);
  }
}
