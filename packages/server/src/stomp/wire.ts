import type { Socket } from 'node:net';
import type { WebSocketConnection, WebSocketUser } from '../websocket/connection.js';
import { frame } from '../websocket/frames.js';
import { Opcode } from '../websocket/receiver.js';
import { scheduleFlush, type Flushable } from '../transports/transport.js';

/** What a wire tells its connection. */
export interface WireHandler {
  receive(chunk: Buffer): void;
  /** The socket is gone. Called once. */
  closed(): void;
}

/**
 * The byte stream under a STOMP connection: a WebSocket or a TCP socket. Writes queued within
 * one tick leave together (one WebSocket message, one socket write). Frames may share a message.
 */
export interface StompWire {
  readonly kind: 'websocket' | 'tcp' | 'sockjs';
  /** The peer's address, when known (logs only). */
  readonly remoteAddress?: string | undefined;
  /** Starts passing input and the end of the socket to `handler`. */
  attach(handler: WireHandler): void;
  /** When queued bytes last went out (ms). */
  readonly lastWrite: number;
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

/** Batches the writes of one tick and hands them to `send` together. */
export abstract class QueuedWire implements Flushable {
  lastWrite = Date.now();
  protected queue: Buffer[] = [];
  protected queued = 0;
  protected binary = false;
  protected ended = false;

  constructor(private readonly maxQueueBytes: number) {}

  protected abstract get buffered(): number;
  protected abstract send(data: Buffer, binary: boolean): void;

  get backlog(): number {
    return this.queued + this.buffered;
  }

  write(chunk: Buffer, binary: boolean): boolean {
    if (this.ended) return true;
    if (this.queue.length === 0) scheduleFlush(this);
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (binary) this.binary = true;
    return this.queued + this.buffered <= this.maxQueueBytes;
  }

  discard(): void {
    this.queue = [];
    this.queued = 0;
    this.binary = false;
  }

  flush(): void {
    if (this.queue.length === 0 || this.ended) return;
    const data = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue, this.queued);
    const binary = this.binary;
    this.discard();
    this.lastWrite = Date.now();
    this.send(data, binary);
  }
}

/** STOMP over a WebSocket; text and binary messages are read alike. */
export class WebSocketWire extends QueuedWire implements StompWire, WebSocketUser {
  readonly kind = 'websocket';
  /** Set false by each ping, true by each pong or message. */
  alive = true;
  private handler: WireHandler | undefined = undefined;

  constructor(readonly connection: WebSocketConnection, maxQueueBytes: number) {
    super(maxQueueBytes);
    connection.attach(this);
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

  onClosed(): void {
    this.ended = true;
    this.handler?.closed();
  }

  protected get buffered(): number {
    return this.connection.bufferedAmount;
  }

  protected send(data: Buffer, binary: boolean): void {
    this.connection.send(frame(binary ? Opcode.Binary : Opcode.Text, data));
  }

  close(code: number, reason: string): void {
    if (this.ended) return;
    this.flush();
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

  constructor(readonly socket: Socket, maxQueueBytes: number) {
    super(maxQueueBytes);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  attach(handler: WireHandler): void {
    this.socket.on('data', (chunk: Buffer) => handler.receive(chunk));
    this.socket.on('error', () => { /* 'close' follows */ });
    this.socket.on('close', () => {
      this.ended = true;
      handler.closed();
    });
  }

  protected get buffered(): number {
    return this.socket.writableLength;
  }

  protected send(data: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Flushes and half-closes; the connection terminates the socket if the peer does not close. */
  close(): void {
    if (this.ended) return;
    this.flush();
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
