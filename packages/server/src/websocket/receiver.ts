import { isUtf8 } from 'node:buffer';
import { DEFLATE_TAIL, InflateError, inflateMessage } from './deflate.js';

/** What a receiver reports. Called synchronously from `push`. */
export interface ReceiverSink {
  onMessage(data: Buffer, binary: boolean): void;
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** The peer's close frame; `code` is 1005 when it carried none. Nothing after it is read. */
  onClose(code: number, reason: string): void;
  /** The peer broke the protocol; close with `code` (1002, 1007 or 1009). Nothing after it is read. */
  onProtocolError(code: number, message: string): void;
}

export const enum Opcode {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

const enum State {
  Header,
  Payload,
  Done,
}

const MAX_HEADER = 14;
const MAX_CONTROL_PAYLOAD = 125;
const EMPTY = Buffer.alloc(0);

/** Close codes a peer may send (RFC 6455 §7.4.1, §7.4.2). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** XORs `data` in place with the 4-byte `mask`, starting at key position `offset`. */
function unmask(data: Buffer, mask: number, offset: number): void {
  const shift = (offset & 3) * 8;
  const key = shift === 0 ? mask : ((mask << shift) | (mask >>> (32 - shift))) >>> 0;
  const k0 = key >>> 24;
  const k1 = (key >>> 16) & 0xff;
  const k2 = (key >>> 8) & 0xff;
  const k3 = key & 0xff;
  const n = data.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    data[i] = data[i]! ^ k0;
    data[i + 1] = data[i + 1]! ^ k1;
    data[i + 2] = data[i + 2]! ^ k2;
    data[i + 3] = data[i + 3]! ^ k3;
  }
  if (i < n) data[i] = data[i]! ^ k0;
  if (i + 1 < n) data[i + 1] = data[i + 1]! ^ k1;
  if (i + 2 < n) data[i + 2] = data[i + 2]! ^ k2;
}

/**
 * Server side of RFC 6455 framing as a pure state machine: `push` takes bytes as they arrive
 * (split anywhere) and reports messages and control frames to a sink. Client frames must be
 * masked; a message over `maxMessageSize` is refused (1009) as soon as a frame header announces
 * it, before its payload is buffered. Chunks are unmasked in place: `push` takes ownership.
 * With `inflate` (permessage-deflate agreed), a message whose first frame has RSV1 set is
 * compressed: it is inflated whole, and refused (1009) as soon as it passes `maxMessageSize`.
 */
export class Receiver {
  private state = State.Header;
  /** Header bytes split across chunks; allocated only then. */
  private head: Buffer | undefined = undefined;
  private headLength = 0;
  private fin = false;
  private opcode = 0;
  private mask = 0;
  /** Payload bytes of the current frame still to come, and those already read. */
  private remaining = 0;
  private read = 0;
  /** The data message being assembled: its opcode (0: none), size and pieces (only once it has two). */
  private messageOpcode = 0;
  private messageBytes = 0;
  /** The message being assembled is compressed (RSV1 on its first frame). */
  private compressed = false;
  private piece: Buffer | undefined = undefined;
  private pieces: Buffer[] | undefined = undefined;
  /** A control frame's payload split across chunks. */
  private control: Buffer | undefined = undefined;

  constructor(
    private readonly maxMessageSize: number,
    /** permessage-deflate was agreed: RSV1 marks a compressed message. */
    private readonly inflate = false,
  ) {}

  /** True once a close frame or a protocol error ended the input. */
  get done(): boolean {
    return this.state === State.Done;
  }

  push(chunk: Buffer, sink: ReceiverSink): void {
    let at = 0;
    while (at < chunk.length && this.state !== State.Done) {
      at = this.state === State.Header ? this.readHeader(chunk, at, sink) : this.readPayload(chunk, at, sink);
    }
  }

  /** Consumes header bytes from `chunk` at `at`; returns where it stopped. */
  private readHeader(chunk: Buffer, at: number, sink: ReceiverSink): number {
    let src = chunk;
    let start = at;
    let available = chunk.length - at;
    if (this.headLength > 0 || available < 2) {
      const head = (this.head ??= Buffer.allocUnsafeSlow(MAX_HEADER));
      const take = Math.min(available, MAX_HEADER - this.headLength);
      chunk.copy(head, this.headLength, at, at + take);
      src = head;
      start = 0;
      available = this.headLength + take;
      if (available < 2) {
        this.headLength = available;
        return at + take;
      }
    }
    const b0 = src[start]!;
    const b1 = src[start + 1]!;
    if (!this.checkFirstBytes(b0, b1, sink)) return chunk.length;
    const len7 = b1 & 0x7f;
    const size = 6 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
    if (available < size) {
      if (src === chunk) {
        const head = (this.head ??= Buffer.allocUnsafeSlow(MAX_HEADER));
        chunk.copy(head, 0, at);
      }
      this.headLength = available;
      return chunk.length;
    }
    let length = len7;
    if (len7 === 126) length = src.readUInt16BE(start + 2);
    else if (len7 === 127) length = src.readUInt32BE(start + 2) * 2 ** 32 + src.readUInt32BE(start + 6);
    this.mask = src.readUInt32BE(start + size - 4);
    const consumed = src === chunk ? size : size - this.headLength;
    this.headLength = 0;
    this.head = undefined;
    if (!this.startFrame(b0, length, sink)) return chunk.length;
    return at + consumed;
  }

