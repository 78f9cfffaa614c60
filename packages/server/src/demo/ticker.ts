import type { Logger } from '../log.js';
import type { Publisher } from '../publisher.js';
import type { Timed, TimerWheel } from '../timer.js';

/** The demo's ticker channel. */
export const TICKER_CHANNEL = 'ticker:prices';
/** Milliseconds between ticks. */
export const TICK_MS = 1000;

/** One tick: `{time, quotes: [{symbol, price, change}]}`, prices in dollars with two decimals, `time` in ms since the epoch. */
export interface Tick {
  time: number;
  quotes: Array<{ symbol: string; price: number; change: number }>;
}

const SYMBOLS = ['TIDE', 'WAVE', 'SURF', 'REEF'];

/**
 * Publishes a made-up price tick on TICKER_CHANNEL every TICK_MS through the node's shared timer
 * (a random walk per symbol). A failed publish (engine down) is logged at debug and the next tick
 * comes as usual.
 */
export class DemoTicker implements Timed {
  private readonly prices = SYMBOLS.map((_, i) => 100 + i * 25);
  private handle: number | undefined;

  constructor(private readonly publisher: Publisher, private readonly timers: TimerWheel, private readonly log: Logger, private readonly random: () => number = Math.random) {}

  start(): void {
    if (this.handle === undefined) this.handle = this.timers.schedule(this, Date.now() + TICK_MS);
  }

  stop(): void {
    if (this.handle !== undefined) this.timers.cancel(this, this.handle);
    this.handle = undefined;
  }

  /** The next tick's data (and the walk advanced by one step). */
  next(now: number): Tick {
    const quotes = SYMBOLS.map((symbol, i) => {
      const before = this.prices[i]!;
      const price = Math.max(1, Math.round((before * (1 + (this.random() - 0.5) * 0.01)) * 100) / 100);
      this.prices[i] = price;
      return { symbol, price, change: Math.round((price - before) * 100) / 100 };
    });
    return { time: now, quotes };
  }

  onTimer(now: number): void {
    if (this.handle === undefined) return;
    this.handle = this.timers.schedule(this, now + TICK_MS);
    this.publisher.publish(TICKER_CHANNEL, this.next(now)).catch((err: unknown) => this.log.debug('demo tick not published', { err: String(err) }));
  }
}
