import { decodeFrame } from '@tidings/protocol';
import type { Session } from '../session.js';
import type { WebSocketConnection, WebSocketUser } from '../websocket/connection.js';
import { headerLength, writeFrameHeader } from '../websocket/frames.js';
import { Opcode } from '../websocket/receiver.js';
import { scheduleFlush, type Flushable, type Transport } from './transport.js';

const NEWLINE = 0x0a;

/**
 * The last frame built, and the messages it holds. A publication reaches every subscriber of a
 * channel in the same order within a tick, so consecutive flushes usually carry exactly the same
 * messages (the same Buffer objects): the frame is then built once and its bytes written to every
 * socket. Comparing by identity costs one pointer comparison per message.
 */
let lastFirst: Buffer | undefined;
let lastRest: Buffer[] | undefined;
let lastFrame: Buffer | undefined;

function sameAsLast(first: Buffer, rest: Buffer[] | undefined): boolean {
  if (first !== lastFirst) return false;
  if (rest === undefined || lastRest === undefined) return rest === lastRest;
  if (rest.length !== lastRest.length) return false;
  for (let i = 0; i < rest.length; i++) if (rest[i] !== lastRest[i]) return false;
  return true;
}

/** One unmasked, final text frame (RFC 6455 §5.2) holding `first` and `rest`, separated by `\n`. */
export function textFrame(first: Buffer, rest?: Buffer[]): Buffer {
  if (lastFrame !== undefined && sameAsLast(first, rest)) return lastFrame;
  let length = first.length;
  if (rest !== undefined) for (let i = 0; i < rest.length; i++) length += 1 + rest[i]!.length;
  const header = headerLength(length);
  const frame = Buffer.allocUnsafe(header + length);
  writeFrameHeader(frame, Opcode.Text, length);
  let at = header + first.copy(frame, header);
  if (rest !== undefined) {
    for (let i = 0; i < rest.length; i++) {
      frame[at++] = NEWLINE;
      at += rest[i]!.copy(frame, at);
    }
  }
  lastFirst = first;
  lastRest = rest;
  lastFrame = frame;
  return frame;
}

/** What a JSON-protocol WebSocket transport tells its endpoint. */
export interface WebSocketTransportOwner {
  /** The connection closed. */
  remove(transport: WebSocketTransport): void;
  /** The peer broke the WebSocket protocol or sent too much (close `code`). */
  protocolError(transport: WebSocketTransport, code: number, message: string): void;
}

/**
 * Our JSON protocol over a WebSocket connection: one text frame per tick, messages separated by
 * `\n`. The same frame bytes go to every subscriber that was sent the same messages in a tick.
 * Also the connection's reader: decodes incoming messages for the session.
 */
export class WebSocketTransport implements Transport, Flushable, WebSocketUser {
  /** Set false by each ping, true by each pong or message; see the endpoint's heartbeat sweep. */
  alive = true;
  /** Set once the node created it; messages before that are ignored. */
  session: Session | undefined = undefined;
  /** What this tick queued: the first message, and any further ones (no array for the usual single one). */
  private first: Buffer | undefined = undefined;
  private rest: Buffer[] | undefined = undefined;
  private queuedBytes = 0;
  private closed = false;

  constructor(
    readonly connection: WebSocketConnection,
    private readonly owner: WebSocketTransportOwner,
    private readonly maxQueueBytes: number,
  ) {}

  get name(): string {
    return 'websocket';
  }

  get bidirectional(): boolean {
    return true;
  }

  write(message: Buffer): boolean {
    if (this.closed) return true;
    if (this.first === undefined) {
      this.first = message;
      scheduleFlush(this);
    } else if (this.rest === undefined) {
      this.rest = [message];
    } else {
      this.rest.push(message);
    }
    this.queuedBytes += message.length + 1;
    return this.queuedBytes + this.connection.bufferedAmount <= this.maxQueueBytes;
  }

  flush(): void {
    const { first, rest } = this;
    if (first === undefined) return;
    this.first = undefined;
    this.rest = undefined;
    this.queuedBytes = 0;
    this.connection.send(textFrame(first, rest));
  }

  /** Flushes and closes; a queue over its limit is dropped instead, as the client cannot take it. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    if (this.queuedBytes + this.connection.bufferedAmount > this.maxQueueBytes) {
      this.first = undefined;
      this.rest = undefined;
      this.queuedBytes = 0;
    }
    this.flush();
    this.closed = true;
    this.connection.close(code, reason);
  }

  // ---- WebSocketUser ----

  onMessage(data: Buffer): void {
    const session = this.session;
    if (!session) return;
    this.alive = true;
    for (const d of decodeFrame(data.toString('utf8'))) {
      if (d.ok) session.receive(d.command);
      else session.reject(d.id, d.error);
    }
  }

  onPong(): void {
    this.alive = true;
  }

  onClosed(): void {
    this.owner.remove(this);
  }

  onProtocolError(code: number, message: string): void {
    this.owner.protocolError(this, code, message);
  }
}
