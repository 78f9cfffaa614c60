import { Opcode } from './receiver.js';

/** The header of an unmasked, final frame of `opcode` carrying `length` bytes (RFC 6455 §5.2). */
function frameHeader(opcode: number, length: number): Buffer {
  const size = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const header = Buffer.allocUnsafe(size);
  header[0] = 0x80 | opcode;
  if (size === 2) {
    header[1] = length;
  } else if (size === 4) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 127;
    header.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    header.writeUInt32BE(length >>> 0, 6);
  }
  return header;
}

/** One unmasked, final frame of `opcode` holding `payload`. */
export function frame(opcode: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(opcode, payload.length), payload]);
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
