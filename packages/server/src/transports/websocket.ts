import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { scheduleFlush, type Flushable, type Transport } from './transport.js';

const NO_MESSAGES: Buffer[] = [];
const NEWLINE = 0x0a;

/**
 * The last frame built, and the messages it holds. A publication reaches every subscriber of a
 * channel in the same order within a tick, so consecutive flushes usually carry exactly the same
 * messages (the same Buffer objects): the frame is then built once and its bytes written to every
 * socket. Comparing by identity costs one pointer comparison per message.
 */
let lastMessages: Buffer[] = NO_MESSAGES;
let lastFrame: Buffer | undefined;

/** One unmasked, final text frame (RFC 6455 §5.2) holding `messages` separated by `\n`. */
export function textFrame(messages: Buffer[]): Buffer {
  const n = messages.length;
  if (lastFrame !== undefined && n === lastMessages.length) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (messages[i] !== lastMessages[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastFrame;
  }
  let length = n - 1;
  for (let i = 0; i < n; i++) length += messages[i]!.length;
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
  let at = header;
  for (let i = 0; i < n; i++) {
    if (i > 0) frame[at++] = NEWLINE;
    at += messages[i]!.copy(frame, at);
  }
  lastMessages = messages;
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
  private queue: Buffer[] = NO_MESSAGES;
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
    if (this.queue === NO_MESSAGES) {
      this.queue = [message];
      scheduleFlush(this);
    } else {
      this.queue.push(message);
    }
    this.queuedBytes += message.length + 1;
    return this.queuedBytes + this.raw.writableLength <= this.maxQueueBytes;
  }

  flush(): void {
    const queue = this.queue;
    if (queue === NO_MESSAGES) return;
    this.queue = NO_MESSAGES;
    this.queuedBytes = 0;
    if (this.socket.readyState === 1 /* OPEN */) this.raw.write(textFrame(queue));
  }

  /** Flushes and closes; a queue over its limit is dropped instead, as the client cannot take it. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    if (this.queuedBytes + this.socket.bufferedAmount > this.maxQueueBytes) {
      this.queue = NO_MESSAGES;
      this.queuedBytes = 0;
    }
    this.flush();
    this.closed = true;
    this.socket.close(code, reason.slice(0, 120));
  }
}
