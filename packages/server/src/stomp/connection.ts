import { randomUUID } from 'node:crypto';
import { CloseCode, ErrorCode, isApplicationCode, shouldReconnect, type ClientInfo } from '@tidings/protocol';
import { TidingsError } from '../errors.js';
import {
  StompParser, header, negotiateHeartbeat, negotiateVersion, parseHeartbeat, serializeFrame,
  type HeartbeatTiming, type StompFrame, type StompParseError, type StompVersion,
} from '@tidings/stomp';
import type { Credentials } from '../auth/jwt.js';
import type { Principal } from '../channels.js';
import { reasonOf } from '../observability/refusals.js';
import { allowedHeaders, type ConnectRequest } from '../proxy/request.js';
import type { ProxyClient } from '../proxy/proxies.js';
import type { Timed } from '../timer.js';
import { CLOSE_TIMEOUT_MS } from '../websocket/close-sweep.js';
import { MESSAGE_TOO_BIG } from '../websocket/connection.js';
import { StompError, fromParseError, toStompError } from './errors.js';
import type { StompHost } from './host.js';
import { StompSession, type SessionIO } from './session.js';
import { fromStart, sinceStart, transportOf, type StompWire, type WireHandler } from './wire.js';

/** The shortest heart-beat interval the server agrees to, either way (ms). */
export const MIN_HEARTBEAT = 1000;
/** Silence tolerated from a client, as a multiple of the negotiated interval. */
export const HEARTBEAT_GRACE = 2;
/** Frames read ahead of processing before reading pauses. */
const MAX_INBOX = 256;
export const SERVER_NAME = 'tidings/0.1.0';

type State = 'connecting' | 'connected' | 'closing' | 'closed';

type InboxItem =
  | { kind: 'frame'; frame: StompFrame }
  | { kind: 'parse-error'; error: StompParseError };

const EOL = Buffer.from('\n');
/** Until heart-beats are negotiated (and whenever both sides want none): shared, never modified. */
const NO_HEARTBEAT: HeartbeatTiming = Object.freeze({ sendEvery: 0, expectEvery: 0 });
const NO_INBOX: InboxItem[] = [];

/** What the connection tells the broker. */
export interface ConnectionRegistry {
  connected(conn: StompConnection): void;
  /** Called once, when the connection starts closing or its socket goes, whichever is first. */
  detached(conn: StompConnection): void;
  /** The socket is gone. */
  gone(conn: StompConnection): void;
}

/**
 * One STOMP client over a wire (WebSocket or TCP): parses frames, runs them one at a time in
 * arrival order, negotiates version and heart-beats, authenticates, and ends with ERROR + close
 * on any protocol error. Heart-beats, the connect timeout and token expiry run on the node's
 * shared timer wheel.
 */
export class StompConnection implements WireHandler, SessionIO, Timed {
  readonly id = randomUUID();
  version: StompVersion = '1.0';
  user = '';
  private state: State = 'connecting';
  private credentials: Credentials | undefined;
  /** Only while a frame is partly read (or the input failed): an idle connection holds no parser. */
  private parser: StompParser | undefined = undefined;
  /** The version frames are read as (set when CONNECT arrives). */
  private readVersion: StompVersion = '1.0';
  private readonly session: StompSession;
  /** Frames read and not yet handled; NO_INBOX (shared, always empty) while there are none. */
  private inbox = NO_INBOX;
  private busy = false;
  private paused = false;
  private detached = false;
  private heartbeat = NO_HEARTBEAT;
  /** When input last came, in `sinceStart` ms (a small integer, not a boxed number). */
  private lastRead = sinceStart();
  /** The timer wheel's handle; while connecting, of the connect deadline; while closing, of the close deadline. */
  private timerHandle = -1;
  /** While the refresh proxy is being asked for a new expiry. */
  private refreshing = false;

