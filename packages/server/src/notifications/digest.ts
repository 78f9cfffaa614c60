import { createHash } from 'node:crypto';
import type { Notification, NotificationDigest } from '@tidings/protocol';
import { badRequest } from '../errors.js';
import type { DigestSpec, ThrottleSpec } from './digest-spec.js';
import type { CreateResult, NotificationInput } from './store.js';

export type { DigestMode, DigestSpec, ThrottleSpec } from './digest-spec.js';

/** Digest and throttle windows: 1 s to 24 h, in milliseconds. */
export const MIN_DIGEST_WINDOW = 1000;
export const MAX_DIGEST_WINDOW = 24 * 3600 * 1000;
/** Longest digest or throttle key, in UTF-16 units. */
export const MAX_DIGEST_KEY = 128;
/** How many of the latest items a digest lists: 1 to 20, 5 unless `digest.items` says otherwise. */
export const DEFAULT_DIGEST_ITEMS = 5;
export const MAX_DIGEST_ITEMS = 20;
/** Most notifications a throttle lets through per window. */
export const MAX_THROTTLE_LIMIT = 10_000;

export interface BatchedInput extends NotificationInput {
  digest?: DigestSpec | undefined;
  throttle?: ThrottleSpec | undefined;
}

/**
 * What a batched create did to each returned notification: `created` (new and visible now: announce
 * it), `updated` (an item joined a visible digest: announce the change), `pending` (invisible until
 * its time: the scheduler announces it).
 */
export type Outcome = 'created' | 'updated' | 'pending';

export interface BatchedResult extends CreateResult {
  /** Parallel to `notifications`; all `pending`-free and meaningless when `duplicate`. */
  outcomes: Outcome[];
  /** Users the throttle held back (not delivered, not stored). */
  throttled: number;
}

/**
 * Creates with a digest and/or a throttle, in one transaction per call, exactly once across
 * instances on the same data: concurrent calls for the same user and key serialize, so they never
 * open two digests or let more than `limit` through. Idempotency keys behave as in
 * NotificationStore.create (a repeat answers the notifications as they are now, `duplicate`).
 * Throttle first: a held-back item does not join a digest.
 */
export interface DigestStore {
  createBatched(users: readonly string[], input: BatchedInput, options: { idempotencyKey?: string | undefined; now: number }): Promise<BatchedResult>;

  /** Forgets digests whose window closed and throttle windows that ended by `now` (neither counts any more); returns how many. */
  purge(now: number): Promise<number>;
}

/** The store's DigestStore (its `digests` member), if it has one. */
export function digestsOf(store: object): DigestStore | undefined {
  const digests = (store as { digests?: unknown }).digests;
  return typeof digests === 'object' && digests !== null && 'createBatched' in digests ? (digests as DigestStore) : undefined;
}

/** The idempotency hash of a batched create: users, content, digest and throttle. */
export function batchedHash(users: readonly string[], input: BatchedInput): string {
  return createHash('sha256')
    .update(JSON.stringify(['batched', users, input.type, input.payload, input.deliverAt ?? null, input.expireAt ?? null, input.digest ?? null, input.throttle ?? null]))
    .digest('hex');
}

/** A new digest for its first item. */
export function openDigest(spec: DigestSpec, payload: unknown, now: number): NotificationDigest {
  return { key: spec.key, count: 1, items: [payload], closesAt: now + spec.window };
}

/** `digest` with one more item: the newest first, at most `spec.items` kept. */
export function joinDigest(digest: NotificationDigest, spec: DigestSpec, payload: unknown): NotificationDigest {
  return { ...digest, count: digest.count + 1, items: [payload, ...digest.items].slice(0, spec.items) };
}

/** A throttle counter after one more attempt at `now`: a new window when the last one ended. */
export function bumpThrottle(counter: { startedAt: number; count: number } | undefined, spec: ThrottleSpec, now: number): { startedAt: number; count: number } {
  if (!counter || counter.startedAt + spec.window <= now) return { startedAt: now, count: 1 };
  return { startedAt: counter.startedAt, count: counter.count + 1 };
}

/** A fresh notification for `user` carrying `input`, opening a digest when asked. */
export function newBatchedNotification(id: string, user: string, input: BatchedInput, now: number): Notification {
  const n: Notification = { id, user, type: input.type, payload: input.payload, createdAt: now };
  if (input.tags !== undefined) n.tags = [...input.tags];
  if (input.severity !== undefined) n.severity = input.severity;
  if (input.actions !== undefined) n.actions = structuredClone(input.actions);
  if (input.digest) {
    n.digest = openDigest(input.digest, input.payload, now);
    if (input.digest.mode === 'pushed') n.deliverAt = n.digest.closesAt;
  } else {
    if (input.deliverAt !== undefined) n.deliverAt = input.deliverAt;
    if (input.expireAt !== undefined) n.expireAt = input.expireAt;
  }
  return n;
}

function key(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '' || v.length > MAX_DIGEST_KEY || /[\u0000-\u001f\u007f]/.test(v) || !(v as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw badRequest(`\`${field}\` must be 1 to ${MAX_DIGEST_KEY} characters, no control characters`);
  }
  return v;
}

function window(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_DIGEST_WINDOW || v > MAX_DIGEST_WINDOW) {
    throw badRequest(`\`${field}\` must be whole milliseconds from ${MIN_DIGEST_WINDOW} to ${MAX_DIGEST_WINDOW}`);
  }
  return v;
}

function object(v: unknown, field: string, shape: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`\`${field}\` must be an object ${shape}`);
  return v as Record<string, unknown>;
}

/** A create's `digest` field, or undefined when absent. Throws bad_request (code 107) for anything out of bounds. */
export function parseDigest(v: unknown): DigestSpec | undefined {
  if (v === undefined) return undefined;
  const d = object(v, 'digest', '{key, window, mode?, items?}');
  const mode = d.mode ?? 'pushed';
  if (mode !== 'pushed' && mode !== 'live') throw badRequest('`digest.mode` must be "pushed" or "live"');
  const items = d.items ?? DEFAULT_DIGEST_ITEMS;
  if (typeof items !== 'number' || !Number.isInteger(items) || items < 1 || items > MAX_DIGEST_ITEMS) throw badRequest(`\`digest.items\` must be an integer from 1 to ${MAX_DIGEST_ITEMS}`);
  return { key: key(d.key, 'digest.key'), window: window(d.window, 'digest.window'), mode, items };
}

/** A create's `throttle` field, or undefined when absent. Throws bad_request (code 107) for anything out of bounds. */
export function parseThrottle(v: unknown): ThrottleSpec | undefined {
  if (v === undefined) return undefined;
  const t = object(v, 'throttle', '{key, limit, window}');
  const limit = t.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_THROTTLE_LIMIT) throw badRequest(`\`throttle.limit\` must be an integer from 1 to ${MAX_THROTTLE_LIMIT}`);
  return { key: key(t.key, 'throttle.key'), limit, window: window(t.window, 'throttle.window') };
}
