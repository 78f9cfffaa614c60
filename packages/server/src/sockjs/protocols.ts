import { CloseCode, ErrorCode, decodeFrame } from '@tidings/protocol';
import type { Session } from '../session.js';
import { QueuedWire, type StompWire, type WireHandler } from '../stomp/wire.js';
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

/** The JSON protocol over a SockJS session: one SockJS message per protocol message. */
export class SockjsTransport implements Transport, SessionUser {
  readonly name = 'sockjs';
  readonly bidirectional = true;
  /** Set once the node created it. */
  session: Session | undefined = undefined;

  constructor(private readonly sockjs: SockjsSession, private readonly maxQueueBytes: number, private readonly maxMessageSize: number) {}

  write(message: Buffer): boolean {
    this.sockjs.enqueue(quoteOnce(message));
    return this.sockjs.backlog <= this.maxQueueBytes;
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

/**
 * STOMP over a SockJS session: the frames written in one tick leave as one SockJS message. SockJS
 * carries text only, so binary bodies are sent as UTF-8 text.
 */
export class SockjsStompWire extends QueuedWire implements StompWire, SessionUser {
  readonly kind = 'sockjs';
  private handler: WireHandler | undefined = undefined;

  constructor(private readonly sockjs: SockjsSession, maxQueueBytes: number) {
    super(maxQueueBytes);
  }

  attach(handler: WireHandler): void {
    this.handler = handler;
  }

  protected get buffered(): number {
    return this.sockjs.backlog;
  }

  protected send(data: Buffer): void {
    this.sockjs.enqueue(quote(data.toString('utf8')));
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
