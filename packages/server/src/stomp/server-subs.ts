import { CloseCode, ErrorCode, type ClientInfo } from '@tidings/protocol';
import type { StompFrame, StompVersion } from '@tidings/stomp';
import type { Principal } from '../channels.js';
import { StompError } from './errors.js';
import type { StompHost } from './host.js';
import { subscriptionPrefix, type EncodedMessage } from './message.js';
import { refreshTopicPresence } from './presence.js';
import { NO_PENDING, addPending, unackedFor, type QueueSubscription, type SubscriptionOwner, type TopicSubscription } from './subscriptions.js';
import type { StompWire } from './wire.js';

/** What the sink needs from its connection (a part of the session's SessionIO). */
export interface SinkIO {
  readonly version: StompVersion;
  readonly wire: StompWire;
  readonly info: ClientInfo;
  readonly principal: Principal;
  /** The token's server-side subscriptions (`Credentials.subs`). */
  readonly subs: readonly string[] | undefined;
  fail(err: StompError): void;
  receipt(frame: StompFrame, extra?: ReadonlyArray<readonly [string, string]>): void;
}

/**
 * The destination a STOMP client SUBSCRIBEs to to receive its server-side subscriptions (the
 * token's `subs` claim, `POST /api/subscribe`). Without it a STOMP connection gets none: STOMP
 * sends MESSAGE frames only for subscriptions the client made.
 */
export const SERVER_SUBSCRIPTIONS_DESTINATION = '/user/subscriptions';

/**
 * One STOMP connection's server-side subscriptions, opened by a SUBSCRIBE to
 * SERVER_SUBSCRIPTIONS_DESTINATION (always `ack:auto`). Each channel's publications arrive as
 * MESSAGE frames with that SUBSCRIBE's `subscription` id and `destination:/topic/<channel>`, live
 * from when the channel is added (no recovery: a client that needs it SUBSCRIBEs to the topic
 * with `x-since-offset`). `POST /api/unsubscribe` drops a channel quietly; the connection's
 * subscription limit counts these channels too.
 */
export class ServerSubscriptionSink implements SubscriptionOwner {
  private readonly channels = new Map<string, TopicSubscription>();
  private readonly prefix: Buffer;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly host: StompHost,
    private readonly io: SinkIO,
    /** Subscriptions the connection holds besides these (for the limit). */
    private readonly others: () => number,
  ) {
    this.prefix = subscriptionPrefix(id, io.version);
  }

  get congested(): boolean {
    return this.io.wire.backlog > this.host.options.limits.maxQueueBytes / 2;
  }

  get size(): number {
    return this.channels.size;
  }

  /** Adds every server-side subscription the connection starts with, then answers the SUBSCRIBE's receipt. */
  async open(frame: StompFrame): Promise<void> {
    const subs = this.io.subs === undefined ? [] : [...this.io.subs];
    let channels: string[];
    try {
      channels = await this.host.serverSubs.forConnection({ user: this.io.info.user, subs });
    } catch (err) {
      this.host.log.warn('server-side subscriptions unavailable', { client: this.io.info.client, err: String(err) });
      channels = subs;
    }
    for (const channel of channels) await this.add(channel);
    this.io.receipt(frame, [['x-channels', String(this.channels.size)]]);
  }

  /** Adds `channel` (live from now); a channel it cannot take (limit, namespace, engine) is logged and left out. */
  async add(channel: string): Promise<void> {
    if (this.closed || this.channels.has(channel)) return;
    const { policy, options, topics, engine, log } = this.host;
    const why = (err: unknown): void => log.info('server-side subscription not added', { client: this.io.info.client, channel, err: String(err) });
    if (this.others() + this.channels.size >= options.limits.maxSubscriptions) return why(`at most ${options.limits.maxSubscriptions} subscriptions per connection`);
    let ns;
    try {
      ns = policy.resolve(channel);
    } catch (err) {
      return why(err);
    }
    const sub: TopicSubscription = {
      kind: 'topic', id: this.id, destination: `/topic/${channel}`, ack: 'auto', prefix: this.prefix, owner: this, unacked: unackedFor('auto'),
      channel, live: false, pending: NO_PENDING, offset: 0, epoch: '', unrecovered: false, presence: ns.presence || ns.joinLeave, joinLeave: ns.joinLeave,
    };
    this.channels.set(channel, sub);
    try {
      await topics.add(sub);
      const h = await engine.history(channel, { limit: 0 });
      if (this.channels.get(channel) !== sub) return;
      sub.offset = h.position.offset;
      sub.epoch = h.position.epoch;
      sub.live = true;
      for (const m of sub.pending) this.deliverTopic(sub, m);
      sub.pending = NO_PENDING;
      if (sub.presence) await engine.addPresence(channel, this.io.info.client, this.io.info, options.pingInterval * 3);
      if (sub.joinLeave) await engine.publishJoin(channel, this.io.info);
    } catch (err) {
      if (this.channels.get(channel) === sub) this.remove(channel);
      why(err);
    }
  }

  /** Drops `channel`; true when it was held. */
  remove(channel: string): boolean {
    const sub = this.channels.get(channel);
    if (!sub) return false;
    this.channels.delete(channel);
    this.host.topics.remove(sub);
    const { engine, log } = this.host;
    const warn = (err: unknown): void => log.warn('stomp presence update failed', { err: String(err) });
    if (sub.presence) engine.removePresence(channel, this.io.info.client).catch(warn);
    if (sub.joinLeave && sub.live) engine.publishLeave(channel, this.io.info).catch(warn);
    return true;
  }

  /** UNSUBSCRIBE or the connection's end: drops every channel. */
  close(): void {
    this.closed = true;
    for (const channel of [...this.channels.keys()]) this.remove(channel);
  }

  /** Re-adds presence of live channels, so an engine with expiry (Redis) keeps it. */
  refreshPresence(): void {
    refreshTopicPresence(this.host, this.io.info, this.channels.values());
  }

  deliverTopic(sub: TopicSubscription, message: EncodedMessage): void {
    if (!sub.live) {
      addPending(sub, message);
      return;
    }
    if (message.epoch === sub.epoch && message.offset <= sub.offset) return;
    sub.epoch = message.epoch;
    sub.offset = message.offset;
    const { wire, version } = this.io;
    wire.written.messages++;
    wire.write(this.prefix, false);
    if (!wire.write(message.tail(version, sub.destination), message.binary)) {
      this.io.fail(new StompError('slow consumer: outbound queue over its limit', ErrorCode.LimitExceeded, CloseCode.Slow));
    }
  }

  deliverQueued(_sub: QueueSubscription): void {
    // the sink holds topics only
  }
}
