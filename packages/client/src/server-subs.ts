import { MAX_CONNECT_SUBS, type Publication, type StreamPosition, type SubscribedMessage } from '@tidings/protocol';
import { StreamCursor } from './cursor.js';

/** A server-side subscription started, or resumed after a reconnect (`client.on('subscribed', …)`). */
export interface ServerSubscribedEvent {
  channel: string;
  /** Always true: the server made this subscription (token `subs` claim, `POST /api/subscribe`). */
  server: true;
  /** True when every publication missed since the last position follows (or none was missed). */
  recovered: boolean;
  position: StreamPosition;
}

/** A server-side subscription ended (`client.on('unsubscribed', …)`), e.g. by `POST /api/unsubscribe`. */
export interface ServerUnsubscribedEvent {
  channel: string;
  server: true;
  code: number;
  reason: string;
}

/**
 * The SDK's record of the connection's server-side subscriptions: each channel's last position,
 * sent with the next `connect` (`subs`) so the server resumes it there. The SDK never asks for a
 * server-side subscription itself: the server decides which ones a connection has.
 */
export class ServerChannels {
  private readonly cursors = new Map<string, StreamCursor>();

  get channels(): string[] {
    return [...this.cursors.keys()];
  }

  /** The positions for `connect.subs` (at most MAX_CONNECT_SUBS), or undefined when there are none. */
  positions(): Record<string, StreamPosition> | undefined {
    const out: Record<string, StreamPosition> = {};
    let n = 0;
    for (const [channel, cursor] of this.cursors) {
      const at = cursor.position;
      if (!at || n++ >= MAX_CONNECT_SUBS) continue;
      out[channel] = at;
    }
    return n === 0 ? undefined : out;
  }

  /** Records a `subscribed` push; replayed publications follow it when `recovered`. */
  subscribed(message: SubscribedMessage): ServerSubscribedEvent {
    let cursor = this.cursors.get(message.channel);
    if (!cursor) this.cursors.set(message.channel, (cursor = new StreamCursor()));
    if (!message.recovered) {
      cursor.restart(message.position.epoch);
      cursor.advance(message.position);
    }
    return { channel: message.channel, server: true, recovered: message.recovered, position: message.position };
  }

  /** True when `pub` belongs to a server-side subscription and is new (the position moves on). */
  accept(pub: Publication): boolean {
    return this.cursors.get(pub.channel)?.accept(pub) ?? false;
  }

  /** Forgets the channel; true when it was held. */
  forget(channel: string): boolean {
    return this.cursors.delete(channel);
  }
}
