/**
 * Inbox state and filters on the wire: tags, severity, archive, snooze, and the filter object that
 * lists and counts take. Pure validation shared by the JSON protocol's decoder and the HTTP API.
 */

/** Severities a notification may carry, least to most urgent. Absent means `info`. */
export const SEVERITIES = ['info', 'success', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Most tags on one notification. */
export const MAX_TAGS = 10;
/** Longest tag, in characters. */
export const MAX_TAG_LENGTH = 64;
/** A tag: 1–64 of ASCII letters, digits and `_ . : / -`. */
export const TAG_PATTERN = /^[A-Za-z0-9_.:/-]{1,64}$/;
/** Most types one filter may name. */
export const MAX_FILTER_TYPES = 20;
/** Most filters one `inbox.count` may ask about. */
export const MAX_COUNT_FILTERS = 20;
/** Earliest a snooze may end: this many milliseconds after now (1 s). */
export const MIN_SNOOZE_MS = 1000;
/** Latest a snooze may end: this many milliseconds after now (90 days). */
export const MAX_SNOOZE_MS = 90 * 24 * 3600 * 1000;

/**
 * Which notifications a list or count covers; every given field must match. Absent fields match
 * anything, except `archived` and `snoozed`, which default to false: archived notifications and
 * those snoozed now are left out unless asked for.
 * - `read`, `seen`: true for read (seen) ones only, false for unread (unseen) ones only.
 * - `archived`: true for archived ones only. `snoozed`: true for ones snoozed now only.
 * - `type`: any of these types (1–20). `tags`: carrying any of these tags (1–10).
 * - `severity`: any of these severities (a notification without one is `info`).
 */
export interface InboxFilter {
  read?: boolean;
  seen?: boolean;
  archived?: boolean;
  snoozed?: boolean;
  type?: string[];
  tags?: string[];
  severity?: Severity[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a notification's tags: an array of at most 10 tags (TAG_PATTERN). Returns the error, or undefined. */
export function tagsError(v: unknown, name = 'tags'): string | undefined {
  if (!Array.isArray(v) || v.length > MAX_TAGS) return `\`${name}\` must be an array of at most ${MAX_TAGS} tags`;
  for (const t of v) {
    if (typeof t !== 'string' || !TAG_PATTERN.test(t)) {
      return `\`${name}\`: each tag is 1 to ${MAX_TAG_LENGTH} characters of A–Z a–z 0–9 _ . : / - (got ${JSON.stringify(typeof t === 'string' ? t.slice(0, 70) : t)})`;
    }
  }
  return undefined;
}

/** Checks a severity. Returns the error, or undefined. */
export function severityError(v: unknown, name = 'severity'): string | undefined {
  return typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v) ? undefined : `\`${name}\` must be one of ${SEVERITIES.join(', ')}`;
}

/**
 * Validates a filter object (see InboxFilter). Returns the filter (a fresh object with only the
 * known fields) or the error message for a bad one.
 */
export function parseInboxFilter(v: unknown, name = 'filter'): InboxFilter | string {
  if (!isObject(v)) return `\`${name}\` must be an object`;
  const out: InboxFilter = {};
  for (const key of Object.keys(v)) {
    if (!['read', 'seen', 'archived', 'snoozed', 'type', 'tags', 'severity'].includes(key)) return `\`${name}\` has an unknown field ${JSON.stringify(key.slice(0, 32))}`;
  }
  for (const key of ['read', 'seen', 'archived', 'snoozed'] as const) {
    const b = v[key];
    if (b === undefined) continue;
    if (typeof b !== 'boolean') return `\`${name}.${key}\` must be a boolean`;
    out[key] = b;
  }
  if (v.type !== undefined) {
    const types = v.type;
    if (!Array.isArray(types) || types.length === 0 || types.length > MAX_FILTER_TYPES || !types.every((t) => typeof t === 'string' && t !== '' && t.length <= 100)) {
      return `\`${name}.type\` must be an array of 1 to ${MAX_FILTER_TYPES} types`;
    }
    out.type = [...new Set(types as string[])];
  }
  if (v.tags !== undefined) {
    const err = tagsError(v.tags, `${name}.tags`) ?? ((v.tags as unknown[]).length === 0 ? `\`${name}.tags\` must not be empty` : undefined);
    if (err) return err;
    out.tags = [...new Set(v.tags as string[])];
  }
  if (v.severity !== undefined) {
    const s = v.severity;
    if (!Array.isArray(s) || s.length === 0 || s.length > SEVERITIES.length) return `\`${name}.severity\` must be an array of 1 to ${SEVERITIES.length} severities`;
    for (const x of s) {
      const err = severityError(x, `${name}.severity`);
      if (err) return err;
    }
    out.severity = [...new Set(s as Severity[])];
  }
  return out;
}
