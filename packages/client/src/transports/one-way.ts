import type {
  Command, ProtocolError, Publication, PublicationMessage, ServerMessage, StreamPosition, SubscribeResult, SubscribedMessage,
} from '@tidings/protocol';
import { encodeCursor } from '@tidings/protocol';
import type { EmulationAuth } from './http.js';
import { HttpTransport } from './http-transport.js';
import { ABNORMAL_CLOSURE, type TransportHandlers } from './transport.js';

/** What a server-to-client stream (NDJSON over fetch, EventSource) reports. */
export interface DownstreamHandlers {
  /** One protocol message and its JSON text. */
  onMessage(message: ServerMessage, text: string): void;
  /** The server answered with an HTTP error before the stream started. */
  onRefused(status: number, error: ProtocolError | undefined): void;
  /** The stream ended or broke. */
  onEnd(reason: string): void;
  /** A keepalive (or any bytes) arrived. */
  onActivity(): void;
}

export interface Downstream {
  close(): void;
}

/**
 * Opens `GET /stream` or `GET /sse` (no channels) as the connect; `cursor` (a `cursor=` value, maybe
 * empty) resumes the server-side subscriptions the client had.
 */
export type OpenDownstream = (token: string | undefined, cursor: string, handlers: DownstreamHandlers) => Downstream;

/** At most this is added to twice the server's keepalive interval before a silent stream counts as dead. */
const SILENCE_MARGIN_MS = 5000;

interface PendingSubscribe {
  id: number;
  since: StreamPosition | undefined;
  /** Set by the `subscribed` push while its replayed publications are still arriving. */
  replay?: SubscribeResult & { publications: Publication[] };
}

/**
 * A one-way session (SSE, HTTP streaming) that speaks to the `Session` like a WebSocket does:
 * `connect` opens the stream and is answered by its `connected` message; other commands go
 * through `POST /emulation`. A `subscribe` is answered by the stream's `subscribed` message
 * with the replayed publications that follow it, so replies and pushes keep the WebSocket order.
 */
export class OneWayTransport extends HttpTransport {
  private downstream: Downstream | undefined;
  private client: string | undefined;
  /** The session's proof of ownership for `/emulation`; kept here, never handed to the app. */
  private secret: string | undefined;
  private connectId: number | undefined;
  private readonly subscribes = new Map<string, PendingSubscribe>();
  /** Subscribe commands whose `/emulation` reply has not come back: id → channel. */
  private readonly subscribeIds = new Map<number, string>();
  private lastSeen = 0;
  /** Checks for a silent (half-open) stream once `connected` has told the keepalive interval. */
  private watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(base: string, private readonly open: OpenDownstream, handlers: TransportHandlers) {
    super(base, handlers);
  }

  protected auth(): EmulationAuth {
    return { client: this.client, secret: this.secret };
  }

  protected stop(): void {
    clearInterval(this.watchdog);
    this.downstream?.close();
  }

  protected command(command: Command): void {
    if (command.type === 'connect') {
      this.connectId = command.id;
      this.downstream = this.open(command.token, encodeCursor(new Map(Object.entries(command.subs ?? {}))), {
        onMessage: (message, text) => this.onMessage(message, text),
        onRefused: (status, error) => this.onRefused(status, error),
        onEnd: (reason) => this.finish(ABNORMAL_CLOSURE, reason),
        onActivity: () => {
          this.lastSeen = Date.now();
        },
      });
      return;
    }
    if (command.type === 'subscribe') {
      this.subscribes.set(command.channel, { id: command.id, since: command.since });
      this.subscribeIds.set(command.id, command.channel);
    }
    this.commands.push(command);
  }

  private onMessage(message: ServerMessage, text: string): void {
    if (this.done) return;
    this.lastSeen = Date.now();
    switch (message.type) {
      case 'connected': {
        const { type: _, secret, ...result } = message;
        this.client = result.client;
        this.secret = secret;
        if (result.ping !== undefined && result.ping > 0) this.watch(result.ping * 1000);
        if (this.connectId !== undefined) this.emit({ type: 'reply', id: this.connectId, result });
        this.commands.resume();
        return;
      }
      case 'subscribed':
        if (message.server) break;
        return this.onSubscribed(message);
      case 'publication':
        if (this.collect(message)) return;
        break;
    }
    this.handlers.onFrame(text);
  }

  private watch(keepaliveMs: number): void {
    const limit = 2 * keepaliveMs + Math.min(keepaliveMs, SILENCE_MARGIN_MS);
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastSeen > limit) this.finish(ABNORMAL_CLOSURE, `no keepalive for ${limit} ms`);
    }, Math.min(keepaliveMs, 5000));
  }

  private onSubscribed({ channel, position, recovered }: SubscribedMessage): void {
    const pending = this.subscribes.get(channel);
    if (!pending) return;
    const since = pending.since;
    if (recovered && since && position.offset > since.offset) {
      pending.replay = { position, recovered, publications: [] };
      return;
    }
    this.subscribes.delete(channel);
    this.emit({ type: 'reply', id: pending.id, result: { position, recovered, publications: [] } });
  }

  /** Keeps a replayed publication for the subscribe reply; false for a live one. */
  private collect(message: PublicationMessage): boolean {
    const pending = this.subscribes.get(message.channel);
    const replay = pending?.replay;
    if (!pending || !replay) return false;
    const { type: _, ...pub } = message;
    replay.publications.push(pub);
    if (pub.offset >= replay.position.offset) {
      this.subscribes.delete(message.channel);
      this.emit({ type: 'reply', id: pending.id, result: replay });
    }
    return true;
  }

  protected onReplies(replies: ServerMessage[]): void {
    for (const reply of replies) {
      if (this.done) return;
      if (reply.type !== 'reply' && reply.type !== 'error') continue;
      const channel = this.subscribeIds.get(reply.id);
      if (channel === undefined) {
        this.emit(reply);
        continue;
      }
      this.subscribeIds.delete(reply.id);
      if (reply.type === 'error' && this.subscribes.get(channel)?.id === reply.id) {
        this.subscribes.delete(channel);
        this.emit(reply);
      }
    }
  }

  private onRefused(status: number, error: ProtocolError | undefined): void {
    if (this.done) return;
    if (error && status < 500 && this.client === undefined && this.connectId !== undefined) {
      this.emit({ type: 'error', id: this.connectId, error });
      return;
    }
    this.finish(ABNORMAL_CLOSURE, `${status}${error ? ` ${error.message}` : ''}`);
  }
}
