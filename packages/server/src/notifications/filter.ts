import type { InboxFilter, Notification } from '@tidings/protocol';
import type { ListOptions } from './store.js';

/** The badge: unread, not archived, not snoozed now. */
export const BADGE: InboxFilter = { read: false };

/** The filter a list call means: its `filter` (default: not archived, not snoozed), with `unread` as `read: false`. */
export function listFilter(options: Pick<ListOptions, 'filter' | 'unread'>): InboxFilter {
  return options.unread ? { ...options.filter, read: false } : options.filter ?? {};
}

/** True when a visible notification matches `f` at `now` (InboxFilter's rules). */
export function matches(n: Notification, f: InboxFilter, now: number): boolean {
  if (f.read !== undefined && (n.readAt !== undefined) !== f.read) return false;
  if (f.seen !== undefined && (n.seenAt !== undefined) !== f.seen) return false;
  if ((n.archivedAt !== undefined) !== (f.archived ?? false)) return false;
  if ((n.snoozedUntil !== undefined && n.snoozedUntil > now) !== (f.snoozed ?? false)) return false;
  if (f.type && !f.type.includes(n.type)) return false;
  if (f.tags && !(n.tags ?? []).some((t) => f.tags!.includes(t))) return false;
  if (f.severity && !f.severity.includes(n.severity ?? 'info')) return false;
  return true;
}

/**
 * The SQL condition for `f` (SQLite and PostgreSQL alike). `param(value)` adds a bound parameter
 * and returns its placeholder; `now` is the placeholder of the current time. `anyOf(column, p)`
 * is the dialect's "column is one of the list p"; `hasTag(p)`: "the tags include one of list p".
 */
export function filterSql(
  f: InboxFilter,
  now: string,
  param: (value: unknown) => string,
  dialect: { anyOf(column: string, p: string): string; hasTag(p: string): string },
): string {
  const and: string[] = [];
  if (f.read !== undefined) and.push(f.read ? 'read_at IS NOT NULL' : 'read_at IS NULL');
  if (f.seen !== undefined) and.push(f.seen ? 'seen_at IS NOT NULL' : 'seen_at IS NULL');
  and.push(f.archived ? 'archived_at IS NOT NULL' : 'archived_at IS NULL');
  and.push(f.snoozed ? `snoozed_until > ${now}` : `(snoozed_until IS NULL OR snoozed_until <= ${now})`);
  if (f.type) and.push(dialect.anyOf('type', param(f.type)));
  if (f.tags) and.push(dialect.hasTag(param(f.tags)));
  if (f.severity) and.push(dialect.anyOf("coalesce(severity, 'info')", param(f.severity)));
  return and.join(' AND ');
}

/** The ids of `wanted` not in `found`, each once. */
export function missing(wanted: readonly string[], found: Iterable<string>): string[] {
  const have = new Set(found);
  return [...new Set(wanted)].filter((id) => !have.has(id));
}
