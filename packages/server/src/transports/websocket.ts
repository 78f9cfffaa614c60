import { decodeFrame } from '@tidings/protocol';
import type { ConnectRequest } from '../proxy/request.js';
import type { Credentials } from '../auth/jwt.js';
import type { Written } from '../observability/metrics.js';
import type { Session } from '../session.js';
import type { WebSocketConnection, WebSocketUser } from '../websocket/connection.js';
import { headerLength, writeFrameHeader } from '../websocket/frames.js';
import { Opcode } from '../websocket/receiver.js';
import { scheduleFlush, type Flushable, type Transport } from './transport.js';

const NEWLINE = 0x0a;
/**
 * Bytes of messages per frame written after the socket drained: the socket then holds at most its
 * highWaterMark plus one such frame, and the rest stays here, where whole messages can be dropped.
 */
export const DRAIN_FRAME_BYTES = 16 * 1024;

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
  /** The first message is a STOMP CONNECT or STOMP frame (see `isStompConnect`): STOMP takes the connection from here. */
  handOverToStomp(transport: WebSocketTransport, first: Buffer): void;
}

const CONNECT = Buffer.from('CONNECT');
const STOMP = Buffer.from('STOMP');

/** True when `data` starts with a STOMP `CONNECT` or `STOMP` command line (ended by LF or CRLF). */
export function isStompConnect(data: Buffer): boolean {
  const command = data[0] === 0x43 ? CONNECT : data[0] === 0x53 ? STOMP : undefined;
  if (command === undefined || data.length <= command.length || !command.equals(data.subarray(0, command.length))) return false;
  const next = data[command.length];
  return next === NEWLINE || (next === 0x0d && data[command.length + 1] === NEWLINE);
}

/**
 * Our JSON protocol over a WebSocket connection: one text frame per tick, messages separated by
 * `\n`. The same frame bytes go to every subscriber that was sent the same messages in a tick.
 * While the socket is backed up, messages wait here (in user space, as whole messages) and leave
 * in frames of at most DRAIN_FRAME_BYTES as it drains; `write` reports the connection over
 * `maxQueueBytes` counting both these and the socket's buffer. Also the connection's reader: decodes incoming messages for the session.
 */
export class WebSocketTransport implements Transport, Flushable, WebSocketUser {
  /** Set false by each ping, true by each pong or message; see the endpoint's heartbeat sweep. */
  alive = true;
  /** Set once the node created it; messages before that are ignored. */
  session: Session | undefined = undefined;
  /**
   * Until the first message: whether that message may hand the connection to STOMP (no
   * subprotocol was offered and the session was not opened by the handshake). Checked once.
   */
  stompCandidate = false;
  /** What waits: the first message, and any further ones (no array for the usual single one). */
  private first: Buffer | undefined = undefined;
  private rest: Buffer[] | undefined = undefined;
  private queuedBytes = 0;
  private closed = false;

  constructor(
    readonly connection: WebSocketConnection,
    private readonly owner: WebSocketTransportOwner,
    private readonly maxQueueBytes: number,
    private readonly written: Written,
    /** Verified credentials of the handshake, if any (kept for a hand-over to STOMP). */
    readonly handshake: Credentials | undefined = undefined,
    /** What the connect proxy is told (kept for a hand-over to STOMP). */
    readonly request: ConnectRequest | undefined = undefined,
  ) {}

  get name(): string {
    return 'websocket';
  }

  get bidirectional(): boolean {
    return true;
  }

  write(message: Buffer): boolean {
    if (this.closed) return true;
    this.written.messages++;
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

  /** Sends what waits as one frame, unless the socket is backed up (then `onDrain` does). */
  flush(): void {
    if (!this.connection.backedUp) this.send(Infinity);
  }

  discard(): void {
    this.first = undefined;
    this.rest = undefined;
    this.queuedBytes = 0;
  }

  /** Sends what waits (backed up or not: it is bounded), then the close frame. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.send(Infinity);
    this.closed = true;
    this.connection.close(code, reason);
  }

  /** Sends the first waiting messages, at most `limit` bytes of them (at least one), as one frame. */
  private send(limit: number): void {
    const { first, rest } = this;
    if (first === undefined) return;
    if (rest === undefined || this.queuedBytes <= limit) {
      this.discard();
      this.sendFrame(textFrame(first, rest));
      return;
    }
    let bytes = first.length + 1;
    let n = 0;
    while (n < rest.length && bytes + rest[n]!.length + 1 <= limit) bytes += rest[n++]!.length + 1;
    this.first = rest[n];
    this.rest = n + 1 < rest.length ? rest.slice(n + 1) : undefined;
    this.queuedBytes -= bytes;
    this.sendFrame(textFrame(first, n > 0 ? rest.slice(0, n) : undefined));
  }

  private sendFrame(plain: Buffer): void {
    const deflater = this.connection.deflater;
    const frame = deflater === undefined ? plain : deflater.frame(plain);
    this.written.frames++;
    this.written.bytes += frame.length;
    this.connection.send(frame);
  }

  // ---- WebSocketUser ----

  onMessage(data: Buffer): void {
    const session = this.session;
    if (!session) return;
    this.alive = true;
    if (this.stompCandidate) {
      this.stompCandidate = false;
      if (isStompConnect(data)) return this.owner.handOverToStomp(this, data);
    }
    for (const d of decodeFrame(data.toString('utf8'))) {
      if (d.ok) session.receive(d.command);
      else session.reject(d.id, d.error);
    }
  }

  onPong(): void {
    this.alive = true;
  }

  onDrain(): void {
    while (!this.closed && this.first !== undefined && !this.connection.backedUp) this.send(DRAIN_FRAME_BYTES);
  }

  onClosed(): void {
    this.owner.remove(this);
  }

  onProtocolError(code: number, message: string): void {
    this.owner.protocolError(this, code, message);
  }
}
