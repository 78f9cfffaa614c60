import type { WebSocket } from 'ws';
import { joinMessages, scheduleFlush, type Flushable, type Transport } from './transport.js';

const TEXT = { binary: false } as const;

/** Our JSON protocol over a `ws` WebSocket: one text frame per tick, messages separated by `\n`. */
export class WebSocketTransport implements Transport, Flushable {
  readonly name = 'websocket';
  readonly bidirectional = true;
  /** Set false by each ping, true by each pong; see Node's heartbeat sweep. */
  alive = true;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private closed = false;

  constructor(readonly socket: WebSocket, private readonly maxQueueBytes: number) {}

  write(message: Buffer): boolean {
    if (this.closed) return true;
    if (this.queue.length === 0) scheduleFlush(this);
    this.queue.push(message);
    this.queuedBytes += message.length + 1;
    return this.queuedBytes + this.socket.bufferedAmount <= this.maxQueueBytes;
  }

  flush(): void {
    if (this.queue.length === 0) return;
    const frame = joinMessages(this.queue);
    this.queue = [];
    this.queuedBytes = 0;
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(frame, TEXT);
  }

  /** Flushes and closes; a queue over its limit is dropped instead, as the client cannot take it. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    if (this.queuedBytes + this.socket.bufferedAmount > this.maxQueueBytes) {
      this.queue = [];
      this.queuedBytes = 0;
    }
    this.flush();
    this.closed = true;
    this.socket.close(code, reason.slice(0, 120));
  }
}
