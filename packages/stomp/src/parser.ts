import { ByteAccumulator } from './bytes.js';
import { StompParseError, quote } from './errors.js';
import { unescapeHeader } from './escape.js';
import {
  CLIENT_COMMANDS,
  SERVER_COMMANDS,
  header,
  isEscapeExempt,
  isIncomingCommand,
  type StompCommand,
  type StompFrame,
  type StompHeader,
  type StompSide,
  type StompVersion,
} from './frame.js';

export interface StompLimits {
  /** Bytes of one frame from the first byte of its command up to, not including, its NUL. */
  maxFrameSize: number;
  /** Header lines in one frame. */
  maxHeaders: number;
  /** Bytes of one header line, escaped, without its EOL. */
  maxHeaderLength: number;
}

export const DEFAULT_LIMITS: Readonly<StompLimits> = Object.freeze({
  maxFrameSize: 64 * 1024,
  maxHeaders: 64,
  maxHeaderLength: 8 * 1024,
});

export interface StompParserOptions {
  side: StompSide;
  /** Until negotiation: 1.0, so nothing is unescaped. */
  version?: StompVersion;
  limits?: Partial<StompLimits>;
  onFrame: (frame: StompFrame) => void;
  /** Called once per EOL (LF or CRLF) between frames. */
  onHeartbeat?: () => void;
}

const LF = 10;
const CR = 13;
const NUL = 0;
const COLON = 58;
/** "UNSUBSCRIBE".length */
const LONGEST_COMMAND = 11;
const EMPTY = new Uint8Array(0);

const IDLE = 0;
const IDLE_CR = 1;
const HEAD = 2;
const BODY_FIXED = 3;
const BODY_NUL = 4;
const EXPECT_NUL = 5;
type State = typeof IDLE | typeof IDLE_CR | typeof HEAD | typeof BODY_FIXED | typeof BODY_NUL | typeof EXPECT_NUL;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { ignoreBOM: true });

/** Strict UTF-8 decoding, with a fast path for short ASCII text; throws on invalid input. */
function decodeUtf8(data: Uint8Array): string {
  if (data.length > 64) return utf8.decode(data);
  let out = '';
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number;
    if (b >= 0x80) return utf8.decode(data);
    out += String.fromCharCode(b);
  }
  return out;
}

/** True when `line` can begin the command line (command, optional CR) of a frame the peer of `side` may send. */
function isIncomingCommandStart(side: StompSide, line: string): boolean {
  const commands = side === 'server' ? CLIENT_COMMANDS : SERVER_COMMANDS;
  return commands.some((c) => `${c}\r`.startsWith(line));
}

