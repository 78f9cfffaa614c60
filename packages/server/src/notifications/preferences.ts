import { ErrorCode, type NotificationPreferences, type PreferenceChanges } from '@tidings/protocol';
import { TidingsError } from '../errors.js';
import type { NotificationTypeOptions } from '../options.js';
import type { PreferenceChange, PreferenceStore } from './preference-store.js';

/** Most choices (types and tags together) one user keeps; an update past it fails with 106. */
export const MAX_USER_PREFERENCES = 1000;

/**
 * Who gets what (docs/notifications.md#preferences): a user mutes types and tags; the server's
 * `notificationTypes` give each type's default and mark types critical, which nobody can mute.
 */
export class Preferences {
  constructor(private readonly store: PreferenceStore, private readonly types: Readonly<Record<string, NotificationTypeOptions>>) {}

  /** The user's preferences: every configured type, every type they chose for, and their muted tags. */
  async get(user: string): Promise<NotificationPreferences> {
    const rows = await this.store.preferences(user);
    const types = Object.create(null) as NotificationPreferences['types'];
    for (const [type, t] of Object.entries(this.types)) types[type] = { muted: t.muted && !t.critical, critical: t.critical };
    const tags: string[] = [];
    for (const row of rows) {
      if (row.kind === 'tag') {
        if (row.muted) tags.push(row.name);
        continue;
      }
      const critical = this.types[row.name]?.critical === true;
      types[row.name] = { muted: row.muted && !critical, critical };
    }
    return { types, tags };
  }

  /**
   * Applies `changes` (validated by parsePreferenceChanges) and returns the preferences after.
   * Throws TidingsError 130 (`type_critical`) when one mutes a critical type, 106 when the user
   * would keep more than MAX_USER_PREFERENCES choices; then nothing is changed.
   */
  async change(user: string, changes: PreferenceChanges): Promise<NotificationPreferences> {
    const list: PreferenceChange[] = [];
    for (const [name, muted] of Object.entries(changes.types ?? {})) {
      if (muted === true && this.types[name]?.critical === true) throw new TidingsError(ErrorCode.TypeCritical, `type ${JSON.stringify(name.slice(0, 64))} is critical: it cannot be muted`);
      list.push({ kind: 'type', name, muted });
    }
    for (const [name, muted] of Object.entries(changes.tags ?? {})) list.push({ kind: 'tag', name, muted: muted ? true : null });
    if (list.length === 0) return this.get(user);
    const kept = new Set((await this.store.preferences(user)).map((r) => `${r.kind}:${r.name}`));
    for (const c of list) {
      if (c.muted === null) kept.delete(`${c.kind}:${c.name}`);
      else kept.add(`${c.kind}:${c.name}`);
    }
    if (kept.size > MAX_USER_PREFERENCES) throw new TidingsError(ErrorCode.LimitExceeded, `a user keeps at most ${MAX_USER_PREFERENCES} type and tag choices`);
    await this.store.setPreferences(user, list);
    return this.get(user);
  }

  /** Of `users`, those who do not get a notification of `type` with `tags` (one store read). */
  async muted(users: readonly string[], type: string, tags: readonly string[] = []): Promise<Set<string>> {
    const config = this.types[type];
    if (config?.critical) return new Set();
    const rows = await this.store.preferencesAmong(users, type, tags);
    const typeChoice = new Map<string, boolean>();
    const muted = new Set<string>();
    for (const row of rows) {
      if (row.kind === 'type' && row.name === type) typeChoice.set(row.user, row.muted);
      else if (row.kind === 'tag' && row.muted && tags.includes(row.name)) muted.add(row.user);
    }
    for (const user of users) if (typeChoice.get(user) ?? config?.muted === true) muted.add(user);
    return muted;
  }
}
