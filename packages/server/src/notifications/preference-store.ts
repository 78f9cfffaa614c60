/**
 * The narrow store contract of notification preferences: what a user chose per type and per tag.
 * MemoryStore, SqliteStore and PostgresStore implement it (conformance-preferences.ts).
 */

/** One choice of a user: about a type or a tag, muted or not. */
export interface PreferenceRow {
  user: string;
  kind: 'type' | 'tag';
  name: string;
  muted: boolean;
}

/** A change of one choice: `muted: null` forgets it (back to the server's default). */
export interface PreferenceChange {
  kind: 'type' | 'tag';
  name: string;
  muted: boolean | null;
}

export interface PreferenceStore {
  /** The user's choices, sorted by kind, then name. */
  preferences(user: string): Promise<PreferenceRow[]>;

  /** Applies the changes in one transaction: all of them or none. */
  setPreferences(user: string, changes: readonly PreferenceChange[]): Promise<void>;

  /**
   * Of `users` (up to 10,000), the choices about `type` (kind `type`) and about any of `tags`
   * (kind `tag`), in one read, in no particular order.
   */
  preferencesAmong(users: readonly string[], type: string, tags: readonly string[]): Promise<PreferenceRow[]>;
}