function checkLimit(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * A streaming STOMP frame parser: bytes in, frames out, no I/O.
 *
 * Guarantees:
 * - Frames are delivered to `onFrame` in wire order, synchronously inside `push`,
 *   whatever the chunking; a change to `version` made inside `onFrame` applies to
 *   the next frame, even one already in the same chunk.
 * - Delivered frames own their memory: nothing aliases a pushed chunk, so the caller
 *   may reuse its buffers.
 * - Malformed input never throws: `push` returns a StompParseError, and the parser
 *   stays failed, returning that same error from every later `push`.
 * - Memory held is bounded by `limits.maxFrameSize` plus the current chunk.
 * - If a handler throws, the exception propagates and the parser stays failed with
 *   code `handler-threw`.
 */
export class StompParser {
  /** The negotiated version; decides header unescaping. */
  version: StompVersion;
  readonly side: StompSide;
  readonly limits: Readonly<StompLimits>;

  private readonly onFrame: (frame: StompFrame) => void;
  private readonly onHeartbeat: (() => void) | undefined;
  private state: State = IDLE;
  private failure: StompParseError | undefined;
  private command: StompCommand | undefined;
  private headers: StompHeader[] = [];
  private frameBytes = 0;
  /** A header line or a body (without content-length) not yet complete. */
  private pending = new ByteAccumulator();
  private body: Uint8Array = EMPTY;
  private bodyFilled = 0;

  constructor(options: StompParserOptions) {
    this.side = options.side;
    this.version = options.version ?? '1.0';
    const limits = options.limits ?? {};
    this.limits = Object.freeze({
      maxFrameSize: checkLimit('maxFrameSize', limits.maxFrameSize ?? DEFAULT_LIMITS.maxFrameSize),
      maxHeaders: checkLimit('maxHeaders', limits.maxHeaders ?? DEFAULT_LIMITS.maxHeaders),
      maxHeaderLength: checkLimit('maxHeaderLength', limits.maxHeaderLength ?? DEFAULT_LIMITS.maxHeaderLength),
    });
    this.onFrame = options.onFrame;
    this.onHeartbeat = options.onHeartbeat;
  }

  /**
   * True between frames (nothing partly read) and not failed: a new parser of the same `version`
   * would go on reading the stream alike, so a caller may drop this one while its peer is quiet.
   */
  get atFrameBoundary(): boolean {
    return this.state === IDLE && this.failure === undefined;
  }

  /** The error that stopped this parser, if any. */
  get error(): StompParseError | undefined {
    return this.failure;
  }

  /** Feeds the next bytes of the stream. Returns the parser's error, if it has failed. */
  push(chunk: Uint8Array): StompParseError | undefined {
    let pos = 0;
    try {
      while (pos < chunk.length && this.failure === undefined) pos = this.step(chunk, pos);
    } catch (e) {
      this.failure ??= new StompParseError('handler-threw', 'a frame handler threw; the stream position is lost', { cause: e });
      throw e;
    }
    return this.failure;
  }

  private step(chunk: Uint8Array, pos: number): number {
    switch (this.state) {
      case IDLE:
        return this.idle(chunk, pos);
      case IDLE_CR:
        if (chunk[pos] !== LF) return this.fail('bad-eol', 'CR not followed by LF between frames');
        this.state = IDLE;
        this.onHeartbeat?.();
        return pos + 1;
      case HEAD:
        return this.head(chunk, pos);
      case BODY_FIXED:
        return this.bodyFixed(chunk, pos);
      case BODY_NUL:
        return this.bodyUntilNul(chunk, pos);
      case EXPECT_NUL:
        if (chunk[pos] !== NUL) {
          return this.fail('missing-nul', `expected NUL after a content-length body of ${this.body.length} bytes, got byte ${chunk[pos]}`);
        }
        this.finish(this.body);
        return pos + 1;
    }
  }

  private fail(code: StompParseError['code'], message: string): number {
    this.failure = new StompParseError(code, message);
    return Number.POSITIVE_INFINITY;
  }

  private idle(chunk: Uint8Array, pos: number): number {
    const b = chunk[pos];
    if (b === LF) {
      this.onHeartbeat?.();
      return pos + 1;
    }
    if (b === CR) {
      this.state = IDLE_CR;
      return pos + 1;
    }
    this.state = HEAD;
    return pos;
  }

  private head(chunk: Uint8Array, pos: number): number {
    const lf = chunk.indexOf(LF, pos);
    if (lf < 0) {
      this.pending.append(chunk.subarray(pos));
      this.checkPartialLine();
      return chunk.length;
    }
    const tail = chunk.subarray(pos, lf);
    const line = this.pending.length === 0 ? tail : this.pending.take(tail);
    this.frameBytes += line.length + 1;
    this.line(line);
    return lf + 1;
  }

  private checkPartialLine(): void {
    const length = this.pending.length;
    if (this.command === undefined) {
      const start = this.pending.peek();
      if (length > LONGEST_COMMAND + 1 || !isIncomingCommandStart(this.side, String.fromCharCode(...start))) {
        this.unknownCommand(start);
      }
    } else if (length > this.limits.maxHeaderLength + 1) {
      this.fail('header-too-long', `header line longer than ${this.limits.maxHeaderLength} bytes`);
    } else if (this.frameBytes + length > this.limits.maxFrameSize) {
      this.tooLarge();
    }
  }

  private tooLarge(): void {
    this.fail('frame-too-large', `frame larger than ${this.limits.maxFrameSize} bytes`);
  }

  private unknownCommand(line: Uint8Array): void {
    const text = lossy.decode(line.subarray(0, 40));
    this.fail('unknown-command', `unknown ${this.side === 'server' ? 'client' : 'server'} command ${quote(text)}`);
  }

  private line(raw: Uint8Array): void {
    const line = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, raw.length - 1) : raw;
    if (this.command === undefined) {
      const text = line.length <= LONGEST_COMMAND ? String.fromCharCode(...line) : '';
      if (!isIncomingCommand(this.side, text)) return this.unknownCommand(line);
      this.command = text;
    } else if (line.length === 0) {
      this.endOfHeaders();
    } else if (line.length > this.limits.maxHeaderLength) {
      this.fail('header-too-long', `header line of ${line.length} bytes, the limit is ${this.limits.maxHeaderLength}`);
    } else if (this.headers.length >= this.limits.maxHeaders) {
      this.fail('too-many-headers', `more than ${this.limits.maxHeaders} headers in a ${this.command} frame`);
    } else {
      this.header(line);
    }
    if (this.failure === undefined && this.frameBytes > this.limits.maxFrameSize) this.tooLarge();
  }

  private header(line: Uint8Array): void {
    const colon = line.indexOf(COLON);
    if (colon <= 0) {
      const what = colon < 0 ? "header line without ':'" : 'header with an empty name';
      this.fail('bad-header', `${what}: ${quote(lossy.decode(line.subarray(0, 40)))}`);
      return;
    }
    let name: string;
    let value: string;
    try {
      name = decodeUtf8(line.subarray(0, colon));
      value = decodeUtf8(line.subarray(colon + 1));
    } catch {
      this.fail('bad-utf8', 'header is not valid UTF-8');
      return;
    }
    if (!isEscapeExempt(this.command ?? '')) {
      const n = unescapeHeader(name, this.version);
      if (typeof n !== 'string') {
        this.failure = n;
        return;
      }
      const v = unescapeHeader(value, this.version);
      if (typeof v !== 'string') {
        this.failure = v;
        return;
      }
      name = n;
      value = v;
    }
    this.headers.push([name, value]);
  }

  private endOfHeaders(): void {
    const length = header({ headers: this.headers }, 'content-length');
    if (length === undefined) {
      this.state = BODY_NUL;
      return;
    }
    if (!/^[0-9]{1,15}$/.test(length)) {
      this.fail('bad-content-length', `content-length must be a decimal byte count, got ${quote(length)}`);
      return;
    }
    const n = Number(length);
    if (this.frameBytes + n > this.limits.maxFrameSize) return this.tooLarge();
    this.body = n === 0 ? EMPTY : new Uint8Array(n);
    this.bodyFilled = 0;
    this.state = n === 0 ? EXPECT_NUL : BODY_FIXED;
  }

  private bodyFixed(chunk: Uint8Array, pos: number): number {
    const take = Math.min(this.body.length - this.bodyFilled, chunk.length - pos);
    this.body.set(chunk.subarray(pos, pos + take), this.bodyFilled);
    this.bodyFilled += take;
    if (this.bodyFilled === this.body.length) this.state = EXPECT_NUL;
    return pos + take;
  }

  private bodyUntilNul(chunk: Uint8Array, pos: number): number {
    const nul = chunk.indexOf(NUL, pos);
    const end = nul < 0 ? chunk.length : nul;
    if (this.frameBytes + this.pending.length + (end - pos) > this.limits.maxFrameSize) {
      this.tooLarge();
      return end;
    }
    if (nul < 0) {
      this.pending.append(chunk.subarray(pos));
      return end;
    }
    this.finish(this.pending.take(chunk.subarray(pos, nul)));
    return nul + 1;
  }

  private finish(body: Uint8Array): void {
    const frame: StompFrame = { command: this.command as StompCommand, headers: this.headers, body };
    this.state = IDLE;
    this.command = undefined;
    this.headers = [];
    this.frameBytes = 0;
    this.body = EMPTY;
    this.onFrame(frame);
  }
}
