import { CloseCode, ErrorCode, decodeFrame } from '@tidings/protocol';
import type { Written } from '../observability/metrics.js';
import type { Session } from '../session.js';
import { PartsCache, joinParts } from '../stomp/shared-writes.js';
import { QueuedWire, sinceStart, type StompWire, type WireHandler } from '../stomp/wire.js';
import type { Transport } from '../transports/transport.js';
import { quote } from './frames.js';
import type { SessionUser, SockjsSession } from './session.js';

/** A first message that opens a STOMP connection (`CONNECT` or `STOMP`, after optional heart-beat EOLs). */
const STOMP_FIRST = /^(?:\r?\n)*(?:CONNECT|STOMP)\r?\n/;

/** True when the first message of a session starts STOMP rather than the JSON protocol. */
export function isStompStart(first: string): boolean {
  return STOMP_FIRST.test(first);
}

/**
 * The last Buffer quoted, and its quoted text: a publication reaches every subscriber as the same
 * Buffer, so it is quoted once per tick, not once per subscriber.
 */
let lastMessage: Buffer | undefined;
let lastQuoted = '';

function quoteOnce(message: Buffer): string {
  if (message !== lastMessage) {
    lastQuoted = quote(message.toString('utf8'));
    lastMessage = message;
  }
  return lastQuoted;
}

/**
 * The JSON protocol over a SockJS session: one SockJS message per protocol message. The session
 * keeps what its receiver cannot take yet; `write` reports it over `maxQueueBytes` (queued plus
 * socket-buffered bytes).
 */
export class SockjsTransport implements Transport, SessionUser {
  readonly name = 'sockjs';
  readonly bidirectional = true;
  /** Set once the node created it. */
  session: Session | undefined = undefined;

  constructor(
    private readonly sockjs: SockjsSession,
    private readonly maxQueueBytes: number,
    private readonly maxMessageSize: number,
    /** Counts messages (the session counts frames and bytes). */
    private readonly written: Written,
  ) {}

  write(message: Buffer): boolean {
    this.written.messages++;
    this.sockjs.enqueue(quoteOnce(message));
    return this.sockjs.backlog <= this.maxQueueBytes;
  }

  discard(): void {
    this.sockjs.discard();
  }

  close(code: number, reason: string): void {
    this.sockjs.close(code, reason);
  }

  receive(message: string): void {
    const session = this.session;
    if (!session) return;
    if (Buffer.byteLength(message) > this.maxMessageSize) {
      return session.reject(undefined, { code: ErrorCode.MessageTooLarge, message: `a message over the ${this.maxMessageSize}-byte limit` });
    }
    for (const d of decodeFrame(message)) {
      if (d.ok) session.receive(d.command);
      else session.reject(d.id, d.error);
    }
  }

  gone(): void {
    this.session?.closed();
  }

  drain(): void {
    this.session?.disconnect(CloseCode.Shutdown, 'server shutting down');
  }
}

/** The last STOMP frames quoted for a SockJS session, and the parts they were queued as. */
const stompQuoted = new PartsCache<string>();

/**
 * STOMP over a SockJS session: the frames written in one tick leave as one SockJS message. SockJS
 * carries text only, so binary bodies are sent as UTF-8 text. Each tick's frames go to the
 * session at once; the session keeps them while its receiver is backed up (whole messages, so
 * `discard` drops whole frames), and counts the frames and bytes written.
 */
export class SockjsStompWire extends QueuedWire implements StompWire, SessionUser {
  readonly kind = 'sockjs';
  private handler: WireHandler | undefined = undefined;

  /** `written`: MESSAGE frames are counted in it by the STOMP session. */
  constructor(private readonly sockjs: SockjsSession, maxQueueBytes: number, written: Written) {
    super(maxQueueBytes, written);
  }

  attach(handler: WireHandler): void {
    this.handler = handler;
  }

  protected get buffered(): number {
    return this.sockjs.backlog;
  }

  /** Never: the session keeps the overflow. */
  protected get backedUp(): boolean {
    return false;
  }

  /** Hands what this tick queued to the session as one message (counted there, not here). */
  override flush(): void {
    if (this.ended || this.count === 0) return;
    const { queued } = this;
    const parts = this.take();
    this.lastWrite = sinceStart();
    this.send(parts, parts.length, queued);
  }

  override discard(): void {
    super.discard();
    this.sockjs.discard();
  }

  /** Quoted once for consecutive sessions that queued the same parts (the same prefix and publications). */
  protected send(parts: readonly Buffer[], count: number, bytes: number): void {
    let quoted = stompQuoted.get(parts, count, 0);
    if (quoted === undefined) {
      quoted = quote((count === 1 ? parts[0]! : joinParts(parts, count, bytes, undefined)).toString('utf8'));
      stompQuoted.remember(parts, count, 0, quoted);
    }
    this.sockjs.enqueue(quoted);
  }

  receive(message: string): void {
    this.handler?.receive(Buffer.from(message, 'utf8'));
  }

  gone(): void {
    this.ended = true;
    const handler = this.handler;
    this.handler = undefined;
    handler?.closed();
  }

  /** The broker drains STOMP connections itself. */
  drain(): void {}

  close(code: number, reason: string): void {
    if (this.ended) return;
    this.flush();
    this.sockjs.close(code, reason);
  }

  terminate(): void {
    this.sockjs.close(1000, 'terminated');
  }

  pause(): void {}

  resume(): void {}
}
