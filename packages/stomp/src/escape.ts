import { StompParseError, quote } from './errors.js';
import type { StompVersion } from './frame.js';

const DECODE_12: Readonly<Record<string, string>> = { r: '\r', n: '\n', c: ':', '\\': '\\' };
const DECODE_11: Readonly<Record<string, string>> = { n: '\n', c: ':', '\\': '\\' };
const ENCODE_12: Readonly<Record<string, string>> = { '\r': '\\r', '\n': '\\n', ':': '\\c', '\\': '\\\\' };
const ENCODE_11: Readonly<Record<string, string>> = { '\n': '\\n', ':': '\\c', '\\': '\\\\' };

const NEEDS_ENCODE_12 = /[\r\n:\\]/;
const NEEDS_ENCODE_11 = /[\n:\\]/;

/**
 * Decodes the escape sequences of `version` in a header name or value.
 * 1.2: `\r \n \c \\`; 1.1: `\n \c \\`; 1.0: none (returned unchanged).
 * Any other backslash sequence, or a trailing backslash, is a StompParseError.
 */
export function unescapeHeader(text: string, version: StompVersion): string | StompParseError {
  if (version === '1.0' || text.indexOf('\\') < 0) return text;
  const table = version === '1.2' ? DECODE_12 : DECODE_11;
  let out = '';
  let from = 0;
  for (let i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', from)) {
    const next = text[i + 1];
    const decoded = next === undefined ? undefined : table[next];
    if (decoded === undefined) {
      const seq = next === undefined ? '\\ at end' : `\\${next}`;
      return new StompParseError('bad-escape', `undefined escape sequence ${seq} in STOMP ${version} header ${quote(text)}`);
    }
    out += text.slice(from, i) + decoded;
    from = i + 2;
  }
  return out + text.slice(from);
}

/**
 * Encodes a header name or value with the escape sequences of `version`;
 * 1.0 text is returned unchanged. `unescapeHeader(escapeHeader(t, v), v) === t`.
 */
export function escapeHeader(text: string, version: StompVersion): string {
  if (version === '1.0') return text;
  const [test, table] = version === '1.2' ? [NEEDS_ENCODE_12, ENCODE_12] : [NEEDS_ENCODE_11, ENCODE_11];
  if (!test.test(text)) return text;
  let out = '';
  for (const ch of text) out += table[ch] ?? ch;
  return out;
}
