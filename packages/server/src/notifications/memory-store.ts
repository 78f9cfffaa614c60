import type { Notification } from '@tidings/protocol';
import { MemoryDigests } from './memory-digest.js';
import {
  IdempotencyConflict, contentHash, decodeInboxCursor, encodeInboxCursor, newId, visibleAt,
  type CreateResult, type ListOptions, type ListResult, type Mark, type NotificationInput, type NotificationStore, type Schedule, type ScheduleTarget,
} from './store.js';

interface Stored { n: Notification; visibleAt: number; announced: boolean }
interface Leased { s: Schedule; owner?: string; leaseUntil?: number }

const visible = (s: Stored, now: number): boolean => s.visibleAt <= now && (s.n.expireAt === undefined || s.n.expireAt > now);
const newestFirst = (a: Stored, b: Stored): number => b.visibleAt - a.visibleAt || (a.n.id < b.n.id ? 1 : a.n.id > b.n.id ? -1 : 0);

/** The in-process store: for tests and for embedding without persistence. Gone with the process. */
export class MemoryStore implements NotificationStore {
  private readonly byUser = new Map<string, Map<string, Stored>>();
  private readonly idempotency = new Map<string, { hash: string; ids: Array<[string, string]>; at: number }>();
  private readonly schedules = new Map<string, Leased>();
  /** Digests and throttles (./digest.ts) on the same maps. */
  readonly digests = new MemoryDigests({
    get: (user, id) => this.inbox(user).get(id),
    put: (n, announced) => void this.inbox(n.user).set(n.id, { n, visibleAt: visibleAt(n), announced }),
    idempotency: this.idempotency,
  });

  async create(users: readonly string[], input: NotificationInput, options: { idempotencyKey?: string | undefined; now: number }): Promise<CreateResult> {
    const key = options.idempotencyKey;
    const hash = key === undefined ? '' : contentHash(users, input);
    if (key !== undefined) {
      const seen = this.idempotency.get(key);
      if (seen) {
        if (seen.hash !== hash) throw new IdempotencyConflict(key);
        const notifications = seen.ids.flatMap(([user, id]) => {
          const s = this.byUser.get(user)?.get(id);
          return s ? [{ ...s.n }] : [];
        });
        return { notifications, duplicate: true };
      }
    }
    const notifications = users.map((user) => {
      const n: Notification = { id: newId(options.now), user, type: input.type, payload: input.payload, createdAt: options.now };
      if (input.deliverAt !== undefined) n.deliverAt = input.deliverAt;
      if (input.expireAt !== undefined) n.expireAt = input.expireAt;
      return n;
    });
    for (const n of notifications) this.inbox(n.user).set(n.id, { n, visibleAt: visibleAt(n), announced: n.deliverAt === undefined });
    if (key !== undefined) this.idempotency.set(key, { hash, ids: notifications.map((n) => [n.user, n.id]), at: options.now });
    return { notifications: notifications.map((n) => ({ ...n })), duplicate: false };
  }

  async list(user: string, options: ListOptions, now: number): Promise<ListResult> {
    const after = options.cursor === undefined ? undefined : decodeInboxCursor(options.cursor);
    const all = [...this.inbox(user).values()]
      .filter((s) => visible(s, now) && (!options.unread || s.n.readAt === undefined))
      .filter((s) => !after || s.visibleAt < after.visibleAt || (s.visibleAt === after.visibleAt && s.n.id < after.id))
      .sort(newestFirst);
    const page = all.slice(0, options.limit);
    const result: ListResult = { notifications: page.map((s) => ({ ...s.n })) };
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
      if (JSON.stringify(s.n) !== before) changed.push({ ...s.n });
    }
    return changed;
  }

  async remove(user: string, ids: readonly string[]): Promise<string[]> {
    const inbox = this.inbox(user);
    return ids.filter((id) => inbox.delete(id));
  }

  async unreadCount(user: string, now: number): Promise<number> {
    let count = 0;
    for (const s of this.inbox(user).values()) if (visible(s, now) && s.n.readAt === undefined) count++;
    return count;
  }

  async claimDue(now: number, limit: number): Promise<Notification[]> {
    const due: Notification[] = [];
    for (const inbox of this.byUser.values()) {
      for (const s of inbox.values()) {
        if (due.length >= limit) return due;
        if (!s.announced && s.visibleAt <= now) {
          s.announced = true;
          if (s.n.expireAt === undefined || s.n.expireAt > now) due.push({ ...s.n });
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

  async close(): Promise<void> {}

  private inbox(user: string): Map<string, Stored> {
    let inbox = this.byUser.get(user);
    if (!inbox) {
      inbox = new Map();
      this.byUser.set(user, inbox);
    }
    return inbox;
  }
}
