import { ADMIN_STATS_CHANNEL } from '@tidings/protocol';
import { LiveTokens } from '../auth/live-token.js';
import type { AdminControl, Engine } from '../engine/engine.js';
import type { Hub } from '../hub.js';
import type { Logger } from '../log.js';
import type { Timed, TimerWheel } from '../timer.js';

/** Milliseconds between two stats snapshots of a node. */
export const STATS_INTERVAL_MS = 1000;
/** Milliseconds between two `watch` messages of a node with an admin console subscribed. */
const WATCH_EVERY_MS = 10_000;
/** Milliseconds a node keeps publishing after the last `watch` it heard. */
const WATCHED_FOR_MS = 30_000;

/** What the live stats need from their node. */
export interface LiveHost {
  readonly engine: Engine;
  readonly hub: Hub;
  readonly timers: TimerWheel;
  readonly log: Logger;
}

/**
 * The admin console's data pushed over Tidings itself. Once a second (one item on the node's
 * TimerWheel, not one per connection) the node publishes `stats()` to `$admin:stats` through the
 * engine, so with Redis every node's snapshot reaches every console on every node. It does so only
 * while some console watches: a node with a local subscriber of the channel says `watch` on the
 * engine's control channel every 10 s (and when a page asks for a live token, so the first
 * snapshots come at once), and every node publishes for 30 s after the last `watch` it heard.
 * The snapshots keep no history (historySize 0) and are not counted as publications in the metrics.
 */
export class AdminLive implements Timed {
  /** The live tokens this node issues and accepts. */
  readonly tokens = new LiveTokens();
  private watchedUntil = 0;
  private nextWatch = 0;
  private handle = -1;
  private publishing = false;

  constructor(private readonly host: LiveHost, private readonly stats: () => unknown, private readonly now: () => number = Date.now) {}

  /** Starts the once-a-second tick. */
  start(): void {
    if (this.handle === -1) this.handle = this.host.timers.schedule(this, this.now() + STATS_INTERVAL_MS);
  }

  stop(): void {
    this.host.timers.cancel(this, this.handle);
    this.handle = -1;
  }

  /** A live token for `ttl` seconds (see LiveTokens); tells every node a console is about to watch. */
  issue(ttl: number): { token: string; expiresAt: number } {
    this.watch(this.now());
    return this.tokens.issue(ttl, this.now());
  }

  onControl(message: AdminControl): void {
    if (message.op === 'watch') this.watchedUntil = this.now() + WATCHED_FOR_MS;
  }

  onTimer(now: number): void {
    this.handle = this.host.timers.schedule(this, now + STATS_INTERVAL_MS);
    if (this.host.hub.subscribersOf(ADMIN_STATS_CHANNEL) > 0 && now >= this.nextWatch) this.watch(now);
    if (now < this.watchedUntil) this.publish();
  }

  private watch(now: number): void {
    this.nextWatch = now + WATCH_EVERY_MS;
    this.host.engine.publishControl({ type: 'admin', op: 'watch' })
      .catch((err: unknown) => this.host.log.debug('admin watch failed', { err: String(err) }));
  }

  /** One snapshot; skipped while the previous one is still on its way (a slow engine gets no pile-up). */
  private publish(): void {
    if (this.publishing) return;
    this.publishing = true;
    this.host.engine.publish(ADMIN_STATS_CHANNEL, this.stats(), { historySize: 0, historyTtl: 60 })
      .catch((err: unknown) => this.host.log.debug('admin stats publish failed', { err: String(err) }))
      .finally(() => { this.publishing = false; });
  }
}
