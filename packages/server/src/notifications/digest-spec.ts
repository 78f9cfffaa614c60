/**
 * The shapes of a create's `digest` and `throttle` (types only, so the store contract and
 * ./digest.ts can both use them). Bounds and behaviour: ./digest.ts, docs/notifications.md.
 */

/**
 * `pushed`: the digest notification is invisible until its window closes, then delivered once
 * (the scheduler's claim of due notifications). `live`: created at once, then updated in place as
 * items join (`notification.updated`; the unread count moves only when it is created).
 */
export type DigestMode = 'pushed' | 'live';

/** `digest` of a create: merge the user's notifications with this key within `window` ms into one, listing the latest `items`. */
export interface DigestSpec { key: string; window: number; mode: DigestMode; items: number }

/** `throttle` of a create: at most `limit` notifications per user and key within `window` ms. */
export interface ThrottleSpec { key: string; limit: number; window: number }
