import type { IncomingHttpHeaders } from 'node:http';

/** What a handler needs of an HTTP request's head: node:http's IncomingMessage, or a head parsed by hand. */
export interface RequestHead {
  method?: string;
  url?: string;
  httpVersion?: string;
  headers: IncomingHttpHeaders;
  /** The connection: its peer's address, and whether it is TLS (see ProxyTrust for the client's). */
  socket?: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean | undefined };
}

/** A head read by `RequestHeadParser`: every field is present. */
export interface ParsedHead extends RequestHead {
  method: string;
  url: string;
  httpVersion: string;
}

/** The largest request head accepted, request line and blank line included (node:http's default too). */
export const MAX_HEAD_BYTES = 16 * 1024;

export type HeadResult =
  | { ok: true; head: ParsedHead; rest: Buffer }
  | { ok: false; status: 400 | 431; message: string };

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^\d{1,15}$/;

/** Headers node:http keeps the first of when repeated (IncomingMessage#_addHeaderLine). */
const FIRST_WINS = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization',
  'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag',
  'last-modified', 'server', 'age', 'expires',
]);

function refuse(message: string, status: 400 | 431 = 400): HeadResult {
  return { ok: false, status, message };
}

/**
 * An incremental, strict HTTP/1.0 and 1.1 request-head parser: feed it chunks as they arrive;
 * it answers once the head is complete (the head, and the bytes after it) or refused (400, or 431
 * over MAX_HEAD_BYTES). Lines end with CRLF: a bare LF or CR, obs-fold, a malformed request line,
 * header name or value, a repeated Host or Content-Length, or Content-Length with Transfer-Encoding
 * are refused. Empty lines before the request line are skipped (RFC 9112 §2.2). Headers are shaped
 * like node:http's: lowercase names, repeats joined with `, ` (`cookie` with `; `), the first kept
 * for the fields node:http keeps the first of.
 */
export class RequestHeadParser {
  private readonly chunks: Buffer[] = [];
  /** Bytes seen so far, leading empty lines included. */
  private seen = 0;
  /** How much of CRLF CRLF ends what was scanned. */
  private matched = 0;
  /** Still before the request line: only CRLF pairs so far. */
  private leading = true;
  private result: HeadResult | undefined;

  /** Feeds the next bytes; returns the result once there is one (and the same result ever after). */
  push(chunk: Buffer): HeadResult | undefined {
    if (this.result) return this.result;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      this.seen++;
      if (this.seen > MAX_HEAD_BYTES) return this.finish(refuse(`request head over ${MAX_HEAD_BYTES} bytes`, 431));
      if (this.leading) {
        if (this.matched === 1) {
          if (b !== LF) return this.finish(refuse('CR without LF'));
          this.matched = 0;
          start = i + 1;
          continue;
        }
        if (b === CR) {
          this.matched = 1;
          continue;
        }
        if (b === LF) return this.finish(refuse('bare LF'));
        this.leading = false;
      }
      if (b === CR) {
        if (this.matched === 1 || this.matched === 3) return this.finish(refuse('CR without LF'));
        this.matched++;
      } else if (b === LF) {
        if (this.matched !== 1 && this.matched !== 3) return this.finish(refuse('bare LF'));
        if (++this.matched === 4) {
          this.chunks.push(chunk.subarray(start, i + 1));
          const rest = i + 1 < chunk.length ? chunk.subarray(i + 1) : EMPTY;
          return this.finish(parseHead(Buffer.concat(this.chunks).toString('latin1'), rest));
        }
      } else {
        if (this.matched === 1 || this.matched === 3) return this.finish(refuse('CR without LF'));
        this.matched = 0;
      }
    }
    if (!this.leading && start < chunk.length) this.chunks.push(chunk.subarray(start));
    return undefined;
  }

  private finish(result: HeadResult): HeadResult {
    this.result = result;
    this.chunks.length = 0;
    return result;
  }
}

/** Parses a complete head: the request line and header lines, each ending in CRLF, then CRLF. */
function parseHead(text: string, rest: Buffer): HeadResult {
  const lines = text.slice(0, -4).split('\r\n');
  const requestLine = lines[0]!.split(' ');
  if (requestLine.length !== 3) return refuse('malformed request line');
  const [method, url, version] = requestLine as [string, string, string];
  if (!TOKEN.test(method)) return refuse('malformed request method');
  if (!TARGET.test(url)) return refuse('malformed request target');
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return refuse('unsupported HTTP version');
  // null prototype, as node:http's: a header named `__proto__` or `constructor` is a header like any other
  const headers = Object.create(null) as IncomingHttpHeaders;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line[0] === ' ' || line[0] === '\t') return refuse('obsolete line folding');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).toLowerCase() : '';
    if (!TOKEN.test(name)) return refuse('malformed header name');
    const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '');
    if (!FIELD_VALUE.test(value)) return refuse(`invalid character in header ${name}`);
    const problem = addHeader(headers, name, value);
    if (problem) return refuse(problem);
  }
  const httpVersion = version.slice(5);
  const length = headers['content-length'];
  if (length !== undefined && !DIGITS.test(length)) return refuse('malformed Content-Length');
  if (length !== undefined && headers['transfer-encoding'] !== undefined) return refuse('Content-Length together with Transfer-Encoding');
  if (httpVersion === '1.1' && headers.host === undefined) return refuse('an HTTP/1.1 request needs a Host header');
  return { ok: true, head: { method, url, httpVersion, headers }, rest };
}

function addHeader(headers: IncomingHttpHeaders, name: string, value: string): string | undefined {
  const before = headers[name];
  if (before === undefined) {
    headers[name] = name === 'set-cookie' ? [value] : value;
    return undefined;
  }
  if (name === 'host' || name === 'content-length') return `repeated ${name} header`;
  if (FIRST_WINS.has(name)) return undefined;
  if (Array.isArray(before)) before.push(value);
  else headers[name] = `${before}${name === 'cookie' ? '; ' : ', '}${value}`;
  return undefined;
}
