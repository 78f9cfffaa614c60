import {
  CloseCode, ErrorCode, PROTOCOL_VERSION, UnsubscribeCode, decodeCursor, encodeCursor,
  type Command, type Cursor, type ProtocolError, type Publication, type ServerMessage, type StreamPosition, type SubscribeCommand,
} from '@tidings/protocol';
import { HttpTransport } from './http-transport.js';
import { httpBase, postCommands, readError, tokenClaims } from './http.js';
import { ABNORMAL_CLOSURE, type TransportFactory, type TransportHandlers } from './transport.js';

export interface PollOptions {
  /** Seconds the server holds a poll open when there is nothing to send; default 25 (0–60, 0 is short polling). */
  wait?: number;
}

type PollOutcome =
  | { type: 'answer'; messages: ServerMessage[]; cursor: Cursor }
  | { type: 'refused'; status: number; error: ProtocolError | undefined }
  | { type: 'failed' };

/** 128 random bits as 22 base64url characters: a poll's `lease`. */
function newLease(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The most channels one poll may carry (the server's default `--max-subscriptions` is 128). */
const MAX_POLL_CHANNELS = 100;
/** Seconds a poll may take beyond `wait` before it counts as lost. */
const POLL_GRACE = 10;

/**
 * Long polling, shaped like a WebSocket session. There is no server session: `connect` checks the
 * token with a `ping` through `/emulation`; `subscribe` is a short poll for that channel (its
 * answer is the subscribe reply, with the replay); one long poll carries every subscribed
 * channel's cursor; publish, history, presence and ping go through `/emulation` with the token.
 * A channel whose history could not fill a gap is reported as `unsubscribed` (resubscribe), so
 * the client resubscribes and learns `recovered: false` as on every other transport.
 */
class PollTransport extends HttpTransport {
  private token: string | undefined;
  private user = '';
  private readonly cursor: Cursor = new Map();
  /** Server-side subscriptions among the cursor's channels: the server adds and ends them, not the client. */
  private readonly server = new Set<string>();
  private subscribing: SubscribeCommand[] = [];
  private loop = 0;
  private loopAbort: AbortController | undefined;
  private readonly controller = new AbortController();
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** Sent with every poll, so the server counts this transport's polls as one client in presence. */
  private readonly lease = newLease();

  constructor(private readonly base: string, private readonly wait: number, handlers: TransportHandlers) {
    super(base, handlers);
    this.commands.resume();
  }

  protected auth(): { token: string | undefined } {
    return { token: this.token };
  }

  protected onReplies(replies: ServerMessage[]): void {
    for (const reply of replies) this.emit(reply);
  }

  protected stop(): void {
    clearTimeout(this.refreshTimer);
    this.controller.abort();
    this.loopAbort?.abort();
  }

  protected command(command: Command): void {
    switch (command.type) {
      case 'connect':
        return void this.checkToken(command.id, command.token, true).then(() => this.resumeServerSide(command.subs));
      case 'refresh':
        return void this.checkToken(command.id, command.token, false);
      case 'subscribe':
        this.subscribing.push(command);
        if (this.subscribing.length === 1) queueMicrotask(() => this.flushSubscribes());
        return;
      case 'unsubscribe':
        this.cursor.delete(command.channel);
        this.restartLoop();
        return this.emit({ type: 'reply', id: command.id, result: {} });
      default:
        this.commands.push(command);
    }
  }

  /** Answers `connect` or `refresh`: the server accepts the token if it answers a `ping` with it. */
  private async checkToken(id: number, token: string | undefined, connect: boolean): Promise<void> {
    const outcome = await postCommands(this.base, [{ id, type: 'ping' }], { token }, this.controller.signal);
    if (this.done) return;
    if (outcome.type === 'failed') return this.finish(ABNORMAL_CLOSURE, outcome.reason);
    const answer = outcome.type === 'refused' ? { type: 'error' as const, id, error: outcome.error } : outcome.replies[0];
    if (answer?.type === 'error') return this.emit({ ...answer, id });
    const { sub = '', exp } = tokenClaims(token);
    if (!connect && sub !== this.user) {
      return this.emit({ type: 'error', id, error: { code: ErrorCode.PermissionDenied, message: 'the new token is for another user' } });
    }
    this.token = token;
    this.user = sub;
    this.scheduleRefresh(exp);
    const expires = exp === undefined ? {} : { expires: exp };
    if (connect) this.emit({ type: 'reply', id, result: { client: '', user: sub, ...expires, version: PROTOCOL_VERSION } });
    else this.emit({ type: 'reply', id, result: expires });
  }

  /** Polls from the positions of the server-side subscriptions the client had (the server resumes the ones it still has). */
  private resumeServerSide(subs: Record<string, StreamPosition> | undefined): void {
    if (this.done || this.user === '' || subs === undefined) return;
    for (const [channel, at] of Object.entries(subs)) {
      this.cursor.set(channel, at);
      this.server.add(channel);
    }
    this.restartLoop();
  }

  /** The server cannot push `refresh_required` to a poller: the transport does, 30 s before `exp`. */
  private scheduleRefresh(exp: number | undefined): void {
    clearTimeout(this.refreshTimer);
    if (exp === undefined) return;
    const left = exp * 1000 - Date.now();
    this.refreshTimer = setTimeout(() => {
      this.emit({ type: 'refresh_required', expiresIn: Math.max(0, Math.round(exp - Date.now() / 1000)) });
    }, Math.max(0, left - Math.min(30_000, left / 2)));
  }

  private flushSubscribes(): void {
    const list = this.subscribing;
    this.subscribing = [];
    for (let i = 0; i < list.length; i += MAX_POLL_CHANNELS) void this.subscribe(list.slice(i, i + MAX_POLL_CHANNELS));
  }

  /** One short poll for the new channels answers their subscribes; a refused one is retried channel by channel. */
  private async subscribe(list: SubscribeCommand[]): Promise<void> {
    const query = new URLSearchParams({ wait: '0' });
    const since: Cursor = new Map();
    for (const c of list) {
      if (c.since) since.set(c.channel, c.since);
      else query.append('channel', c.channel);
    }
    if (since.size > 0) query.set('cursor', encodeCursor(since));
    const outcome = await this.poll(query, this.controller.signal);
    if (this.done) return;
    if (outcome.type === 'failed') return this.finish(ABNORMAL_CLOSURE, 'poll failed');
    if (outcome.type === 'refused') {
      const error = outcome.error;
      if (!error || outcome.status >= 500 || outcome.status === 401) return this.refused(outcome.status, error);
      if (list.length > 1) return void Promise.all(list.map((c) => this.subscribe([c])));
      return this.emit({ type: 'error', id: list[0]!.id, error });
    }
    for (const c of list) this.subscribed(c, outcome.messages.filter((m) => 'channel' in m && m.channel === c.channel), outcome.cursor);
    this.restartLoop();
  }

  private subscribed(command: SubscribeCommand, messages: ServerMessage[], cursor: Cursor): void {
    const reset = messages.find((m) => m.type === 'subscribed');
    const publications: Publication[] = [];
    for (const m of messages) {
      if (m.type !== 'publication') continue;
      const { type: _, ...pub } = m;
      publications.push(pub);
    }
    const at = cursor.get(command.channel);
    const position = reset?.type === 'subscribed' ? reset.position : at;
    if (!position || !at) return this.emit({ type: 'error', id: command.id, error: { code: ErrorCode.Internal, message: 'the poll answer lacks the channel' } });
    this.cursor.set(command.channel, at);
    this.emit({ type: 'reply', id: command.id, result: { position, recovered: command.since !== undefined && !reset, publications } });
  }

  private restartLoop(): void {
    this.loopAbort?.abort();
    this.loopAbort = undefined;
    const loop = ++this.loop;
    if (this.cursor.size > 0) queueMicrotask(() => void this.run(loop));
  }

  private async run(loop: number): Promise<void> {
    while (loop === this.loop && !this.done && this.cursor.size > 0) {
      const abort = new AbortController();
      this.loopAbort = abort;
      const timer = setTimeout(() => abort.abort(), (this.wait + POLL_GRACE) * 1000);
      const query = new URLSearchParams({ cursor: encodeCursor(this.cursor), wait: String(this.wait) });
      const outcome = await this.poll(query, abort.signal);
      clearTimeout(timer);
      if (loop !== this.loop || this.done) return;
      if (outcome.type === 'failed') return this.finish(ABNORMAL_CLOSURE, 'poll failed');
      if (outcome.type === 'refused') return this.refused(outcome.status, outcome.error);
      for (const m of outcome.messages) this.polled(m);
    }
  }

  private polled(m: ServerMessage): void {
    if ((m.type === 'subscribed' || m.type === 'unsubscribed') && m.server) return this.serverPush(m);
    if (m.type === 'subscribed') return this.jumped(m.channel);
    if (m.type !== 'publication') return;
    const at = this.cursor.get(m.channel);
    if (!at || (at.epoch === m.epoch && m.offset <= at.offset)) return;
    // a server-side subscription's gap is filled by the next poll's catch-up from the unchanged cursor
    if ((at.epoch !== m.epoch || m.offset !== at.offset + 1) && this.server.has(m.channel)) return;
    if (at.epoch !== m.epoch || m.offset !== at.offset + 1) return this.jumped(m.channel);
    this.cursor.set(m.channel, { offset: m.offset, epoch: m.epoch });
    this.emit(m);
  }

  /** A server-side subscription started (polled from its position from now on) or ended. */
  private serverPush(m: Extract<ServerMessage, { type: 'subscribed' | 'unsubscribed' }>): void {
    if (m.type === 'subscribed') {
      this.cursor.set(m.channel, m.position);
      this.server.add(m.channel);
    } else {
      this.cursor.delete(m.channel);
      this.server.delete(m.channel);
    }
    this.emit(m);
  }

  /** The channel's stream does not continue from its cursor: the client resubscribes and learns whether it recovered. */
  private jumped(channel: string): void {
    if (!this.cursor.delete(channel)) return;
    this.emit({ type: 'unsubscribed', channel, code: UnsubscribeCode.Resubscribe, reason: 'the channel\'s stream jumped: resubscribe to recover' });
  }

  private async poll(query: URLSearchParams, signal: AbortSignal): Promise<PollOutcome> {
    query.set('lease', this.lease);
    const headers: Record<string, string> = this.token === undefined ? {} : { authorization: `Bearer ${this.token}` };
    try {
      const res = await fetch(`${this.base}/poll?${query}`, { headers, signal });
      if (!res.ok) return { type: 'refused', status: res.status, error: await readError(res) };
      const body = (await res.json()) as { messages?: ServerMessage[]; cursor?: string };
      const cursor = decodeCursor(body.cursor ?? '');
      return Array.isArray(body.messages) && cursor ? { type: 'answer', messages: body.messages, cursor } : { type: 'failed' };
    } catch {
      return { type: 'failed' };
    }
  }

  /** A poll was refused: an expired or refused token ends the connection with the matching close code. */
  private refused(status: number, error: ProtocolError | undefined): void {
    if (error?.code === ErrorCode.TokenExpired) return this.finish(CloseCode.TokenExpired, error.message);
    if (error?.code === ErrorCode.Unauthorized) return this.finish(CloseCode.InvalidToken, error.message);
    this.finish(ABNORMAL_CLOSURE, `poll answered ${status}${error ? `: ${error.message}` : ''}`);
  }
}

/**
 * Long polling (`GET /poll`) with commands through `POST /emulation`; stateless on the server, so
 * any node can answer any request. `url` is the server's WebSocket URL or its base URL.
 */
export function pollTransport(url: string, options: PollOptions = {}): TransportFactory {
  const base = httpBase(url);
  const wait = options.wait ?? 25;
  return { name: 'poll', open: (handlers) => new PollTransport(base, wait, handlers) };
}
