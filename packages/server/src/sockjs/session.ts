import { CloseCode } from '@tidings/protocol';
import type { Credentials } from '../auth/jwt.js';
import type { ConnectRequest } from '../proxy/request.js';
import type { Written } from '../observability/metrics.js';
import { scheduleFlush, type Flushable } from '../transports/transport.js';
import { HEARTBEAT_FRAME, OPEN_FRAME, closeFrame, messageFrame } from './frames.js';

/**
 * Where a session's frames go now: one HTTP response (polling or streaming) or a WebSocket.
 * `send` writes one frame and returns false when the receiver is done after it (a poll answered,
 * a streaming response at its byte limit); the session then calls `end`.
 */
export interface Receiver {
  /** True for polling transports: the `o` frame alone answers the first request. */
  readonly polling: boolean;
  /** Bytes written but not yet sent. */
  readonly buffered: number;
  /** The socket's buffer is full: further frames wait in the session until the receiver calls `drained`. */
  readonly backedUp: boolean;
  send(frame: string): boolean;
  end(): void;
}

/** The protocol running over a session (STOMP or the JSON protocol). */
export interface SessionUser {
  /** One message from the client. */
  receive(message: string): void;
  /** The session ended (closed by either side, timed out, interrupted). Called once. */
  gone(): void;
  /** The node drains: tell the client to go elsewhere. */
  drain(): void;
}

/**
 * Bytes of messages per frame sent after the receiver drained (as DRAIN_FRAME_BYTES of the
 * WebSocket transport): the socket then holds at most its highWaterMark plus one such frame.
 */
export const DRAIN_FRAME_BYTES = 16 * 1024;

/** What a session reports to its registry. */
export interface SessionOwner {
  /** The first message arrived: returns the protocol to run, or undefined after closing the session. */
  detect(session: SockjsSession, first: string): SessionUser | undefined;
}

export const ANOTHER_CONNECTION = closeFrame(2010, 'Another connection still open');
export const INTERRUPTED = { code: 1002, reason: 'Connection interrupted' } as const;

type State = 'new' | 'open' | 'closed';

/** The last frame measured: a publication's frame reaches every subscriber as the same string. */
let lastMeasured: string | undefined;
let lastLength = 0;

function byteLength(frame: string): number {
  if (frame !== lastMeasured) {
    lastMeasured = frame;
    lastLength = Buffer.byteLength(frame);
  }
  return lastLength;
}

/**
 * One SockJS session: queued messages (already quoted), at most one receiver, the protocol user
 * chosen by the first message. Time (heartbeats, disconnect delay, connect timeout) is checked by
 * the registry's sweep through `tick`; a session owns no timers.
 *
 * Slow consumers: while there is no receiver or its socket is backed up, messages wait here as
 * whole messages (droppable by `discard`) and leave, as the receiver drains, in `a` frames of at
 * most DRAIN_FRAME_BYTES. The protocol user bounds them with `backlog`; the close frame always
 * follows the last whole message.
 */
export class SockjsSession implements Flushable {
  private current: State = 'new';
  private protocol: SessionUser | undefined = undefined;
  private receiver: Receiver | undefined = undefined;
  private queue: string[] = [];
  private queued = 0;
  private flushing = false;
  private closing: string | undefined = undefined;
  /** When the last receiver left, the session closed, or the last frame went out (ms). */
  private since = Date.now();
  private lastFrame = Date.now();
  readonly created = Date.now();

  constructor(
    private readonly owner: SessionOwner,
    /** The credentials of the request that opened the session. */
    readonly credentials: Credentials | undefined,
    /** Counts the `a` frames written and their bytes (SockJS frame text, before any HTTP wrapping). */
    private readonly written: Written,
    /** What the connect proxy is told at the session's `connect` (or STOMP CONNECT). */
    readonly request: ConnectRequest,
  ) {}

  /** `new` until the first receiver, `open`, then `closed`. */
  get state(): State {
    return this.current;
  }

  /** The protocol chosen by the first message. */
  get user(): SessionUser | undefined {
    return this.protocol;
  }

  get attached(): boolean {
    return this.receiver !== undefined;
  }

  /** Queued plus receiver-buffered bytes. */
  get backlog(): number {
    return this.queued + (this.receiver?.buffered ?? 0);
  }

  /** A receiving request or WebSocket arrived. */
  attach(receiver: Receiver): void {
    if (this.state === 'closed') {
      // what was queued before the close goes out first (a poll takes it alone)
      const last = this.queue.length > 0 ? messageFrame(this.queue) : undefined;
      this.discard();
      if (last !== undefined) this.count(last);
      if (last === undefined || receiver.send(last)) receiver.send(this.closing ?? closeFrame(3000, 'Go away!'));
      return receiver.end();
    }
    if (this.receiver) {
      receiver.send(ANOTHER_CONNECTION);
      return receiver.end();
    }
    this.lastFrame = Date.now();
    if (this.state === 'new') {
      this.current = 'open';
      if (!receiver.send(OPEN_FRAME) || receiver.polling) {
        this.since = Date.now();
        return receiver.end();
      }
    }
    this.receiver = receiver;
    if (this.queue.length > 0) this.flush();
  }