  /** Checks what the first two header bytes say; reports and stops on a violation. */
  private checkFirstBytes(b0: number, b1: number, sink: ReceiverSink): boolean {
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if ((b0 & 0x70) !== 0 && !(this.inflate && (b0 & 0x70) === 0x40 && (opcode === Opcode.Text || opcode === Opcode.Binary))) {
      return this.fail(sink, 1002, 'reserved bits set');
    }
    if ((b1 & 0x80) === 0) return this.fail(sink, 1002, 'client frames must be masked');
    if (opcode >= 0x8) {
      if (opcode > Opcode.Pong) return this.fail(sink, 1002, `unknown opcode ${opcode}`);
      if (!fin) return this.fail(sink, 1002, 'fragmented control frame');
      if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) return this.fail(sink, 1002, 'control frame payload over 125 bytes');
      return true;
    }
    if (opcode > Opcode.Binary) return this.fail(sink, 1002, `unknown opcode ${opcode}`);
    if (opcode === Opcode.Continuation && this.messageOpcode === 0) return this.fail(sink, 1002, 'continuation without a message');
    if (opcode !== Opcode.Continuation && this.messageOpcode !== 0) return this.fail(sink, 1002, 'new message before the previous one ended');
    return true;
  }

  private startFrame(b0: number, length: number, sink: ReceiverSink): boolean {
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    this.remaining = length;
    this.read = 0;
    if (this.opcode < 0x8) {
      if (this.messageBytes + length > this.maxMessageSize) {
        return this.fail(sink, 1009, `message over the ${this.maxMessageSize}-byte limit`);
      }
      if (this.opcode !== Opcode.Continuation) {
        this.messageOpcode = this.opcode;
        this.compressed = (b0 & 0x40) !== 0;
      }
      this.messageBytes += length;
    }
    this.state = State.Payload;
    if (length === 0) this.endFrame(EMPTY, sink);
    return true;
  }

  private readPayload(chunk: Buffer, at: number, sink: ReceiverSink): number {
    const n = Math.min(this.remaining, chunk.length - at);
    const data = chunk.subarray(at, at + n);
    unmask(data, this.mask, this.read);
    this.read += n;
    this.remaining -= n;
    if (this.opcode >= 0x8) {
      if (this.remaining === 0 && this.control === undefined) {
        this.endFrame(data, sink);
      } else {
        const control = (this.control ??= Buffer.allocUnsafeSlow(this.read + this.remaining));
        data.copy(control, this.read - n);
        if (this.remaining === 0) {
          this.control = undefined;
          this.endFrame(control, sink);
        }
      }
    } else {
      this.addPiece(data);
      if (this.remaining === 0) this.endFrame(EMPTY, sink);
    }
    return at + n;
  }

  private addPiece(data: Buffer): void {
    if (this.piece === undefined) this.piece = data;
    else (this.pieces ??= [this.piece]).push(data);
  }

  /** The current frame is complete; `payload` is a control frame's payload. */
  private endFrame(payload: Buffer, sink: ReceiverSink): void {
    this.state = State.Header;
    switch (this.opcode) {
      case Opcode.Close:
        return this.closeFrame(payload, sink);
      case Opcode.Ping:
        return sink.onPing(payload);
      case Opcode.Pong:
        return sink.onPong(payload);
    }
    if (!this.fin) return;
    if (this.compressed) this.addPiece(DEFLATE_TAIL);
    const bytes = this.messageBytes + (this.compressed ? DEFLATE_TAIL.length : 0);
    let data = this.pieces !== undefined ? Buffer.concat(this.pieces, bytes) : this.piece ?? EMPTY;
    const binary = this.messageOpcode === Opcode.Binary;
    const compressed = this.compressed;
    this.messageOpcode = 0;
    this.messageBytes = 0;
    this.compressed = false;
    this.piece = undefined;
    this.pieces = undefined;
    if (compressed) {
      try {
        data = inflateMessage(data, this.maxMessageSize);
      } catch (err) {
        if (!(err instanceof InflateError)) throw err;
        this.fail(sink, err.code, err.message);
        return;
      }
    }
    if (!binary && !isUtf8(data)) {
      this.fail(sink, 1007, 'text message is not valid UTF-8');
      return;
    }
    sink.onMessage(data, binary);
  }

  private closeFrame(payload: Buffer, sink: ReceiverSink): void {
    if (payload.length === 1) {
      this.fail(sink, 1002, 'close frame with a 1-byte payload');
      return;
    }
    const code = payload.length === 0 ? 1005 : payload.readUInt16BE(0);
    if (payload.length > 0 && !isValidCloseCode(code)) {
      this.fail(sink, 1002, `invalid close code ${code}`);
      return;
    }
    const reason = payload.subarray(2);
    if (!isUtf8(reason)) {
      this.fail(sink, 1007, 'close reason is not valid UTF-8');
      return;
    }
    this.state = State.Done;
    sink.onClose(code, reason.toString('utf8'));
  }

  private fail(sink: ReceiverSink, code: number, message: string): false {
    this.state = State.Done;
    this.head = undefined;
    this.piece = undefined;
    this.pieces = undefined;
    this.control = undefined;
    sink.onProtocolError(code, message);
    return false;
  }
}
