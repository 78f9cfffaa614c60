import type { Socket } from 'node:net';
import type { TransportName, Written } from '../observability/metrics.js';
import { ReadyState, type WebSocketConnection, type WebSocketUser } from '../websocket/connection.js';
import { Opcode } from '../websocket/receiver.js';
import { flushTime, scheduleFlush, type Flushable } from '../transports/transport.js';
import { PartsCache, joinParts, writeParts } from './shared-writes.js';

/** What a wire tells its connection. */
export interface WireHandler {
  receive(chunk: Buffer): void;
  /** The socket is gone. Called once. */
  closed(): void;
  /** The WebSocket under the wire broke the protocol or sent too much; it is closing with `code`. */
  protocolError?(code: number, message: string): void;
}

/**
 * The byte stream under a STOMP connection: a WebSocket or a TCP socket. Writes queued within
 * one tick leave together (one WebSocket message, one socket write). Frames may share a message.
 * While the socket is backed up, frames wait in the wire's queue (droppable by `discard`) and
 * leave as it drains, each write ending with a whole frame.
 */
export interface StompWire {
  readonly kind: 'websocket' | 'tcp' | 'sockjs';
  /** The peer's address, when known (logs only). */
  readonly remoteAddress?: string | undefined;
  /** Starts passing input and the end of the socket to `handler`. */
  attach(handler: WireHandler): void;
  /** When queued bytes last went out, in `sinceStart` ms (during a flush of many connections, when that flush started). */
  readonly lastWrite: number;
  /** What it wrote (MESSAGE frames counted by the session, writes and bytes here). */
  readonly written: Written;
  /**
   * Queues bytes; `binary` marks bytes that are not UTF-8 (a WebSocket batch holding any goes out
   * as a binary message). Returns false when queued plus socket-buffered bytes exceed the limit.
   */
  write(chunk: Buffer, binary: boolean): boolean;
  /** Queued plus socket-buffered bytes. */
  readonly backlog: number;
  /** Flushes, then closes gracefully (`code` is the WebSocket close code). */
  close(code: number, reason: string): void;
  /** Drops what is queued, so that the next write (an ERROR) goes out alone. */
  discard(): void;
  /** Ends the socket now. */
  terminate(): void;
  pause(): void;
  resume(): void;
}

/** The metrics `transport` label of a STOMP wire kind. */
export function transportOf(kind: StompWire['kind']): TransportName {
  return kind === 'tcp' ? 'stomp-tcp' : kind === 'websocket' ? 'stomp-ws' : 'sockjs';
}

/** Bytes per write after the socket drained (see DRAIN_FRAME_BYTES of the WebSocket transport). */
const DRAIN_WRITE_BYTES = 16 * 1024;

const CLOCK_ORIGIN = Date.now();

/**
 * `now` (ms since the epoch) as ms since this module loaded. Connections keep their times so:
 * a small integer, where a `Date.now()`-sized value would be a boxed number per field and
 * connection (for the first 24 days of the process; later ones are boxed again, and still right).
 * `Math.trunc`, because V8 boxes the result of a plain subtraction of two large numbers even
 * when it is a small integer.
 */
export function sinceStart(now = Date.now()): number {
  return Math.trunc(now - CLOCK_ORIGIN);
}

/** The inverse of `sinceStart`: ms since the epoch. */
export function fromStart(ms: number): number {
  return ms + CLOCK_ORIGIN;
}

/** What a cleared queue slot holds, so that a reused queue keeps no sent Buffer alive. */
const EMPTY = Buffer.alloc(0);
/** The queue of a wire that never wrote: shared, never written to (`write` replaces it first). */
const NOTHING_QUEUED: Buffer[] = [];
/** A queue longer than this (it grew while the socket was backed up) is dropped once sent, not kept for reuse. */
const KEPT_SLOTS = 16;

/**
 * Batches the writes of one tick and hands them to `send` together; keeps the overflow while the
 * socket is backed up. The queue array is reused from tick to tick (a new array per connection
 * and tick would live from one broadcast to the next, and make every scavenge copy it).
 */
