import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { splitOutsideQuotes } from '../http/header-values.js';

/**
 * permessage-deflate (RFC 7692) on node:zlib, synchronously and without a zlib stream per
 * connection:
 * - `on`: the server compresses each message on its own (`server_no_context_takeover`), so one
 *   compressed frame per broadcast serves every compressing subscriber (see `Deflater.frame`).
 * - `takeover`: the server keeps context. Instead of a zlib stream per connection (~256 KiB),
 *   each connection keeps the last HISTORY_BYTES of what it was sent compressed, and every message
 *   is compressed with them as a preset dictionary: the client's window holds those bytes, so
 *   back-references into them decode as with a running stream. Costs one compression per message
 *   per connection.
 * Either way the answer asks `client_no_context_takeover`, which a client must then honor (§7.1.1.2):
 * each client message inflates on its own, with no inflate state kept per connection.
 */
export type Compression = 'off' | 'on' | 'takeover';

/**
 * Messages (payload bytes) shorter than this are sent uncompressed when compressed alone (mode
 * `on`): at 128 bytes deflate saves about 20 of them, below it nearly nothing, and each call
 * costs tens of microseconds.
 */
export const MIN_COMPRESS_BYTES = 128;
/** Bytes of history a `takeover` connection keeps (at most its window): its memory cost. */
export const HISTORY_BYTES = 4096;
/**
 * The compressor's window and memLevel with context: a window just over the history, and a small
 * hash, keep zlib's state per call at 48 KiB instead of 256 KiB (less CPU to set up, and far less
 * heap fragmentation when a call per connection interleaves with the histories kept).
 */
const TAKEOVER_WINDOW_BITS = 13;
const TAKEOVER_MEM_LEVEL = 5;

/** The empty stored block that ends every message; stripped on send, appended on receive (RFC 7692 §7.2.1, §7.2.2). */
export const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const RSV1 = 0x40;

/** The agreed permessage-deflate of one connection: the `Sec-WebSocket-Extensions` answer and the server's compressor. */
export interface Negotiated {
  readonly header: string;
  readonly deflater: Deflater;
}

/** One extension of a `Sec-WebSocket-Extensions` list: its name and parameters (`true`: no value). */
interface Extension {
  readonly name: string;
  readonly params: Array<[string, string | true]>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BITS = /^(?:8|9|1[0-5])$/;

/** Parses a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1); an unparsable element is skipped. */
export function parseExtensions(header: string): Extension[] {
  const out: Extension[] = [];
  for (const element of splitOutsideQuotes(header, ',')) {
    const [name = '', ...rest] = splitOutsideQuotes(element, ';').map((p) => p.trim());
    if (!TOKEN.test(name)) continue;
    const params: Array<[string, string | true]> = [];
    let valid = true;
    for (const p of rest) {
      const eq = p.indexOf('=');
      const key = (eq < 0 ? p : p.slice(0, eq)).trim();
      let value: string | true = eq < 0 ? true : p.slice(eq + 1).trim();
      if (typeof value === 'string' && value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (!TOKEN.test(key) || (value !== true && !TOKEN.test(value))) valid = false;
      params.push([key, value]);
    }
    if (valid) out.push({ name: name.toLowerCase(), params });
  }
  return out;
}

/**
 * The answer to the first acceptable `permessage-deflate` offer in `header`, or `undefined`
 * (answer without the extension). An offer is declined (RFC 7692 §5, §7.1) when it has an unknown
 * or repeated parameter, a value where none belongs, a window size outside 8–15, or
 * `server_max_window_bits=8` (zlib's raw deflate has no 256-byte window).
 */
export function negotiateDeflate(header: string | undefined, mode: Compression): Negotiated | undefined {
  if (mode === 'off' || header === undefined) return undefined;
  for (const offer of parseExtensions(header)) {
    if (offer.name !== 'permessage-deflate') continue;
    const seen = new Set<string>();
    let serverNoContext = mode === 'on';
    let serverBits: number | undefined;
    let ok = true;
    for (const [key, value] of offer.params) {
      if (seen.has(key)) ok = false;
      seen.add(key);
      if (key === 'server_no_context_takeover' || key === 'client_no_context_takeover') {
        if (value !== true) ok = false;
        if (key === 'server_no_context_takeover') serverNoContext = true;
      } else if (key === 'server_max_window_bits') {
        if (value === true || !BITS.test(value) || value === '8') ok = false;
        else serverBits = Number(value);
      } else if (key === 'client_max_window_bits') {
        if (value !== true && !BITS.test(value)) ok = false;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    const bits = serverBits ?? 15;
    const answer = 'permessage-deflate; client_no_context_takeover' + (serverNoContext ? '; server_no_context_takeover' : '') +
      (serverBits === undefined ? '' : `; server_max_window_bits=${serverBits}`);
    return { header: answer, deflater: serverNoContext ? sharedDeflater(bits) : new Deflater(bits, true) };
  }
  return undefined;
}

/** Payload offset of an unmasked frame. */
function payloadOffset(frame: Buffer): number {
  const len7 = frame[1]! & 0x7f;
  return len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
}

/**
 * The raw deflate of `payload` with the trailing empty block removed. `memLevel` sizes zlib's hash
 * table and output buffer: its state is 2^(windowBits+2) + 2^(memLevel+9) bytes per call.
 */
function deflatePayload(payload: Buffer, windowBits: number, dictionary: Buffer | undefined, memLevel = 8): Buffer {
  // the output buffer fits the usual message (deflate grows incompressible data by a few bytes), not zlib's 16 KiB default
  const chunkSize = Math.min(constants.Z_DEFAULT_CHUNK, payload.length + 64);
  const out = deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH, windowBits, memLevel, chunkSize, ...(dictionary ? { dictionary } : {}) });
  return out.subarray(0, out.length - DEFLATE_TAIL.length);
}

/** A final frame with RSV1 set and opcode `opcode`, holding `compressed`. */
function compressedFrame(opcode: number, compressed: Buffer): Buffer {
  const header = compressed.length < 126 ? 2 : compressed.length < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + compressed.length);
  out[0] = 0x80 | RSV1 | opcode;
  if (header === 2) {
    out[1] = compressed.length;
  } else if (header === 4) {
    out[1] = 126;
    out.writeUInt16BE(compressed.length, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(compressed.length / 2 ** 32), 2);
    out.writeUInt32BE(compressed.length >>> 0, 6);
  }
  compressed.copy(out, header);
  return out;
}

/**
 * The last plain frame compressed without context, and its compressed frames by window bits
 * (index `bits - 9`; the plain frame itself when compressing did not pay). Frames are compared by
 * identity: `textFrame` returns the same Buffer for the same messages of a broadcast.
 */
let lastPlain: Buffer | undefined;
const lastCompressed: Array<Buffer | undefined> = [];

/**
 * The server's compressor for one connection. Without context (`takeover` false) it holds no
 * state and is shared by every connection with the same window; with context it keeps the
 * connection's history (at most HISTORY_BYTES).
 */
export class Deflater {
  private history: Buffer | undefined = undefined;

