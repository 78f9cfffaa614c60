export interface BackoffOptions {
  /** Milliseconds; the shortest wait. */
  min: number;
  /** Milliseconds; the longest wait. */
  max: number;
  /** Growth of the window per failed attempt. */
  factor: number;
}

/** The upper end of the wait window for attempt `n` (0 for the first retry): min·factorⁿ⁺¹, within [min, max]. */
export function backoffCeiling(attempt: number, o: BackoffOptions): number {
  const grown = o.min * Math.pow(o.factor, Math.min(attempt + 1, 64));
  return Math.max(o.min, Math.min(o.max, grown));
}

/**
 * Exponential backoff with full jitter: a uniformly random wait in
 * [min, backoffCeiling(attempt)], so clients that lost the same server spread out.
 */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, o);
  return o.min + random() * (ceiling - o.min);
}
