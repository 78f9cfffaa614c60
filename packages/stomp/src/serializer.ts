import { quote } from './errors.js';
import { escapeHeader } from './escape.js';
import { isEscapeExempt, isStompCommand, type StompCommand, type StompVersion } from './frame.js';

export interface OutgoingFrame {
  command: StompCommand;
  headers?: readonly (readonly [name: string, value: string])[];
  /** A string is sent as UTF-8. */
  body?: Uint8Array | string;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function headerLine(name: string, value: string, escapeAs: StompVersion | undefined): string {
  if (name === '') throw new TypeError('STOMP header names cannot be empty');
  if (escapeAs !== undefined) {
    const line = `${escapeHeader(name, escapeAs)}:${escapeHeader(value, escapeAs)}`;
    if (line.endsWith('\r')) throw new TypeError(`STOMP ${escapeAs} cannot carry header ${quote(name)}: its value ends with CR`);
    return line;
  }
  if (name.includes(':') || name.includes('\n') || value.includes('\n') || value.endsWith('\r')) {
    throw new TypeError(`header ${quote(name)} cannot be sent unescaped: it holds ':' in the name, LF, or a trailing CR`);
  }
  return `${name}:${value}`;
}

/**
 * Encodes one frame: command, headers in order, `content-length` when the body is
 * non-empty, a blank line, the body byte for byte, and NUL. Lines end with LF.
 *
 * Header names and values are escaped for `version`, except in CONNECT, STOMP and
 * CONNECTED frames. Any `content-length` among `headers` is dropped and replaced by
 * the body's true length, so bodies may hold NUL. What a StompParser of the same
 * version reads back equals the input (plus that `content-length`).
 *
 * Throws TypeError for a frame that this version cannot represent (e.g. LF in a
 * header of a 1.0 frame). Lone UTF-16 surrogates are encoded as U+FFFD.
 */
export function serializeFrame(frame: OutgoingFrame, version: StompVersion): Uint8Array {
  if (!isStompCommand(frame.command)) throw new TypeError(`unknown STOMP command ${quote(String(frame.command))}`);
  const escapeAs = isEscapeExempt(frame.command) || version === '1.0' ? undefined : version;
  const body = typeof frame.body === 'string' ? encoder.encode(frame.body) : (frame.body ?? EMPTY);
  let head = `${frame.command}\n`;
  for (const [name, value] of frame.headers ?? []) {
    if (name !== 'content-length') head += `${headerLine(name, value, escapeAs)}\n`;
  }
  if (body.length > 0) head += `content-length:${body.length}\n`;
  head += '\n';
  // a frame without a body (most the server sends) is encoded in one go
  if (body.length === 0) return encoder.encode(`${head}\0`);
  const headBytes = encoder.encode(head);
  const out = new Uint8Array(headBytes.length + body.length + 1);
  out.set(headBytes, 0);
  out.set(body, headBytes.length);
  // The last byte stays 0: the NUL that ends the frame.
  return out;
}
