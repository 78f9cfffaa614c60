import { encodePublication, type ClientInfo, type Publication } from '@tidings/protocol';
import type { Engine } from './engine/engine.js';

/** A local subscriber: receives already-encoded messages, the same bytes for everyone. */
export interface Subscriber {
  /** `message` is `pub` encoded once for all subscribers; it must not be modified. */
  deliverPublication(pub: Publication, message: Buffer): void;
  deliverEvent(channel: string, message: Buffer): void;
}

interface Entry {
  subscribers: Set<Subscriber>;
  /** Resolves when the engine delivers this channel to the node. */
  ready: Promise<void>;
}

/**
 * The node's local fan-out: which subscribers hold which channel. The node subscribes in the
 * engine once per channel with local subscribers, and unsubscribes when the last one leaves.
 * Each publication is encoded once and the same Buffer handed to every subscriber.
 */
export class Hub {
  private readonly channels = new Map<string, Entry>();

  constructor(
    private readonly engine: Engine,
    private readonly onError: (err: unknown) => void,
    /** Told the time of each publication fanned out here (the publish-to-write latency sample). */
    private readonly latency?: { sample(time: number): void },
  ) {}

  /** Channels with local subscribers. */
  get size(): number {
    return this.channels.size;
  }

  async add(channel: string, sub: Subscriber): Promise<void> {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { subscribers: new Set(), ready: this.engine.subscribe(channel) };
      this.channels.set(channel, entry);
    }
    entry.subscribers.add(sub);
    try {
      await entry.ready;
    } catch (err) {
      this.remove(channel, sub);
      throw err;
    }
  }

  remove(channel: string, sub: Subscriber): void {
    const entry = this.channels.get(channel);
    if (!entry || !entry.subscribers.delete(sub) || entry.subscribers.size > 0) return;
    this.channels.delete(channel);
    this.engine.unsubscribe(channel).catch(this.onError);
  }

  /** Channels with local subscribers, and how many. */
  list(): Array<{ channel: string; subscribers: number }> {
    return [...this.channels].map(([channel, e]) => ({ channel, subscribers: e.subscribers.size }));
  }

  subscribersOf(channel: string): number {
    return this.channels.get(channel)?.subscribers.size ?? 0;
  }

  /** `dataJson`: `JSON.stringify(pub.data)` when the engine has it, so it is not made again. */
  publication(pub: Publication, dataJson?: string): void {
    const entry = this.channels.get(pub.channel);
    if (!entry) return;
    const message = Buffer.from(encodePublication(pub, dataJson));
    for (const sub of entry.subscribers) sub.deliverPublication(pub, message);
    this.latency?.sample(pub.time);
  }

  join(channel: string, info: ClientInfo): void {
    this.event(channel, { type: 'join', channel, info });
  }

  leave(channel: string, info: ClientInfo): void {
    this.event(channel, { type: 'leave', channel, info });
  }

  private event(channel: string, message: object): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    const bytes = Buffer.from(JSON.stringify(message));
    for (const sub of entry.subscribers) sub.deliverEvent(channel, bytes);
  }
}
