import type { Notification } from '@tidings/protocol';
import { batchedHash, bumpThrottle, joinDigest, newBatchedNotification, type BatchedInput, type BatchedResult, type DigestStore, type Outcome } from './digest.js';
import { IdempotencyConflict, newId } from './store.js';

/** What MemoryDigests needs of the MemoryStore it belongs to. */
export interface MemoryInbox {
  /** The stored notification (live object: changes to `n` are stored), if the user has it. */
  get(user: string, id: string): { n: Notification; announced: boolean } | undefined;
  /** Stores a new notification; `announced` false leaves it to claimDue. */
  put(n: Notification, announced: boolean): void;
  /** The store's idempotency records: `ids` as `[user, id]`. */
  readonly idempotency: Map<string, { hash: string; ids: Array<[string, string]>; at: number }>;
}

/** MemoryStore's DigestStore. One process, no awaits inside: every call is atomic. */
export class MemoryDigests implements DigestStore {
  private readonly open = new Map<string, { id: string; closesAt: number }>();
  private readonly counters = new Map<string, { startedAt: number; count: number; endsAt: number }>();

  constructor(private readonly inbox: MemoryInbox) {}

  async createBatched(users: readonly string[], input: BatchedInput, options: { idempotencyKey?: string | undefined; now: number }): Promise<BatchedResult> {
    const { now, idempotencyKey: key } = options;
    const hash = batchedHash(users, input);
    if (key !== undefined) {
      const seen = this.inbox.idempotency.get(key);
      if (seen) {
        if (seen.hash !== hash) throw new IdempotencyConflict(key);
        const notifications = seen.ids.flatMap(([user, id]) => {
          const s = this.inbox.get(user, id);
          return s ? [structuredClone(s.n)] : [];
        });
        return { notifications, duplicate: true, outcomes: notifications.map(() => 'updated'), throttled: users.length - seen.ids.length };
      }
    }
    const notifications: Notification[] = [];
    const outcomes: Outcome[] = [];
    let throttled = 0;
    for (const user of users) {
      if (input.throttle) {
        const at = `${user}\u0000${input.throttle.key}`;
        const counter = bumpThrottle(this.counters.get(at), input.throttle, now);
        this.counters.set(at, { ...counter, endsAt: counter.startedAt + input.throttle.window });
        if (counter.count > input.throttle.limit) {
          throttled++;
          continue;
        }
      }
      const spec = input.digest;
      const at = spec && `${user}\u0000${spec.key}`;
      const current = at === undefined ? undefined : this.open.get(at);
      const joined = current && current.closesAt > now ? this.inbox.get(user, current.id) : undefined;
      if (spec && joined?.n.digest) {
        joined.n.digest = joinDigest(joined.n.digest, spec, input.payload);
        joined.n.payload = input.payload;
        notifications.push(structuredClone(joined.n));
        outcomes.push(joined.announced ? 'updated' : 'pending');
        continue;
      }
      const n = newBatchedNotification(newId(now), user, input, now);
      const announced = n.deliverAt === undefined;
      this.inbox.put(n, announced);
      if (at !== undefined && n.digest) this.open.set(at, { id: n.id, closesAt: n.digest.closesAt });
      notifications.push(structuredClone(n));
      outcomes.push(announced ? 'created' : 'pending');
    }
    if (key !== undefined) this.inbox.idempotency.set(key, { hash, ids: notifications.map((n) => [n.user, n.id]), at: now });
    return { notifications, duplicate: false, outcomes, throttled };
  }

  async purge(now: number): Promise<number> {
    let purged = 0;
    for (const [at, d] of this.open) if (d.closesAt <= now && this.open.delete(at)) purged++;
    for (const [at, c] of this.counters) if (c.endsAt <= now && this.counters.delete(at)) purged++;
    return purged;
  }
}
