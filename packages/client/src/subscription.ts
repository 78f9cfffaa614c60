import type {
  ClientInfo, HistoryResult, PresenceResult, Publication, PublishResult, StreamPosition, SubscribeResult,
} from '@tidings/protocol';
import { StreamCursor } from './cursor.js';
import { Emitter, type Listener } from './emitter.js';
import type { TidingsError } from './errors.js';
import type { Push } from './session.js';

export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed';

export interface SubscribedEvent {
  /** True when the client asked the server to replay from a remembered position. */
  recovering: boolean;
  /**
   * True when every missed publication was (or is about to be) delivered.
   * False on a first subscribe and when the server could not replay (history
   * gone, new epoch): load the state afresh.
   */
  recovered: boolean;
  position: StreamPosition;
}

export interface SubscriptionEvents {
  subscribing: { reason: string };
  subscribed: SubscribedEvent;
  unsubscribed: { code: number; reason: string };
  publication: Publication;
  join: ClientInfo;
  leave: ClientInfo;
  error: TidingsError;
}

export type SubscriptionHandlers = { [K in keyof SubscriptionEvents]?: Listener<SubscriptionEvents[K]> };

export interface SubscribeOptions {
  /** Start from this position (e.g. one saved by the app) and receive what came after it. */
  since?: StreamPosition;
}

export interface HistoryOptions {
  since?: StreamPosition;
  limit?: number;
}

/** What a subscription needs from its client. */
export interface SubscriptionHost {
  remove(sub: Subscription): void;
  publish(channel: string, data: unknown): Promise<PublishResult>;
  history(channel: string, options?: HistoryOptions): Promise<HistoryResult>;
  presence(channel: string): Promise<PresenceResult>;
}

/**
 * Interest in one channel. It outlives connections: after every reconnect the
 * client resubscribes from the last position seen and skips duplicates.
 */
export class Subscription extends Emitter<SubscriptionEvents> {
  private current: SubscriptionState = 'subscribing';
  private readonly cursor: StreamCursor;

  /** @internal Made by `Client.subscribe`. */
  constructor(readonly channel: string, private readonly host: SubscriptionHost, handlers: SubscriptionHandlers, options: SubscribeOptions) {
    super();
    this.cursor = new StreamCursor(options.since);
    for (const key of Object.keys(handlers) as (keyof SubscriptionEvents)[]) this.listen(key, handlers);
  }

  get state(): SubscriptionState {
    return this.current;
  }

  /** The last publication's offset and epoch (or the subscribe position): where a resubscribe starts. */
  get position(): StreamPosition | undefined {
    return this.cursor.position;
  }

  /** Leaves the channel for good; make a new subscription to come back. */
  unsubscribe(): void {
    if (this.current === 'unsubscribed') return;
    this.host.remove(this);
    this.setUnsubscribed(0, 'unsubscribe called');
  }

  publish(data: unknown): Promise<PublishResult> {
    return this.host.publish(this.channel, data);
  }

  history(options?: HistoryOptions): Promise<HistoryResult> {
    return this.host.history(this.channel, options);
  }

  presence(): Promise<PresenceResult> {
    return this.host.presence(this.channel);
  }

  /** @internal The connection it was subscribed on is gone. */
  handleSubscribing(reason: string): void {
    if (this.current !== 'subscribed') return;
    this.current = 'subscribing';
    this.emit('subscribing', { reason });
  }

  /** @internal The server accepted the subscribe command. */
  handleSubscribed(result: SubscribeResult, recovering: boolean): void {
    const recovered = recovering && result.recovered;
    if (recovering && !recovered) this.cursor.restart(result.position.epoch);
    this.current = 'subscribed';
    this.emit('subscribed', { recovering, recovered, position: result.position });
    for (const pub of result.publications ?? []) this.deliver(pub);
    this.cursor.advance(result.position);
  }

  /** @internal */
  handleError(error: TidingsError): void {
    this.emit('error', error);
  }

  /** @internal A push for this channel. */
  handlePush(message: Push): void {
    switch (message.type) {
      case 'publication': {
        const { type: _, ...pub } = message;
        if (this.current === 'subscribed') this.deliver(pub);
        break;
      }
      case 'join':
      case 'leave':
        if (this.current === 'subscribed') this.emit(message.type, message.info);
        break;
      case 'unsubscribed':
        this.setUnsubscribed(message.code, message.reason);
        break;
    }
  }

  /** @internal */
  setUnsubscribed(code: number, reason: string): void {
    if (this.current === 'unsubscribed') return;
    this.current = 'unsubscribed';
    this.emit('unsubscribed', { code, reason });
  }

  private listen<K extends keyof SubscriptionEvents>(key: K, handlers: SubscriptionHandlers): void {
    const handler = handlers[key];
    if (handler) this.on(key, handler);
  }

  private deliver(pub: Publication): void {
    if (this.cursor.accept(pub)) this.emit('publication', pub);
  }
}
