/**
 * A fixed-window request budget for the demo endpoints: at most `perKey` requests per key (a
 * client address) and `total` in all per window of `windowMs`. Memory is bounded: once `maxKeys`
 * keys are counted in a window, requests under further keys are refused until it rolls over.
 */
export class RateWindow {
  private readonly counts = new Map<string, number>();
  private windowStart = 0;
  private total = 0;

  constructor(private readonly limits: { perKey: number; total: number; windowMs: number; maxKeys: number }) {}

  /** Counts one request under `key` at `now` (ms) and says whether it is within the budget. */
  allow(key: string, now: number): boolean {
    if (now - this.windowStart >= this.limits.windowMs) {
      this.windowStart = now;
      this.counts.clear();
      this.total = 0;
    }
    const n = this.counts.get(key);
    if (n === undefined && this.counts.size >= this.limits.maxKeys) return false;
    if ((n ?? 0) >= this.limits.perKey || this.total >= this.limits.total) return false;
    this.counts.set(key, (n ?? 0) + 1);
    this.total++;
    return true;
  }
}