  constructor(
    /** The LZ77 window, 9–15 (`server_max_window_bits`). */
    readonly windowBits: number,
    /** The server keeps context across messages. */
    readonly takeover: boolean,
  ) {}

  /**
   * The frame to send for `plain`, a final unmasked text or binary frame (frames.ts): the same
   * message compressed with RSV1 set, or `plain` itself when compressing does not pay (a short
   * message, or one deflate does not shrink). Without context the result for the same `plain`
   * Buffer is built once and shared.
   */
  frame(plain: Buffer): Buffer {
    if (this.takeover) return this.withContext(plain);
    const slot = this.windowBits - 9;
    if (plain === lastPlain) {
      const cached = lastCompressed[slot];
      if (cached !== undefined) return cached;
    } else {
      lastPlain = plain;
      lastCompressed.fill(undefined);
    }
    const at = payloadOffset(plain);
    let out = plain;
    if (plain.length - at >= MIN_COMPRESS_BYTES) {
      const compressed = deflatePayload(plain.subarray(at), this.windowBits, undefined);
      if (compressed.length < plain.length - at) out = compressedFrame(plain[0]! & 0x0f, compressed);
    }
    lastCompressed[slot] = out;
    return out;
  }

  private withContext(plain: Buffer): Buffer {
    const payload = plain.subarray(payloadOffset(plain));
    if (payload.length === 0) return plain;
    const compressed = deflatePayload(payload, Math.min(this.windowBits, TAKEOVER_WINDOW_BITS), this.history, TAKEOVER_MEM_LEVEL);
    if (compressed.length >= payload.length) return plain;
    const keep = Math.min(HISTORY_BYTES, 1 << this.windowBits);
    const previous = this.history;
    const fromPrevious = previous === undefined ? 0 : Math.min(previous.length, Math.max(0, keep - payload.length));
    const history = Buffer.allocUnsafeSlow(fromPrevious + Math.min(payload.length, keep));
    if (previous !== undefined) previous.copy(history, 0, previous.length - fromPrevious);
    payload.copy(history, fromPrevious, payload.length - (history.length - fromPrevious));
    this.history = history;
    return compressedFrame(plain[0]! & 0x0f, compressed);
  }
}

const shared = new Map<number, Deflater>();

/** The stateless compressor for `windowBits`, one per window size. */
function sharedDeflater(windowBits: number): Deflater {
  let d = shared.get(windowBits);
  if (d === undefined) shared.set(windowBits, (d = new Deflater(windowBits, false)));
  return d;
}

/** Why a compressed message could not be read: over the size limit once inflated (1009), or not valid deflate data (1007). */
export class InflateError extends Error {
  constructor(readonly code: 1007 | 1009, message: string) {
    super(message);
  }
}

/**
 * Inflates one client message (its payloads joined, DEFLATE_TAIL appended). Stops as soon as the
 * output passes `limit` bytes: at most about `limit` plus one 16 KiB chunk is ever allocated,
 * whatever the ratio.
 * @throws InflateError
 */
export function inflateMessage(data: Buffer, limit: number): Buffer {
  try {
    return inflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: limit });
  } catch (err) {
    if (err instanceof RangeError) throw new InflateError(1009, `message over the ${limit}-byte limit once inflated`);
    throw new InflateError(1007, 'invalid compressed data');
  }
}
