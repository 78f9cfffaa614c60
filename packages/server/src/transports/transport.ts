/**
 * The write-only side of a connection, as the session sees it. Each transport reads client
 * input its own way and hands commands to the session; sessions only ever write.
 */
export interface Transport {
  /** `websocket`, `sse`, `stream`, … */
  readonly name: string;
  /** True when the client can send commands on the same connection (WebSocket). */
  readonly bidirectional: boolean;
  /**
   * Queues one encoded message. Messages queued within one tick leave together in one frame or
   * write. The same Buffer may be written to many transports and must not be modified.
   * Returns false when the connection's queue is over its limit: the caller disconnects it as slow.
   */
  write(message: Buffer): boolean;
  /**
   * Drops the messages not yet handed to the socket (whole messages; bytes already in the socket
   * stay), so that what is written next (the slow-consumer `disconnect`) leaves right after them.
   */
  discard(): void;
  /** Flushes what is queued, then closes with `code` (a close code from the protocol table). */
  close(code: number, reason: string): void;
}

/** Something with queued output, flushed once per tick by `scheduleFlush`. */
export interface Flushable {
  flush(): void;
}

let pending: Flushable[] = [];
let spare: Flushable[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  const list = pending;
  pending = spare;
  for (let i = 0; i < list.length; i++) list[i]!.flush();
  list.length = 0;
  spare = list;
}

/** Flushes `item` at the end of this tick (setImmediate), together with every other pending item. */
export function scheduleFlush(item: Flushable): void {
  pending.push(item);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

const NEWLINE = Buffer.from('\n');

/** Joins queued messages into one frame: messages separated by `\n`. */
export function joinMessages(queue: Buffer[]): Buffer {
  if (queue.length === 1) return queue[0]!;
  const parts: Buffer[] = [];
  for (let i = 0; i < queue.length; i++) {
    if (i > 0) parts.push(NEWLINE);
    parts.push(queue[i]!);
  }
  return Buffer.concat(parts);
}
