import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CloseSweep } from './close-sweep.js';
import type { Deflater } from './deflate.js';
import { PING_FRAME, closeFrame, pongFrame } from './frames.js';
import { Receiver, type ReceiverSink } from './receiver.js';

/** Who reads a connection: the JSON transport or a STOMP wire. */
export interface WebSocketUser {
  onMessage(data: Buffer, binary: boolean): void;
  onPong(): void;
  /** The socket took what it buffered (after `backedUp`): write what waits. */
  onDrain(): void;
  /** The socket is gone. Called once. */
  onClosed(): void;
  /** The peer broke the protocol or sent a message over the limit; the connection is closing with `code` (1002, 1007, 1009). */
  onProtocolError?(code: number, message: string): void;
}

/** RFC 6455 close code: a message over the size limit (a `limit` refusal; 1002 and 1007 are `bad_request`). */
export const MESSAGE_TOO_BIG = 1009;

export const enum ReadyState {
  Open = 1,
  Closing = 2,
  Closed = 3,
}

const kConnection = Symbol('tidings.websocket');

interface AttachedSocket extends Duplex {
  [kConnection]?: WebSocketConnection;
}

// Socket listeners shared by every connection: `this` is the socket.
function onData(this: AttachedSocket, chunk: Buffer): void {
  this[kConnection]?.receive(chunk);
}

function onEnd(this: AttachedSocket): void {
  this[kConnection]?.peerEnded();
}

function onClose(this: AttachedSocket): void {
  this[kConnection]?.socketClosed();
}

function onDrain(this: AttachedSocket): void {
  this[kConnection]?.drained();
}

function onError(this: Duplex): void {
  this.destroy();
}

/** Nobody reads a connection before `attach`. */
const NO_USER: WebSocketUser = { onMessage() {}, onPong() {}, onDrain() {}, onClosed() {} };

/**
 * One server-side WebSocket over an upgraded socket: reads frames through a Receiver, answers
 * pings, runs the close handshake (bounded by the shared CloseSweep) and writes frames built
 * elsewhere. Holds no timers or closures of its own. Every socket write is a whole frame, so the
 * close frame always starts on a frame boundary; a close whose frame the peer does not take within
 * CLOSE_TIMEOUT_MS ends with `terminate`.
 */
export class WebSocketConnection implements ReceiverSink {
  readyState = ReadyState.Open;
  /** The client's address (through trusted proxies: ProxyTrust), for logs; set by whoever accepted the upgrade. */
  remoteAddress: string | undefined = undefined;
  private user = NO_USER;
  private readonly receiver: Receiver;

  constructor(
    readonly socket: Duplex,
    /** The chosen subprotocol; `undefined` for our JSON protocol. */
    readonly protocol: string | undefined,
    maxMessageSize: number,
    private readonly sweep: CloseSweep,
    /** permessage-deflate, when agreed in the handshake: compresses what users pass through it; client messages are inflated. */
    readonly deflater: Deflater | undefined = undefined,
  ) {
    this.receiver = new Receiver(maxMessageSize, deflater !== undefined);
  }

  attach(user: WebSocketUser): void {
    this.user = user;
  }

  /** Starts reading; `head` holds bytes that came with the upgrade request. */
  start(head: Buffer): void {
    const socket = this.socket as AttachedSocket;
    if (this.socket instanceof Socket) {
      this.socket.setTimeout(0);
      this.socket.setNoDelay(true);
    }
    socket[kConnection] = this;
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('drain', onDrain);
    socket.on('data', onData);
    if (head.length > 0) this.receive(head);
    if (socket.destroyed) this.socketClosed();
  }

  /** Bytes written but not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /**
   * The socket holds a full buffer (its highWaterMark, 16 KiB): users keep further frames in their
   * own queue, where whole messages can still be dropped, until `onDrain`.
   */
  get backedUp(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Writes a frame built by the caller, while open. */
  send(frame: Buffer): void {
    if (this.readyState === ReadyState.Open) this.socket.write(frame);
  }

  ping(): void {
    this.send(PING_FRAME);
  }

  /** Starts the close handshake: sends a close frame and waits (bounded) for the peer's. */
  close(code: number, reason = ''): void {
    if (this.readyState !== ReadyState.Open) return;
    this.readyState = ReadyState.Closing;
    this.socket.write(closeFrame(code, reason));
    if (this.receiver.done) this.socket.end();
    this.sweep.add(this);
  }

  /** Ends the socket now, without a close handshake. */
  terminate(): void {
    if (this.readyState === ReadyState.Closed) return;
    this.readyState = ReadyState.Closing;
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  drained(): void {
    if (this.readyState === ReadyState.Open) this.user.onDrain();
  }

  receive(chunk: Buffer): void {
    if (!this.receiver.done) this.receiver.push(chunk, this);
  }

  peerEnded(): void {
    if (this.readyState === ReadyState.Open) this.readyState = ReadyState.Closing;
    this.socket.end();
  }

  socketClosed(): void {
    if (this.readyState === ReadyState.Closed) return;
    this.readyState = ReadyState.Closed;
    this.sweep.delete(this);
    this.user.onClosed();
  }

  // ---- ReceiverSink ----

  onMessage(data: Buffer, binary: boolean): void {
    if (this.readyState === ReadyState.Open) this.user.onMessage(data, binary);
  }

  onPing(data: Buffer): void {
    this.send(pongFrame(data));
  }

  onPong(): void {
    this.user.onPong();
  }

  /** The peer's close: echoed when it started the handshake; the socket ends either way. */
  onClose(code: number): void {
    if (this.readyState === ReadyState.Open) {
      this.readyState = ReadyState.Closing;
      this.socket.write(closeFrame(code));
      this.sweep.add(this);
    }
    this.socket.end();
  }

  onProtocolError(code: number, message: string): void {
    this.user.onProtocolError?.(code, message);
    if (this.readyState === ReadyState.Open) {
      this.readyState = ReadyState.Closing;
      this.socket.write(closeFrame(code, message));
      this.sweep.add(this);
    }
    this.socket.end();
  }
}