  constructor(
    private readonly host: StompHost,
    private readonly registry: ConnectionRegistry,
    readonly wire: StompWire,
    /** Verified credentials from the WebSocket handshake, if any. */
    private readonly handshake: Credentials | undefined,
    /** Versions this connection may negotiate (a WebSocket subprotocol caps it). */
    private readonly versions: readonly StompVersion[],
    /** What the connect proxy is told (the opening HTTP request's); over TCP, made from CONNECT's headers. */
    /** Dropped once CONNECTED: an idle connection keeps no copy of its opening request. */
    private request?: ConnectRequest,
  ) {
    this.session = new StompSession(host, this);
    this.timerHandle = host.timers.schedule(this, Date.now() + host.options.connectTimeout * 1000);
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  get info(): ClientInfo {
    return { client: this.id, user: this.user };
  }

  get principal(): Principal {
    return { user: this.user, channels: this.credentials?.channels };
  }

  /** The token's server-side subscriptions (`Credentials.subs`). */
  get subs(): readonly string[] | undefined {
    return this.credentials?.subs;
  }

  /** Who proxy calls are for. */
  get proxyClient(): ProxyClient {
    return { client: this.id, user: this.user, transport: transportOf(this.wire.kind), protocol: 'stomp' };
  }

  /** True when a subscription of this connection holds `channel`. */
  holds(channel: string): boolean {
    return this.session.holds(channel);
  }

  refreshPresence(): void {
    if (this.connected) this.session.refreshPresence();
  }

  /** Adds a server-side subscription (`POST /api/subscribe`) when the client SUBSCRIBEd to `/user/subscriptions`. */
  serverSubscribe(channel: string): Promise<void> {
    return this.connected ? this.session.serverSubscribe(channel) : Promise.resolve();
  }

  /** Drops a server-side subscription; true when there was one. */
  serverUnsubscribe(channel: string): boolean {
    return this.session.serverUnsubscribe(channel);
  }

  // ---- input ----

  receive(chunk: Buffer): void {
    this.lastRead = sinceStart();
    if (this.state === 'closing' || this.state === 'closed' || this.parser?.error) return;
    const parser = (this.parser ??= new StompParser({
      side: 'server',
      version: this.readVersion,
      limits: { maxFrameSize: this.host.options.limits.maxMessageSize },
      onFrame: (frame) => this.onFrame(frame),
    }));
    const error = parser.push(chunk);
    if (parser.atFrameBoundary) this.parser = undefined;
    if (error) {
      this.push({ kind: 'parse-error', error });
    } else if (this.inbox.length > MAX_INBOX && !this.paused) {
      this.paused = true;
      this.wire.pause();
    }
    if (!this.busy && this.inbox.length > 0) void this.drain();
  }

  private onFrame(frame: StompFrame): void {
    if ((frame.command === 'CONNECT' || frame.command === 'STOMP') && this.state === 'connecting') {
      const version = negotiateVersion(header(frame, 'accept-version'), this.versions);
      if (version) {
        this.readVersion = version;
        if (this.parser) this.parser.version = version;
      }
    }
    this.push({ kind: 'frame', frame });
  }

  private push(item: InboxItem): void {
    if (this.inbox === NO_INBOX) this.inbox = [];
    this.inbox.push(item);
  }

  private async drain(): Promise<void> {
    this.busy = true;
    for (let item = this.inbox.shift(); item && this.state !== 'closing' && this.state !== 'closed'; item = this.inbox.shift()) {
      if (this.paused && this.inbox.length < MAX_INBOX / 2) {
        this.paused = false;
        this.wire.resume();
      }
      try {
        if (item.kind === 'parse-error') throw fromParseError(item.error);
        const pending = this.handle(item.frame);
        if (pending) await pending;
      } catch (err) {
        const receiptId = item.kind === 'frame' ? header(item.frame, 'receipt') : undefined;
        this.fail(toStompError(err, (e) => this.host.log.error('stomp frame failed', { err: e instanceof Error ? e.stack ?? e.message : String(e) })), receiptId);
      }
    }
    this.busy = false;
    if (this.inbox.length === 0) this.inbox = NO_INBOX;
  }

  private handle(frame: StompFrame): Promise<void> | void {
    if (frame.command === 'CONNECT' || frame.command === 'STOMP') return this.connect(frame);
    if (this.state !== 'connected') throw new StompError('send CONNECT first', ErrorCode.NotConnected, undefined, `got ${frame.command} before CONNECT`);
    if (frame.command === 'DISCONNECT') {
      this.receipt(frame);
      return this.close(1000, 'disconnect');
    }
    return this.session.handle(frame);
  }

  private async connect(frame: StompFrame): Promise<void> {
    if (this.state !== 'connecting') throw new StompError('already connected', ErrorCode.AlreadyConnected);
    const version = negotiateVersion(header(frame, 'accept-version'), this.versions);
    if (!version) {
      throw new StompError('unsupported protocol version', ErrorCode.BadRequest, undefined,
        `this server speaks STOMP ${this.versions.join(', ')}`, [['version', this.versions.join(',')]]);
    }
    this.version = version;
    const theirs = parseHeartbeat(header(frame, 'heart-beat'));
    if (!theirs) throw new StompError('malformed heart-beat header', ErrorCode.BadRequest, undefined, 'heart-beat is "<cx>,<cy>" in ms');
    const token = connectToken(frame);
    let creds = token !== undefined ? await this.host.verify(token) : this.handshake;
    const request = this.request ?? {
      transport: transportOf(this.wire.kind), protocol: 'stomp', remoteAddr: this.wire.remoteAddress ?? '',
      headers: allowedHeaders(frame.headers, this.host.proxies.connectHeaders),
    };
    creds = await this.host.proxies.authenticate(creds, request, this.id, undefined);
    if (this.state !== 'connecting') return;
    this.request = undefined;
    this.credentials = creds;
    this.user = creds?.user ?? '';
    const ours = [theirs[1] === 0 ? 0 : Math.max(theirs[1], MIN_HEARTBEAT), theirs[0] === 0 ? 0 : Math.max(theirs[0], MIN_HEARTBEAT)] as const;
    const heartbeat = negotiateHeartbeat(ours, theirs);
    if (heartbeat.sendEvery !== 0 || heartbeat.expectEvery !== 0) this.heartbeat = heartbeat;
    this.state = 'connected';
    this.registry.connected(this);
    const headers: Array<[string, string]> = [['version', version], ['heart-beat', `${ours[0]},${ours[1]}`], ['session', this.id], ['server', SERVER_NAME]];
    if (this.user !== '') headers.push(['user-name', this.user]);
    this.send({ command: 'CONNECTED', headers });
    this.reschedule();
  }

  // ---- output ----

  private send(frame: { command: 'CONNECTED' | 'RECEIPT' | 'ERROR'; headers: ReadonlyArray<readonly [string, string]>; body?: string }): void {
    const bytes = serializeFrame(frame, this.version);
    this.wire.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), false);
  }

  receipt(frame: StompFrame, extra: ReadonlyArray<readonly [string, string]> = []): void {
    const id = header(frame, 'receipt');
    if (id === undefined || this.state === 'closed') return;
    this.send({ command: 'RECEIPT', headers: [['receipt-id', id], ...extra] });
  }

  /** Sends ERROR (with `message`, `x-code`, `x-close-code`, `x-reconnect`), then closes. Safe to call more than once. */
  fail(err: StompError, receiptId?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.host.log.debug('stomp error', { client: this.id, message: err.message, code: err.code });
    this.refused(err);
    if (this.state !== 'connecting') this.host.disconnects.closing({ transport: `stomp-${this.wire.kind}`, client: this.id, user: this.user, code: err.close, reason: err.message });
    if (err.close === CloseCode.Slow) this.wire.discard();
    const headers: Array<readonly [string, string]> = [
      ['message', this.state === 'connecting' ? anyVersion(err.message) : oneLine(err.message)], ['content-type', 'text/plain'],
      ['x-code', String(err.code)], ['x-close-code', String(err.close)], ['x-reconnect', String(shouldReconnect(err.close))],
      ...err.headers,
    ];
    if (receiptId !== undefined) headers.push(['receipt-id', receiptId]);
    this.send({ command: 'ERROR', headers, body: err.detail === '' ? err.message : `${err.message}\n${err.detail}` });
    this.close(err.close, err.message);
  }

  protocolError(code: number, message: string): void {
    this.host.refusals.refused(code === MESSAGE_TOO_BIG ? 'limit' : 'bad_request', { transport: `stomp-${this.wire.kind}`, code, message, remote: this.wire.remoteAddress });
  }

  /** Logs a connection refused before it was CONNECTED, or a frame refused after (auth or limit; not the server's own disconnects). */
  private refused(err: StompError): void {
    const reason = err.close === CloseCode.ConnectTimeout ? 'bad_request' : reasonOf(err.code);
    if (reason === undefined) return;
    if (this.state !== 'connecting' && (err.close === CloseCode.Slow || err.close === CloseCode.ForceDisconnect || (reason !== 'auth' && reason !== 'limit'))) return;
    this.host.refusals.refused(reason, { transport: `stomp-${this.wire.kind}`, code: err.code, message: err.message, remote: this.wire.remoteAddress });
  }

  /** Flushes and closes; subscriptions end now (unacked queue messages go back to their queues). */
  close(code: number, reason: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.host.metrics.disconnect(code, transportOf(this.wire.kind));
    this.detach();
    this.inbox = NO_INBOX;
    if (this.paused) {
      this.paused = false;
      this.wire.resume();
    }
    this.wire.close(code, oneLine(reason));
    this.host.timers.cancel(this, this.timerHandle);
    this.timerHandle = this.host.timers.schedule(this, Date.now() + CLOSE_TIMEOUT_MS);
  }

  /** The wire is gone. Idempotent. */
  closed(): void {
    if (this.state === 'closed') return;
    this.detach();
    this.state = 'closed';
    this.inbox = NO_INBOX;
    this.host.timers.cancel(this, this.timerHandle);
    this.timerHandle = -1;
    this.registry.gone(this);
  }

  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.session.close();
    this.registry.detached(this);
  }

  // ---- timers ----

  onTimer(now: number): void {
    this.timerHandle = -1;
    // while connecting or closing, the only timer is the deadline's (the wheel never calls early)
    if (this.state === 'connecting') {
      return this.fail(new StompError('no CONNECT frame in time', ErrorCode.BadRequest, CloseCode.ConnectTimeout));
    }
    if (this.state === 'closing') {
      this.wire.terminate();
      return;
    }
    if (this.state === 'connected') {
      const expires = this.credentials?.expires;
      if (expires !== undefined && now >= expires * 1000 && this.host.proxies.refreshes(this.credentials)) {
        void this.refresh();
      } else if (expires !== undefined && now >= expires * 1000) {
        return this.fail(new StompError('token expired', ErrorCode.TokenExpired, CloseCode.TokenExpired, 'reconnect with a fresh token'));
      }
      const { expectEvery, sendEvery } = this.heartbeat;
      const silent = sinceStart(now) - this.lastRead;
      if (expectEvery > 0 && silent > expectEvery * HEARTBEAT_GRACE) {
        return this.fail(new StompError('heart-beat timeout', ErrorCode.BadRequest, CloseCode.NoPong,
          `nothing received for ${silent} ms; the negotiated interval is ${expectEvery} ms`));
      }
      if (sendEvery > 0 && sinceStart(now) >= this.sendDue()) this.wire.write(EOL, false);
    }
    this.reschedule();
  }

  /** Proxied credentials expired: the refresh proxy renews them, or the connection ends (3005, or the backend's code). */
  private async refresh(): Promise<void> {
    const creds = this.credentials;
    if (this.refreshing || !creds) return;
    this.refreshing = true;
    try {
      const next = await this.host.proxies.refresh(this.proxyClient, creds);
      if (this.state === 'connected' && this.credentials === creds) this.credentials = next;
    } catch (err) {
      const code = err instanceof TidingsError && isApplicationCode(err.code) ? err.code : CloseCode.TokenExpired;
      this.fail(new StompError('session expired', ErrorCode.TokenExpired, code, err instanceof Error ? err.message : ''));
    } finally {
      this.refreshing = false;
      if (this.state === 'connected') this.reschedule();
    }
  }

  /** When the next heart-beat is due, in `sinceStart` ms. */
  private sendDue(): number {
    const { sendEvery } = this.heartbeat;
    return this.wire.lastWrite + sendEvery - Math.min(250, sendEvery / 2);
  }

  /** Once connected: the timer for the next heart-beat (either way) or the token's expiry, or none. */
  private reschedule(): void {
    if (this.state !== 'connected') return;
    const { expectEvery, sendEvery } = this.heartbeat;
    let due = Number.POSITIVE_INFINITY;
    if (this.credentials?.expires !== undefined && !this.refreshing) due = this.credentials.expires * 1000;
    if (expectEvery > 0) due = Math.min(due, fromStart(this.lastRead + expectEvery * HEARTBEAT_GRACE + 1));
    if (sendEvery > 0) due = Math.min(due, fromStart(this.sendDue()));
    if (this.timerHandle !== -1) this.host.timers.cancel(this, this.timerHandle);
    this.timerHandle = Number.isFinite(due) ? this.host.timers.schedule(this, Math.max(due, Date.now() + 1)) : -1;
  }
}

/** The JWT in CONNECT: `passcode`, or `Authorization: Bearer …`. */
function connectToken(frame: StompFrame): string | undefined {
  const passcode = header(frame, 'passcode');
  if (passcode !== undefined && passcode !== '') return passcode;
  const auth = header(frame, 'Authorization') ?? header(frame, 'authorization');
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return undefined;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** A header value that reads the same whether the client unescapes it or not (before the version is agreed). */
function anyVersion(text: string): string {
  return oneLine(text).replace(/\\/g, '%5C');
}
