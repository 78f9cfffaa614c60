import type { ActionName, InboxFilter, Notification } from '@tidings/protocol';
import { BADGE, listFilter, matches, missing } from './filter.js';
import { MemoryPreferences } from './memory-preferences.js';
import type { PreferenceChange, PreferenceRow } from './preference-store.js';
import { MemoryDigests } from './memory-digest.js';
import {
  IdempotencyConflict, UnknownNotifications, contentHash, decodeInboxCursor, encodeInboxCursor, newId, visibleAt,
  type CreateOptions, type CreateResult, type ListOptions, type ListResult, type Mark, type NotificationInput, type NotificationStore, type Schedule, type ScheduleTarget,
} from './store.js';

interface Stored { n: Notification; visibleAt: number; announced: boolean; wakeOwner?: string; wakeUntil?: number }
interface Leased { s: Schedule; owner?: string; leaseUntil?: number }

const visible = (s: Stored, now: number): boolean => s.visibleAt <= now && (s.n.expireAt === undefined || s.n.expireAt > now);
const newestFirst = (a: Stored, b: Stored): number => b.visibleAt - a.visibleAt || (a.n.id < b.n.id ? 1 : a.n.id > b.n.id ? -1 : 0);

const copy = (n: Notification): Notification => (n.tags ? { ...n, tags: [...n.tags] } : { ...n });

/** The in-process store: for tests and for embedding without persistence. Gone with the process. */
export class MemoryStore implements NotificationStore {
  private readonly byUser = new Map<string, Map<string, Stored>>();
  private readonly idempotency = new Map<string, { hash: string; ids: Array<[string, string]>; at: number }>();
  private readonly schedules = new Map<string, Leased>();
  private readonly prefs = new MemoryPreferences();
  /** Digests and throttles (./digest.ts) on the same maps. */
  readonly digests = new MemoryDigests({
    get: (user, id) => this.inbox(user).get(id),
    put: (n, announced) => void this.inbox(n.user).set(n.id, { n, visibleAt: visibleAt(n), announced }),
    idempotency: this.idempotency,
  });

  async create(users: readonly string[], input: NotificationInput, options: CreateOptions): Promise<CreateResult> {
    const key = options.idempotencyKey;
    const hash = key === undefined ? '' : contentHash(users, input);
    if (key !== undefined) {
      const seen = this.idempotency.get(key);
      if (seen) {
        if (seen.hash !== hash) throw new IdempotencyConflict(key);
        const notifications = seen.ids.flatMap(([user, id]) => {
          const s = this.byUser.get(user)?.get(id);
          return s ? [copy(s.n)] : [];
        });
        return { notifications, duplicate: true };
      }
    }
    const muted = options.muted;
    const notifications = (muted ? users.filter((u) => !muted.has(u)) : users).map((user) => {
      const n: Notification = { id: newId(options.now), user, type: input.type, payload: input.payload, createdAt: options.now };
      if (input.deliverAt !== undefined) n.deliverAt = input.deliverAt;
      if (input.expireAt !== undefined) n.expireAt = input.expireAt;
      if (input.tags !== undefined) n.tags = [...input.tags];
      if (input.severity !== undefined) n.severity = input.severity;
      if (input.actions !== undefined) n.actions = structuredClone(input.actions);
      return n;
    });
    for (const n of notifications) this.inbox(n.user).set(n.id, { n, visibleAt: visibleAt(n), announced: n.deliverAt === undefined });
    if (key !== undefined) this.idempotency.set(key, { hash, ids: notifications.map((n) => [n.user, n.id]), at: options.now });
    return { notifications: notifications.map(copy), duplicate: false };
  }

  async list(user: string, options: ListOptions, now: number): Promise<ListResult> {
    const after = options.cursor === undefined ? undefined : decodeInboxCursor(options.cursor);
    const filter = listFilter(options);
    const all = [...this.inbox(user).values()]
      .filter((s) => visible(s, now) && matches(s.n, filter, now))
      .filter((s) => !after || s.visibleAt < after.visibleAt || (s.visibleAt === after.visibleAt && s.n.id < after.id))
      .sort(newestFirst);
    const page = all.slice(0, options.limit);
    const result: ListResult = { notifications: page.map((s) => copy(s.n)) };
    const last = page.at(-1);
    if (all.length > options.limit && last) result.cursor = encodeInboxCursor({ visibleAt: last.visibleAt, id: last.n.id });
    return result;
  }

