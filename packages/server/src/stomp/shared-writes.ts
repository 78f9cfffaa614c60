import type { Writable } from 'node:stream';
import { headerLength, writeFrameHeader } from '../websocket/frames.js';

/**
 * The last value built from a list of queued parts, kept with those parts (compared by identity,
 * one pointer comparison each) and a tag (e.g. the WebSocket opcode). A publication reaches every
 * subscriber of a channel in the same order within a tick, and a subscription's prefix is
 * interned (see `subscriptionPrefix`), so consecutive connections usually queue exactly the same
 * Buffers: the bytes for them are then built once and written to every socket. The parts are the
 * first `count` entries of an array the caller may reuse afterwards: `remember` keeps a copy.
 */
export class PartsCache<T> {
  private parts: readonly Buffer[] = [];
  private tag = -1;
  private value: T | undefined = undefined;

  /** True when the last `remember` had these parts and tag. */
  matches(parts: readonly Buffer[], count: number, tag: number): boolean {
    const last = this.parts;
    if (tag !== this.tag || count !== last.length) return false;
    for (let i = 0; i < count; i++) if (parts[i] !== last[i]) return false;
    return true;
  }

  /** The value remembered for exactly these parts and tag, if one was. */
  get(parts: readonly Buffer[], count: number, tag: number): T | undefined {
    return this.value !== undefined && this.matches(parts, count, tag) ? this.value : undefined;
  }

  /** Keeps a copy of the first `count` parts (the Buffers themselves must not be modified) and what was built from them, if anything. */
  remember(parts: readonly Buffer[], count: number, tag: number, value: T | undefined): void {
    this.parts = parts.slice(0, count);
    this.tag = tag;
    this.value = value;
  }
}

const NUL = 0;

/**
 * Writes the first `count` of `parts` (`bytes` in all) as one corked write (one writev), in one WebSocket frame of
 * `opcode` (RFC 6455; none when undefined, as over TCP): the frame header and the parts a connection has to itself (a subscription's prefix,
 * its `ack` line: parts not ending in NUL) are copied together with the header into one small
 * Buffer per run, and frame tails (ending in NUL: the headers and body shared by every subscriber)
 * are written by reference, never copied.
 */
export function writeParts(socket: Writable, parts: readonly Buffer[], count: number, bytes: number, opcode: number | undefined): void {
  const headerBytes = opcode === undefined ? 0 : headerLength(bytes);
  let own = headerBytes;
  let shared = 0;
  for (let i = 0; i < count; i++) {
    const part = parts[i]!;
    if (isTail(part)) shared += part.length;
  }
  own += bytes - shared;
  const small = Buffer.allocUnsafe(own);
  if (opcode !== undefined) writeFrameHeader(small, opcode, bytes);
  socket.cork();
  let start = 0;
  let at = headerBytes;
  for (let i = 0; i < count; i++) {
    const part = parts[i]!;
    if (!isTail(part)) {
      at += part.copy(small, at);
      continue;
    }
    if (at > start) socket.write(small.subarray(start, at));
    start = at;
    socket.write(part);
  }
  if (at > start) socket.write(small.subarray(start, at));
  socket.uncork();
}

/** The first `count` of `parts` (`bytes` in all) copied into one Buffer, in one WebSocket frame of `opcode` (none when undefined). */
export function joinParts(parts: readonly Buffer[], count: number, bytes: number, opcode: number | undefined): Buffer {
  const headerBytes = opcode === undefined ? 0 : headerLength(bytes);
  const out = Buffer.allocUnsafe(headerBytes + bytes);
  if (opcode !== undefined) writeFrameHeader(out, opcode, bytes);
  let at = headerBytes;
  for (let i = 0; i < count; i++) at += parts[i]!.copy(out, at);
  return out;
}

function isTail(part: Buffer): boolean {
  return part.length > 0 && part[part.length - 1] === NUL;
}
