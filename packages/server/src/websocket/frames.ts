import { Opcode } from './receiver.js';

/** Bytes of the header of an unmasked frame carrying `length` bytes. */
export function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/**
 * Writes the header of an unmasked, final frame of `opcode` carrying `length` bytes at the start
 * of `target` (RFC 6455 §5.2); the payload goes right after it, at `headerLength(length)`.
 */
export function writeFrameHeader(target: Buffer, opcode: number, length: number): void {
  target[0] = 0x80 | opcode;
  if (length < 126) {
    target[1] = length;
  } else if (length < 65536) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
  } else {
    target[1] = 127;
    target.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    target.writeUInt32BE(length >>> 0, 6);
  }
}

/** One unmasked, final frame of `opcode` holding `payload`. */
export function frame(opcode: number, payload: Buffer): Buffer {
  const header = headerLength(payload.length);
  const out = Buffer.allocUnsafe(header + payload.length);
  writeFrameHeader(out, opcode, payload.length);
  payload.copy(out, header);
  return out;
}

/** A ping without payload: the same bytes for every connection. */
export const PING_FRAME = Buffer.from([0x80 | Opcode.Ping, 0]);

export function pongFrame(payload: Buffer): Buffer {
  return frame(Opcode.Pong, payload);
}

/**
 * A close frame. `code` 1005 (no status) sends an empty payload; the reason is cut to the
 * 123 bytes a control frame leaves it, at a character boundary.
 */
export function closeFrame(code: number, reason = ''): Buffer {
  if (code === 1005) return frame(Opcode.Close, Buffer.alloc(0));
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) text = Buffer.from(text.subarray(0, 123).toString('utf8').replace(/\uFFFD$/, ''), 'utf8');
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return frame(Opcode.Close, payload);
}