  async mark(user: string, target: readonly string[] | 'all', mark: Mark, now: number): Promise<Notification[]> {
    const inbox = this.inbox(user);
    const chosen = target === 'all' ? [...inbox.values()] : target.flatMap((id) => inbox.get(id) ?? []);
    const changed: Notification[] = [];
    for (const s of chosen) {
      if (!visible(s, now)) continue;
      const before = JSON.stringify(s.n);
      if (mark.read === true && s.n.readAt === undefined) s.n.readAt = now;
      if (mark.read === false) delete s.n.readAt;
      if (mark.seen && s.n.seenAt === undefined) s.n.seenAt = now;
      if (JSON.stringify(s.n) !== before) changed.push(copy(s.n));
    }
    return changed;
  }

  async remove(user: string, ids: readonly string[]): Promise<string[]> {
    const inbox = this.inbox(user);
    return ids.filter((id) => inbox.delete(id));
  }

  async unreadCount(user: string, now: number): Promise<number> {
    return this.count(user, BADGE, now);
  }

  async claimDue(now: number, limit: number): Promise<Notification[]> {
    const due: Notification[] = [];
    for (const inbox of this.byUser.values()) {
      for (const s of inbox.values()) {
        if (due.length >= limit) return due;
        if (!s.announced && s.visibleAt <= now) {
          s.announced = true;
          if (s.n.expireAt === undefined || s.n.expireAt > now) due.push(copy(s.n));
        }
      }
    }
    return due;
  }

  async purge(now: number, idempotencyTtl: number): Promise<number> {
    let purged = 0;
    for (const inbox of this.byUser.values()) {
      for (const [id, s] of inbox) {
        if (s.n.expireAt !== undefined && s.n.expireAt <= now) {
          inbox.delete(id);
          purged++;
        }
      }
    }
    for (const [key, v] of this.idempotency) if (v.at + idempotencyTtl <= now) this.idempotency.delete(key);
    return purged;
  }

  async createSchedule(input: { cron: string; timezone: string; target: ScheduleTarget; nextRunAt: number | null }, now: number): Promise<Schedule> {
    const s: Schedule = { id: newId(now), cron: input.cron, timezone: input.timezone, target: input.target, createdAt: now, nextRunAt: input.nextRunAt };
    this.schedules.set(s.id, { s });
    return structuredClone(s);
  }

  async listSchedules(): Promise<Schedule[]> {
    return [...this.schedules.values()].map((l) => structuredClone(l.s));
  }

  async cancelSchedule(id: string): Promise<boolean> {
    return this.schedules.delete(id);
  }

  async claimSchedules(now: number, owner: string, leaseMs: number, limit: number): Promise<Schedule[]> {
    const claimed: Schedule[] = [];
    for (const l of this.schedules.values()) {
      if (claimed.length >= limit) break;
      if (l.s.nextRunAt === null || l.s.nextRunAt > now) continue;
      if (l.leaseUntil !== undefined && l.leaseUntil > now && l.owner !== owner) continue;
      l.owner = owner;
      l.leaseUntil = now + leaseMs;
      claimed.push(structuredClone(l.s));
    }
    return claimed;
  }

  async completeSchedule(id: string, owner: string, ranAt: number, nextRunAt: number | null): Promise<void> {
    const l = this.schedules.get(id);
    if (!l || l.owner !== owner) return;
    l.s.lastRunAt = ranAt;
    l.s.nextRunAt = nextRunAt;
    delete l.owner;
    delete l.leaseUntil;
  }

  async completeAction(user: string, id: string, action: ActionName, now: number): Promise<{ notification: Notification; recorded: boolean } | undefined> {
    const s = this.byUser.get(user)?.get(id);
    if (!s || !visible(s, now)) return undefined;
    const recorded = s.n.completed === undefined && s.n.actions?.[action] !== undefined;
    if (recorded) s.n.completed = { action, at: now, reported: false };
    return { notification: structuredClone(s.n), recorded };
  }