  /** The receiver's connection closed; `interrupted` when it was not the server that ended it. */
  detach(receiver: Receiver, interrupted: boolean): void {
    if (this.receiver !== receiver) return;
    this.receiver = undefined;
    this.since = Date.now();
    if (interrupted) this.close(INTERRUPTED.code, INTERRUPTED.reason);
  }

  /** Queues one quoted message; messages queued within one tick leave in one frame. */
  enqueue(quoted: string): void {
    if (this.state === 'closed') return;
    this.queue.push(quoted);
    this.queued += quoted.length + 1;
    if (!this.flushing && this.receiver) {
      this.flushing = true;
      scheduleFlush(this);
    }
  }

  /** Sends what is queued as one frame, unless the receiver is backed up (then `drained` does). */
  flush(): void {
    this.flushing = false;
    const receiver = this.receiver;
    if (receiver && !receiver.backedUp) this.sendQueued(receiver, Infinity);
  }

  /** `receiver`'s socket took what it buffered: sends what waits, frame by frame, until it is full again. */
  drained(receiver: Receiver): void {
    while (this.receiver === receiver && this.queue.length > 0 && !receiver.backedUp) this.sendQueued(receiver, DRAIN_FRAME_BYTES);
  }

  /**
   * Drops the queued messages (whole ones; what the receiver's socket holds stays), so that what
   * is queued next (a slow consumer's `disconnect` or STOMP `ERROR`) follows what was sent.
   */
  discard(): void {
    this.queue = [];
    this.queued = 0;
  }

  /** Messages from the client, in order. */
  receive(messages: readonly string[]): void {
    for (const message of messages) {
      if (this.state === 'closed') return;
      if (!this.protocol) {
        this.protocol = this.owner.detect(this, message);
        if (!this.protocol) return;
      }
      this.protocol.receive(message);
    }
  }

  /**
   * Sends what is queued and the close frame, now or to the next receiver (the close frame is
   * kept for later requests); ends the user. Idempotent.
   */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.current = 'closed';
    this.closing = closeFrame(code, reason);
    this.since = Date.now();
    const receiver = this.receiver;
    this.receiver = undefined;
    if (receiver) this.attach(receiver);
    this.protocol?.gone();
  }

  /**
   * The sweep: heartbeats on idle receivers, the disconnect delay, the connect deadline. Returns
   * false when the session is over and can be forgotten.
   */
  tick(now: number, timing: { heartbeatMs: number; disconnectDelayMs: number; connectTimeoutMs: number }): boolean {
    if (this.state === 'closed') return this.receiver !== undefined || now - this.since < timing.disconnectDelayMs;
    if (this.receiver) {
      if (now - this.lastFrame >= timing.heartbeatMs) this.sent(this.receiver, HEARTBEAT_FRAME);
    } else if (now - this.since >= timing.disconnectDelayMs) {
      this.close(INTERRUPTED.code, 'Session timed out');
      return false;
    }
    // told to an open receiver only: without one the disconnect delay ends the session (a close here
    // would keep it another delay, and in the tick before that delay it would race with it)
    if (!this.protocol && this.receiver && now - this.created >= timing.connectTimeoutMs) this.close(CloseCode.ConnectTimeout, 'no first message in time');
    return true;
  }

  /** Sends the first queued messages, at most `limit` bytes of them (at least one), as one `a` frame. */
  private sendQueued(receiver: Receiver, limit: number): void {
    const { queue } = this;
    if (queue.length === 0) return;
    let batch = queue;
    if (this.queued <= limit) {
      this.queue = [];
      this.queued = 0;
    } else {
      let bytes = queue[0]!.length + 1;
      let n = 1;
      while (n < queue.length && bytes + queue[n]!.length + 1 <= limit) bytes += queue[n++]!.length + 1;
      batch = queue.splice(0, n);
      this.queued -= bytes;
    }
    const frame = messageFrame(batch);
    this.count(frame);
    this.sent(receiver, frame);
  }

  private count(frame: string): void {
    this.written.frames++;
    this.written.bytes += byteLength(frame);
  }

  private sent(receiver: Receiver, frame: string): void {
    this.lastFrame = Date.now();
    if (receiver.send(frame)) return;
    this.receiver = undefined;
    this.since = this.lastFrame;
    receiver.end();
  }
}