export abstract class QueuedWire implements Flushable {
  lastWrite = sinceStart();
  /** The first `count` entries are queued; the others are EMPTY. NOTHING_QUEUED until the first write, so an idle wire holds no array of its own. */
  protected queue: Buffer[] = NOTHING_QUEUED;
  protected count = 0;
  protected queued = 0;
  protected binary = false;
  protected ended = false;

  constructor(private readonly maxQueueBytes: number, readonly written: Written) {}

  protected abstract get buffered(): number;
  /** The socket's buffer is full: queued bytes wait for `drained`. */
  protected abstract get backedUp(): boolean;
  /**
   * Writes the first `count` of `parts` (`bytes` in all) as one message or socket write, before
   * it returns: `parts` is reused afterwards, the Buffers in it are never modified.
   */
  protected abstract send(parts: readonly Buffer[], count: number, bytes: number, binary: boolean): void;

  get backlog(): number {
    return this.queued + this.buffered;
  }

  write(chunk: Buffer, binary: boolean): boolean {
    if (this.ended) return true;
    if (this.count === 0) {
      scheduleFlush(this);
      if (this.queue === NOTHING_QUEUED) this.queue = [];
    }
    this.queue[this.count++] = chunk;
    this.queued += chunk.length;
    if (binary) this.binary = true;
    return this.queued + this.buffered <= this.maxQueueBytes;
  }

  discard(): void {
    this.clear();
  }

  /** What is queued, as an array of its own; the queue is left empty (without `discard`, which a subclass may extend). */
  protected take(): Buffer[] {
    const parts = this.queue.slice(0, this.count);
    this.clear();
    return parts;
  }

  private clear(): void {
    const { queue, count } = this;
    if (queue.length > KEPT_SLOTS) this.queue = NOTHING_QUEUED;
    else for (let i = 0; i < count; i++) queue[i] = EMPTY;
    this.count = 0;
    this.queued = 0;
    this.binary = false;
  }

  /** Sends what is queued, unless the socket is backed up (then `drained` does). */
  flush(): void {
    if (!this.backedUp) this.sendQueued();
  }

  /** Sends what waits in writes of about DRAIN_WRITE_BYTES, each ending with a frame, until the socket is full again. */
  drained(): void {
    while (!this.ended && this.count > 0 && !this.backedUp) this.sendQueued(DRAIN_WRITE_BYTES);
  }

  /**
   * Sends the first queued chunks as one write: all of them, or (with `limit`) those up to the
   * first frame end (a chunk ending in NUL) at or past `limit` bytes.
   */
  protected sendQueued(limit = Infinity): void {
    if (this.count === 0 || this.ended) return;
    const { queue, count, binary } = this;
    let n = count;
    let bytes = this.queued;
    if (bytes > limit) {
      bytes = 0;
      for (let i = 0; i < count; i++) {
        bytes += queue[i]!.length;
        if (bytes >= limit && queue[i]![queue[i]!.length - 1] === 0) {
          n = i + 1;
          break;
        }
      }
    }
    this.lastWrite = sinceStart(flushTime());
    this.written.frames++;
    this.written.bytes += bytes;
    if (n === count) {
      this.send(queue, count, bytes, binary);
      this.clear();
      return;
    }
    const parts = queue.slice(0, n);
    this.queue = queue.slice(n, count);
    this.count = count - n;
    this.queued -= bytes;
    this.send(parts, n, bytes, binary);
  }
}

/** The last WebSocket frame built for STOMP wires (tagged with its opcode), and the parts it holds. */
const wsFrames = new PartsCache<Buffer>();
/** The same for STOMP over TCP. */
const tcpWrites = new PartsCache<Buffer>();

/** STOMP over a WebSocket; text and binary messages are read alike. */
export class WebSocketWire extends QueuedWire implements StompWire, WebSocketUser {
  readonly kind = 'websocket';
  /** Set false by each ping, true by each pong or message. */
  alive = true;
  private handler: WireHandler | undefined = undefined;

