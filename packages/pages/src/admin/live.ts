/**
 * The page's own Tidings connection: the served SDK over WebSocket, with a live token from
 * `POST /admin/api/live-token` (asked again on every reconnect and before it expires), receiving
 * every node's stats on `$admin:stats`. While that connection is down (not back within 5 s, or
 * stopped: then it starts again 15 s later) the page polls `/admin/api/stats` every second
 * instead, and says so.
 */
import { Client } from '@tidings/client';
import type { Stats } from './stats.js';

/** `ADMIN_STATS_CHANNEL` of `@tidings/protocol`: where each node publishes its stats. */
const STATS_CHANNEL = '$admin:stats';
/** Milliseconds the connection may take to come (back) before the page polls. */
const FALLBACK_AFTER_MS = 5000;
const POLL_MS = 1000;
/** Milliseconds before a stopped connection (the server said not to reconnect) is started again. */
const RESTART_MS = 15_000;

/** `live`: stats come over Tidings; `connecting`: not yet, not polling yet; `polling`: from `/admin/api/stats`. */
export type LiveState = 'live' | 'connecting' | 'polling';

export interface LiveHandlers {
  /** A live token for the connection; rejects when the admin session is gone. */
  token(): Promise<string>;
  /** This node's stats from `/admin/api/stats`; undefined when the call failed. */
  poll(): Promise<Stats | undefined>;
  stats(s: Stats): void;
  state(state: LiveState, reason: string): void;
}

export class LiveStats {
  private client: Client | undefined;
  private poller: number | undefined;
  private fallback: number | undefined;
  private restart: number | undefined;

  constructor(private readonly on: LiveHandlers) {}

  start(): void {
    this.stop();
    const c = new Client(location.origin, { getToken: () => this.on.token(), maxReconnectDelay: 5000 });
    this.client = c;
    c.on('connected', () => this.client === c && this.up());
    c.on('connecting', ({ reason }) => this.client === c && this.down(reason));
    c.on('disconnected', ({ reason }) => {
      if (this.client !== c) return;
      this.startPolling(reason);
      this.restart = window.setTimeout(() => this.start(), RESTART_MS);
    });
    c.on('publication', (p) => {
      if (this.client === c && p.channel === STATS_CHANNEL) this.on.stats(p.data as Stats);
    });
    c.connect();
  }

  stop(): void {
    const c = this.client;
    this.client = undefined;
    c?.disconnect();
    this.clearTimers();
  }

  private up(): void {
    this.clearTimers();
    this.on.state('live', '');
  }

  private down(reason: string): void {
    if (this.poller !== undefined || this.fallback !== undefined) return;
    this.on.state('connecting', reason);
    this.fallback = window.setTimeout(() => this.startPolling(reason), FALLBACK_AFTER_MS);
  }

  private startPolling(reason: string): void {
    window.clearTimeout(this.fallback);
    this.fallback = undefined;
    if (this.poller !== undefined) return;
    this.on.state('polling', reason);
    const tick = (): void => void this.on.poll().then((s) => s && this.on.stats(s));
    tick();
    this.poller = window.setInterval(tick, POLL_MS);
  }

  private clearTimers(): void {
    window.clearTimeout(this.fallback);
    window.clearInterval(this.poller);
    window.clearTimeout(this.restart);
    this.fallback = undefined;
    this.poller = undefined;
    this.restart = undefined;
  }
}
