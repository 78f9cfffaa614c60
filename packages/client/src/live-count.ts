import type { InboxFilter } from '@tidings/protocol';
import { Emitter } from './emitter.js';

export interface LiveCountEvents {
  /** The count changed (or became known). */
  change: number;
}

/**
 * How many of the user's notifications match `filter`, kept up to date by `client.inbox` (it
 * asks the server again after each inbox event). Made by `client.inbox.watch(filter)`.
 */
export class LiveCount extends Emitter<LiveCountEvents> {
  /** The count; undefined until the first answer. */
  value: number | undefined;

  /** @internal `release` is the inbox's, called once by `close`. */
  constructor(readonly filter: InboxFilter, private readonly release: (count: LiveCount) => void) {
    super();
  }

  /** Stops keeping it up to date. */
  close(): void {
    this.release(this);
  }

  /** @internal Set by the inbox with each answer. */
  set(value: number): void {
    if (value === this.value) return;
    this.value = value;
    this.emit('change', value);
  }
}
