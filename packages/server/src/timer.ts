/** Something the shared timer calls when its time has come. */
export interface Timed {
  onTimer(now: number): void;
}

/**
 * One timer for the whole node: items are kept in buckets of `resolution` ms and called from a
 * single interval, so a connection costs no timer of its own. Calls may be up to one resolution late.
 */
export class TimerWheel {
  private readonly buckets = new Map<number, Set<Timed>>();
  private readonly interval: NodeJS.Timeout;
  /** Buckets are counted from the wheel's start, so keys (the handles items keep) stay small integers, not boxed numbers. */
  private readonly origin: number;
  private lastKey = 0;

  constructor(private readonly resolution = 250) {
    this.origin = Math.floor(Date.now() / resolution);
    this.interval = setInterval(() => this.tick(Date.now()), resolution);
    this.interval.unref();
  }

  /** Schedules `item` at `at` (ms since epoch); returns the handle to pass to `cancel`, an integer ≥ 1. */
  schedule(item: Timed, at: number): number {
    const key = Math.max(Math.ceil(at / this.resolution) - this.origin, this.lastKey + 1);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(key, bucket);
    }
    bucket.add(item);
    return key;
  }

  cancel(item: Timed, handle: number): void {
    const bucket = this.buckets.get(handle);
    if (!bucket) return;
    bucket.delete(item);
    if (bucket.size === 0) this.buckets.delete(handle);
  }

  stop(): void {
    clearInterval(this.interval);
    this.buckets.clear();
  }

  private tick(now: number): void {
    const key = Math.floor(now / this.resolution) - this.origin;
    while (this.lastKey < key) {
      // advanced before the calls, so an item scheduled from one lands in a bucket still ahead
      const k = ++this.lastKey;
      const bucket = this.buckets.get(k);
      if (!bucket) continue;
      this.buckets.delete(k);
      for (const item of bucket) item.onTimer(now);
    }
  }
}
