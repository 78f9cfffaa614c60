import type { Publication } from '@tidings/protocol';
import type { Hub, Subscriber } from '../hub.js';
import { dataToBody } from './body.js';
import { EncodedMessage } from './message.js';
import type { TopicSubscription } from './subscriptions.js';

/** The MESSAGE content of a publication, encoded lazily once per (destination, version). */
export function topicMessage(pub: Publication): EncodedMessage {
  const extra: Array<[string, string]> = [['x-offset', String(pub.offset)], ['x-epoch', pub.epoch]];
  if (pub.info) extra.push(['x-client', pub.info.client], ['x-user', pub.info.user]);
  if (pub.headers) for (const name of Object.keys(pub.headers)) extra.push([name, pub.headers[name]!]);
  return new EncodedMessage(`${pub.epoch}-${pub.offset}`, dataToBody(pub.data), extra, pub.offset, pub.epoch);
}

/**
 * All STOMP subscriptions of one channel on this node, subscribed in the hub as a single
 * subscriber: each publication's MESSAGE tail is encoded once per (destination, version), and
 * each subscription gets the same bytes after its own prefix.
 */
class ChannelFanout implements Subscriber {
  readonly subs = new Set<TopicSubscription>();
  ready: Promise<void> = Promise.resolve();

  /** The channel's name and the destination of its first subscription, as later subscriptions may share them. */
  constructor(readonly channel: string, readonly destination: string) {}

  deliverPublication(pub: Publication): void {
    if (this.subs.size === 0) return;
    const msg = topicMessage(pub);
    for (const sub of this.subs) sub.owner.deliverTopic(sub, msg);
  }

  deliverEvent(): void {
    // join/leave are not sent to STOMP subscribers
  }
}

/** Which STOMP subscriptions hold which channel; one hub subscription per channel. */
export class TopicRouter {
  private readonly fanouts = new Map<string, ChannelFanout>();

  constructor(private readonly hub: Hub) {}

  /** STOMP topic subscriptions on this node. */
  get subscriptions(): number {
    let n = 0;
    for (const fanout of this.fanouts.values()) n += fanout.subs.size;
    return n;
  }

  /** Resolves once publications of `sub.channel` reach `sub` (they wait in `pending` until it is live). */
  async add(sub: TopicSubscription): Promise<void> {
    let fanout = this.fanouts.get(sub.channel);
    if (!fanout) {
      fanout = new ChannelFanout(sub.channel, sub.destination);
      this.fanouts.set(sub.channel, fanout);
      fanout.ready = this.hub.add(sub.channel, fanout);
    }
    fanout.subs.add(sub);
    try {
      await fanout.ready;
    } catch (err) {
      this.remove(sub);
      throw err;
    }
  }

  /**
   * `channel` and `destination` as the strings the channel's subscriptions on this node already
   * hold, when equal: a new subscription then keeps no copies of its own (each frame's header
   * values are new strings).
   */
  shared(channel: string, destination: string): { channel: string; destination: string } {
    const fanout = this.fanouts.get(channel);
    if (!fanout) return { channel, destination };
    return { channel: fanout.channel, destination: fanout.destination === destination ? fanout.destination : destination };
  }

  remove(sub: TopicSubscription): void {
    const fanout = this.fanouts.get(sub.channel);
    if (!fanout || !fanout.subs.delete(sub) || fanout.subs.size > 0) return;
    this.fanouts.delete(sub.channel);
    this.hub.remove(sub.channel, fanout);
  }

  /** STOMP subscriptions of `channel` on this node. */
  subscribersOf(channel: string): number {
    return this.fanouts.get(channel)?.subs.size ?? 0;
  }
}