  constructor(readonly connection: WebSocketConnection, maxQueueBytes: number, written: Written) {
    super(maxQueueBytes, written);
    connection.attach(this);
  }

  get remoteAddress(): string | undefined {
    return this.connection.remoteAddress ?? (this.connection.socket as Partial<Socket>).remoteAddress;
  }

  attach(handler: WireHandler): void {
    this.handler = handler;
  }

  onMessage(data: Buffer): void {
    this.alive = true;
    this.handler?.receive(data);
  }

  onPong(): void {
    this.alive = true;
  }

  onDrain(): void {
    this.drained();
  }

  onProtocolError(code: number, message: string): void {
    this.handler?.protocolError?.(code, message);
  }

  onClosed(): void {
    this.ended = true;
    this.handler?.closed();
  }

  protected get buffered(): number {
    return this.connection.bufferedAmount;
  }

  protected get backedUp(): boolean {
    return this.connection.backedUp;
  }

  /**
   * The frame for `parts` is built once when consecutive connections queued the same parts (the
   * same subscription prefix and the same publications), and its bytes go to each; otherwise the
   * frame header and this connection's own lines go in one small Buffer, and the shared frame
   * tails follow by reference in the same writev.
   */
  protected send(parts: readonly Buffer[], count: number, bytes: number, binary: boolean): void {
    const { connection } = this;
    const opcode = binary ? Opcode.Binary : Opcode.Text;
    const shared = wsFrames.get(parts, count, opcode);
    if (shared !== undefined) return connection.send(shared);
    if (wsFrames.matches(parts, count, opcode)) {
      const built = joinParts(parts, count, bytes, opcode);
      wsFrames.remember(parts, count, opcode, built);
      return connection.send(built);
    }
    wsFrames.remember(parts, count, opcode, undefined);
    if (connection.readyState === ReadyState.Open) writeParts(connection.socket, parts, count, bytes, opcode);
  }

  close(code: number, reason: string): void {
    if (this.ended) return;
    this.sendQueued();
    this.ended = true;
    this.connection.close(code, reason);
  }

  terminate(): void {
    this.ended = true;
    this.connection.terminate();
  }

  pause(): void {
    this.connection.pause();
  }

  resume(): void {
    this.connection.resume();
  }
}

/** STOMP over a TCP socket. */
export class TcpWire extends QueuedWire implements StompWire {
  readonly kind = 'tcp';

  constructor(readonly socket: Socket, maxQueueBytes: number, written: Written) {
    super(maxQueueBytes, written);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  attach(handler: WireHandler): void {
    this.socket.on('data', (chunk: Buffer) => handler.receive(chunk));
    this.socket.on('drain', () => this.drained());
    this.socket.on('error', () => { /* 'close' follows */ });
    this.socket.on('close', () => {
      this.ended = true;
      handler.closed();
    });
  }

  protected get buffered(): number {
    return this.socket.writableLength;
  }

  protected get backedUp(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** As over WebSocket, without the frame header. */
  protected send(parts: readonly Buffer[], count: number, bytes: number): void {
    const { socket } = this;
    if (socket.destroyed) return;
    const shared = tcpWrites.get(parts, count, 0);
    if (shared !== undefined) {
      socket.write(shared);
    } else if (tcpWrites.matches(parts, count, 0)) {
      const built = joinParts(parts, count, bytes, undefined);
      tcpWrites.remember(parts, count, 0, built);
      socket.write(built);
    } else {
      tcpWrites.remember(parts, count, 0, undefined);
      writeParts(socket, parts, count, bytes, undefined);
    }
  }

  /** Flushes and half-closes; the connection terminates the socket if the peer does not close. */
  close(): void {
    if (this.ended) return;
    this.sendQueued();
    this.ended = true;
    this.socket.end();
  }

  terminate(): void {
    this.ended = true;
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}
