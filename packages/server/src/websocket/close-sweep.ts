import type { Timed, TimerWheel } from '../timer.js';

/** What the sweep ends when its close handshake does not finish in time. */
export interface Closable {
  terminate(): void;
}

/** How long a closing connection may take to finish the close handshake. */
export const CLOSE_TIMEOUT_MS = 5000;

/**
 * Bounds every close handshake with one timer for all closing connections (on the node's
 * TimerWheel): a connection still here `timeoutMs` after it started closing is terminated.
 */
export class CloseSweep implements Timed {
  private readonly closing = new Map<Closable, number>();
  private scheduled = false;

  constructor(private readonly timers: Pick<TimerWheel, 'schedule'>, private readonly timeoutMs = CLOSE_TIMEOUT_MS) {}

  get size(): number {
    return this.closing.size;
  }

  add(conn: Closable): void {
    if (this.closing.has(conn)) return;
    const deadline = Date.now() + this.timeoutMs;
    this.closing.set(conn, deadline);
    if (!this.scheduled) {
      this.scheduled = true;
      this.timers.schedule(this, deadline);
    }
  }

  delete(conn: Closable): void {
    this.closing.delete(conn);
  }

  onTimer(now: number): void {
    this.scheduled = false;
    let next = Infinity;
    for (const [conn, deadline] of this.closing) {
      if (deadline <= now) {
        this.closing.delete(conn);
        conn.terminate();
      } else if (deadline < next) {
        next = deadline;
      }
    }
    if (next !== Infinity) {
      this.scheduled = true;
      this.timers.schedule(this, next);
    }
  }
}
