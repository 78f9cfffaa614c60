import type { Publication } from '@tidings/protocol';

/** Reads the publications of `channel` after `offset` (oldest first). */
export type GapReader = (channel: string, after: number) => Promise<Publication[]>;

interface ChannelOrder {
  last: { offset: number; epoch: string } | undefined;
  /** While a gap is being read from the stream, newer publications wait here. */
  waiting: Publication[] | undefined;
}

/**
 * Keeps each channel's publications in offset order on the way from pub/sub to the node, and fills
 * gaps (publications pub/sub lost, e.g. during a reconnect) from the channel's stream before
 * delivering what follows them. A change of epoch is passed on as is: the node's sessions tell
 * their clients to resubscribe, and recovery reports `recovered: false`.
 */
export class Sequencer {
  private readonly channels = new Map<string, ChannelOrder>();

  constructor(
    private readonly readGap: GapReader,
    private readonly deliver: (pub: Publication) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  track(channel: string): void {
    if (!this.channels.has(channel)) this.channels.set(channel, { last: undefined, waiting: undefined });
  }

  untrack(channel: string): void {
    this.channels.delete(channel);
  }

  isTracked(channel: string): boolean {
    return this.channels.has(channel);
  }

  tracked(): string[] {
    return [...this.channels.keys()];
  }

  receive(pub: Publication): void {
    const order = this.channels.get(pub.channel);
    if (!order) return;
    if (order.waiting) {
      order.waiting.push(pub);
      return;
    }
    const last = order.last;
    if (last && last.epoch === pub.epoch) {
      if (pub.offset <= last.offset) return;
      if (pub.offset > last.offset + 1) {
        order.waiting = [pub];
        void this.fill(pub.channel, order, last.offset);
        return;
      }
    }
    order.last = { offset: pub.offset, epoch: pub.epoch };
    this.deliver(pub);
  }

  /** Reads what the channel published after the last delivered offset (after a reconnect). */
  catchUp(channel: string): void {
    const order = this.channels.get(channel);
    if (!order?.last || order.waiting) return;
    order.waiting = [];
    void this.fill(channel, order, order.last.offset);
  }

  private async fill(channel: string, order: ChannelOrder, after: number): Promise<void> {
    let missed: Publication[] = [];
    try {
      missed = await this.readGap(channel, after);
    } catch (err) {
      this.onError(err);
    }
    if (this.channels.get(channel) !== order) return;
    const queued = order.waiting ?? [];
    order.waiting = undefined;
    for (const pub of [...missed, ...queued]) {
      const last = order.last;
      if (last && last.epoch === pub.epoch && pub.offset > last.offset + 1) {
        // the stream no longer holds the gap: pass the jump on; sessions see it and resubscribe
        order.last = { offset: pub.offset - 1, epoch: pub.epoch };
      }
      this.receive(pub);
    }
  }
}
