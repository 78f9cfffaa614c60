import type { TransportFactory } from './transports/transport.js';

/**
 * Chooses the transport of each connection attempt. A round of attempts starts with the first
 * transport, or with the one that last worked while it is remembered; a transport that fails to
 * open hands over to the next one at once. A transport that worked is remembered for `memory`
 * ms from when it first worked, so the preferred ones (WebSocket) are tried again after that.
 */
export class TransportPicker {
  private index = 0;
  private remembered: { index: number; until: number } | undefined;

  constructor(private readonly transports: readonly TransportFactory[], private readonly memory: number) {
    if (transports.length === 0) throw new Error('`transports` must name at least one transport');
  }

  get current(): TransportFactory {
    return this.transports[this.index]!;
  }

  /** True when a later transport is left to try in this round. */
  get hasNext(): boolean {
    return this.index + 1 < this.transports.length;
  }

  /** Starts a round: after `connect()`, a lost connection or a backoff wait. */
  beginRound(now = Date.now()): TransportFactory {
    const r = this.remembered;
    this.index = r && now < r.until ? r.index : 0;
    return this.current;
  }

  /** The current transport failed to open: moves to the next one; false when none is left. */
  next(): boolean {
    if (!this.hasNext) return false;
    this.index++;
    return true;
  }

  succeeded(now = Date.now()): void {
    const r = this.remembered;
    if (r && r.index === this.index && now < r.until) return;
    this.remembered = { index: this.index, until: now + this.memory };
  }
}
