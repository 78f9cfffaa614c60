/** Lines logged per key per window before the rest are counted and summed up. */
export const LINES_PER_WINDOW = 10;
/** The window, in milliseconds. */
export const LOG_WINDOW_MS = 10_000;

interface Window {
  start: number;
  logged: number;
  suppressed: number;
}

/**
 * A log budget per key (a refusal reason, a disconnect kind): `allow` says whether one more line
 * fits in the key's current window of LOG_WINDOW_MS; past LINES_PER_WINDOW it counts instead.
 * `summarize` is called with `(key, suppressed, seconds)` once a window that suppressed lines is
 * over, on the next `allow` for that key or on `flush` (the node's heartbeat): no timers of its own.
 */
export class LogBudget<K> {
  private readonly windows = new Map<K, Window>();

  constructor(
    private readonly summarize: (key: K, suppressed: number, seconds: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  allow(key: K): boolean {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w) {
      w = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(key, w);
    } else if (now - w.start >= LOG_WINDOW_MS) {
      this.close(key, w, now);
    }
    if (w.logged >= LINES_PER_WINDOW) {
      w.suppressed++;
      return false;
    }
    w.logged++;
    return true;
  }

  /** Reports windows that are over. */
  flush(): void {
    const now = this.now();
    for (const [key, w] of this.windows) {
      if (now - w.start >= LOG_WINDOW_MS) this.close(key, w, now);
    }
  }

  private close(key: K, w: Window, now: number): void {
    if (w.suppressed > 0) this.summarize(key, w.suppressed, Math.round((now - w.start) / 1000));
    w.start = now;
    w.logged = 0;
    w.suppressed = 0;
  }
}
