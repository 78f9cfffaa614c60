/** Notification preferences and actions: shapes and the validation the codec and the server API share. */

/** Longest type or tag name a preference names (a notification's `type` is at most 100 characters). */
export const MAX_PREFERENCE_NAME = 100;
/** Most type and tag changes one preferences update carries. */
export const MAX_PREFERENCE_CHANGES = 100;

/**
 * What a user receives. `types`: every type the server configures (`notificationTypes`) and every
 * type the user chose for; `critical` types are never muted. `tags`: the tags the user muted. A
 * notification is not delivered to a user who muted its type or any of its tags.
 */
export interface NotificationPreferences {
  types: Record<string, { muted: boolean; critical: boolean }>;
  tags: string[];
}

/**
 * A change of preferences. `types`: type → `true` mutes, `false` unmutes (also a type muted by
 * default), `null` returns to the server's default. `tags`: tag → `true` mutes, `false` unmutes.
 */
export interface PreferenceChanges {
  types?: Record<string, boolean | null>;
  tags?: Record<string, boolean>;
}

/** The two buttons a notification may carry. */
export type ActionName = 'primary' | 'secondary';
export const ACTION_NAMES: readonly ActionName[] = ['primary', 'secondary'];

/**
 * One button of a notification: a `label` (1–64 characters) and either a `url` (http(s), at most
 * 2048 characters) the app opens, or a `payload` (any JSON, at most 4 KiB) the app's backend gets
 * when the user completes it.
 */
export interface NotificationAction {
  label: string;
  url?: string;
  payload?: unknown;
}

/** A notification's buttons: a primary one, and optionally a secondary one. */
export interface NotificationActions {
  primary: NotificationAction;
  secondary?: NotificationAction;
}

/**
 * The completion recorded on a notification (one per notification). `reported`: the action proxy
 * (`--notification-action-proxy`) accepted the report; false when it failed or is not configured.
 */
export interface ActionCompletion {
  action: ActionName;
  /** Milliseconds since the Unix epoch. */
  at: number;
  reported: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const goodName = (name: string): boolean => name.length >= 1 && name.length <= MAX_PREFERENCE_NAME && (name as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Checks `{types?, tags?}` as a preferences change: the changes (null-prototype records), or a
 * message naming what is wrong. An object with neither is an empty change (a read).
 */
export function parsePreferenceChanges(v: { types?: unknown; tags?: unknown }): PreferenceChanges | string {
  const out: PreferenceChanges = {};
  let count = 0;
  for (const field of ['types', 'tags'] as const) {
    const given = v[field];
    if (given === undefined) continue;
    if (!isRecord(given)) return `\`${field}\` must be an object of name → ${field === 'types' ? 'true, false or null' : 'true or false'}`;
    const record = Object.create(null) as Record<string, boolean | null>;
    for (const [name, muted] of Object.entries(given)) {
      if (!goodName(name)) return `\`${field}\` names must be 1–${MAX_PREFERENCE_NAME} characters of well-formed Unicode`;
      if (typeof muted !== 'boolean' && !(field === 'types' && muted === null)) {
        return `\`${field}.${name.slice(0, 64)}\` must be ${field === 'types' ? 'true, false or null' : 'true or false'}`;
      }
      record[name] = muted;
      count++;
    }
    if (field === 'types') out.types = record;
    else out.tags = record as Record<string, boolean>;
  }
  if (count > MAX_PREFERENCE_CHANGES) return `at most ${MAX_PREFERENCE_CHANGES} type and tag changes at once`;
  return out;
}