  async setActionReported(user: string, id: string): Promise<Notification | undefined> {
    const s = this.byUser.get(user)?.get(id);
    if (!s?.n.completed) return undefined;
    s.n.completed = { ...s.n.completed, reported: true };
    return structuredClone(s.n);
  }

  preferences(user: string): Promise<PreferenceRow[]> {
    return this.prefs.preferences(user);
  }

  setPreferences(user: string, changes: readonly PreferenceChange[]): Promise<void> {
    return this.prefs.setPreferences(user, changes);
  }

  preferencesAmong(users: readonly string[], type: string, tags: readonly string[]): Promise<PreferenceRow[]> {
    return this.prefs.preferencesAmong(users, type, tags);
  }

  async close(): Promise<void> {}

  // ---- inbox state: archive, snooze, filtered counts ----

  async archive(user: string, target: readonly string[] | 'all', archived: boolean, now: number): Promise<Notification[]> {
    return this.change(user, target, now, (s) => {
      if (archived && s.n.archivedAt === undefined) s.n.archivedAt = now;
      else if (!archived && s.n.archivedAt !== undefined) delete s.n.archivedAt;
      else return false;
      return true;
    });
  }

  async snooze(user: string, ids: readonly string[], until: number | null, now: number): Promise<Notification[]> {
    return this.change(user, ids, now, (s) => {
      if ((s.n.snoozedUntil ?? null) === until) return false;
      if (until === null) delete s.n.snoozedUntil;
      else s.n.snoozedUntil = until;
      delete s.wakeOwner;
      delete s.wakeUntil;
      return true;
    });
  }

  async count(user: string, filter: InboxFilter, now: number): Promise<number> {
    let count = 0;
    for (const s of this.inbox(user).values()) if (visible(s, now) && matches(s.n, filter, now)) count++;
    return count;
  }

  async claimWakes(now: number, owner: string, leaseMs: number, limit: number): Promise<Notification[]> {
    const due: Notification[] = [];
    for (const inbox of this.byUser.values()) {
      for (const s of inbox.values()) {
        if (due.length >= limit) return due;
        if (s.n.snoozedUntil === undefined || s.n.snoozedUntil > now) continue;
        if (s.wakeUntil !== undefined && s.wakeUntil > now && s.wakeOwner !== owner) continue;
        s.wakeOwner = owner;
        s.wakeUntil = now + leaseMs;
        due.push(copy(s.n));
      }
    }
    return due;
  }

  async completeWakes(ids: readonly string[], owner: string): Promise<Notification[]> {
    const woken: Notification[] = [];
    for (const inbox of this.byUser.values()) {
      for (const id of ids) {
        const s = inbox.get(id);
        if (!s || s.wakeOwner !== owner) continue;
        delete s.n.snoozedUntil;
        delete s.wakeOwner;
        delete s.wakeUntil;
        woken.push(copy(s.n));
      }
    }
    return woken;
  }

  /** Applies `change` to the chosen visible notifications (all given ids must be), returning those it changed. */
  private change(user: string, target: readonly string[] | 'all', now: number, change: (s: Stored) => boolean): Notification[] {
    const inbox = this.inbox(user);
    const chosen = target === 'all' ? [...inbox.values()].filter((s) => visible(s, now)) : [...new Set(target)].flatMap((id) => {
      const s = inbox.get(id);
      return s && visible(s, now) ? [s] : [];
    });
    if (target !== 'all') {
      const unknown = missing(target, chosen.map((s) => s.n.id));
      if (unknown.length > 0) throw new UnknownNotifications(unknown);
    }
    return chosen.filter(change).map((s) => copy(s.n));
  }

  private inbox(user: string): Map<string, Stored> {
    let inbox = this.byUser.get(user);
    if (!inbox) {
      inbox = new Map();
      this.byUser.set(user, inbox);
    }
    return inbox;
  }
}
