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

/**
 * Items to flush: the first `pendingCount` entries of `pending`; the rest are undefined. The two
 * arrays are kept and swapped, not regrown for every tick (a fan-out queues one item per
 * connection).
 */
let pending: Array<Flushable | undefined> = [];
let pendingCount = 0;
let spare: Array<Flushable | undefined> = [];
let scheduled = false;
/** Date.now() when the running flushAll started; undefined outside it. */
let flushStart: number | undefined;

function flushAll(): void {
  scheduled = false;
  const list = pending;
  const count = pendingCount;
  pending = spare;
  pendingCount = 0;
  flushStart = Date.now();
  try {
    for (let i = 0; i < count; i++) {
      const item = list[i]!;
      list[i] = undefined;
      item.flush();
    }
  } finally {
    flushStart = undefined;
    spare = list;
  }
}

/** Flushes `item` at the end of this tick (setImmediate), together with every other pending item. */
export function scheduleFlush(item: Flushable): void {
  pending[pendingCount++] = item;
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

/**
 * Date.now() (ms), read once per flush of all pending items: inside a flush, the time it started
 * (at most the flush's own duration earlier), so that writing to every connection does not read
 * the clock for each one.
 */
export function flushTime(): number {
  return flushStart ?? Date.now();
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
