import type { PreferenceChange, PreferenceRow, PreferenceStore } from './preference-store.js';

/** Preferences of the MemoryStore: user → `kind:name` → muted. */
export class MemoryPreferences implements PreferenceStore {
  private readonly byUser = new Map<string, Map<string, PreferenceRow>>();

  async preferences(user: string): Promise<PreferenceRow[]> {
    return [...(this.byUser.get(user)?.values() ?? [])]
      .sort((a, b) => (a.kind + a.name < b.kind + b.name ? -1 : 1))
      .map((r) => ({ ...r }));
  }

  async setPreferences(user: string, changes: readonly PreferenceChange[]): Promise<void> {
    let mine = this.byUser.get(user);
    if (!mine) this.byUser.set(user, (mine = new Map<string, PreferenceRow>()));
    for (const c of changes) {
      if (c.muted === null) mine.delete(`${c.kind}:${c.name}`);
      else mine.set(`${c.kind}:${c.name}`, { user, kind: c.kind, name: c.name, muted: c.muted });
    }
    if (mine.size === 0) this.byUser.delete(user);
  }

  async preferencesAmong(users: readonly string[], type: string, tags: readonly string[]): Promise<PreferenceRow[]> {
    const rows: PreferenceRow[] = [];
    for (const user of users) {
      const mine = this.byUser.get(user);
      if (!mine) continue;
      for (const key of [`type:${type}`, ...tags.map((t) => `tag:${t}`)]) {
        const row = mine.get(key);
        if (row) rows.push({ ...row });
      }
    }
    return rows;
  }
}
