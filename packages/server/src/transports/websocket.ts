import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
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
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
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

/**
 * Our JSON protocol over a `ws` WebSocket: one text frame per tick, messages separated by `\n`.
 *
 * The frame is written straight to the TCP socket instead of through `ws.send` (which frames and
 * copies per connection): the same frame bytes go to every subscriber that was sent the same
 * messages in a tick. This keeps `ws` consistent because its Sender only queues frames while it
 * compresses or reads a Blob, and this endpoint never negotiates permessage-deflate nor sends Blobs:
 * everything `ws` writes itself (pings, close frames) goes to the socket at once, in order with ours.
 * `ws.bufferedAmount` includes what we write, as it counts the socket's buffer.
 */
export class WebSocketTransport implements Transport, Flushable {
  /** Set false by each ping, true by each pong; see the endpoint's heartbeat sweep. */
  alive = true;
  /** What this tick queued: the first message, and any further ones (no array for the usual single one). */
  private first: Buffer | undefined = undefined;
  private rest: Buffer[] | undefined = undefined;
  private queuedBytes = 0;
  private closed = false;

  constructor(
    readonly socket: WebSocket,
    /** The TCP socket under `socket`. */
    private readonly raw: Duplex,
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
    return this.queuedBytes + this.raw.writableLength <= this.maxQueueBytes;
  }

  flush(): void {
    const { first, rest } = this;
    if (first === undefined) return;
    this.first = undefined;
    this.rest = undefined;
    this.queuedBytes = 0;
    if (this.socket.readyState === 1 /* OPEN */) this.raw.write(textFrame(first, rest));
  }

  /** Flushes and closes; a queue over its limit is dropped instead, as the client cannot take it. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    if (this.queuedBytes + this.socket.bufferedAmount > this.maxQueueBytes) {
      this.first = undefined;
      this.rest = undefined;
      this.queuedBytes = 0;
    }
    this.flush();
    this.closed = true;
    this.socket.close(code, reason.slice(0, 120));
  }
}
