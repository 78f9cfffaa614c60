import type Database from 'better-sqlite3';
import type { PreferenceChange, PreferenceRow, PreferenceStore } from './preference-store.js';

interface Row { user_id: string; kind: 'type' | 'tag'; name: string; muted: number }

const toRow = (r: Row): PreferenceRow => ({ user: r.user_id, kind: r.kind, name: r.name, muted: r.muted === 1 });

/** Preferences of the SqliteStore, in its `notification_preferences` table. */
export class SqlitePreferences implements PreferenceStore {
  constructor(private readonly db: Database.Database) {}

  async preferences(user: string): Promise<PreferenceRow[]> {
    return (this.db.prepare('SELECT * FROM notification_preferences WHERE user_id = ? ORDER BY kind, name').all(user) as Row[]).map(toRow);
  }

  async setPreferences(user: string, changes: readonly PreferenceChange[]): Promise<void> {
    const forget = this.db.prepare('DELETE FROM notification_preferences WHERE user_id = ? AND kind = ? AND name = ?');
    const choose = this.db.prepare(`INSERT INTO notification_preferences (user_id, kind, name, muted) VALUES (?, ?, ?, ?)
      ON CONFLICT (user_id, kind, name) DO UPDATE SET muted = excluded.muted`);
    this.db.transaction(() => {
      for (const c of changes) {
        if (c.muted === null) forget.run(user, c.kind, c.name);
        else choose.run(user, c.kind, c.name, c.muted ? 1 : 0);
      }
    }).immediate();
  }

  async preferencesAmong(users: readonly string[], type: string, tags: readonly string[]): Promise<PreferenceRow[]> {
    const rows = this.db.prepare(`SELECT * FROM notification_preferences WHERE user_id IN (SELECT value FROM json_each(@users))
      AND ((kind = 'type' AND name = @type) OR (kind = 'tag' AND name IN (SELECT value FROM json_each(@tags))))`)
      .all({ users: JSON.stringify(users), type, tags: JSON.stringify(tags) }) as Row[];
    return rows.map(toRow);
  }
}
