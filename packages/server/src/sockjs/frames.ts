/**
 * SockJS 0.3.3 frames: `o` (open), `h` (heartbeat), `a[...]` (messages), `c[code,"reason"]`
 * (close). Messages are JSON string literals with the characters browsers mangle escaped.
 */

export const OPEN_FRAME = 'o';
export const HEARTBEAT_FRAME = 'h';

/**
 * Characters escaped beyond JSON's own: C0/C1 controls, format and separator characters, BOMs,
 * specials and surrogates (so astral characters travel as escaped pairs), as the protocol asks.
 */
const ESCAPABLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0604\u070f\u17b4\u17b5\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufeff\ufff0-\uffff\ud800-\udfff]/g;

function escapeChar(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `text` as a JSON string literal safe for every SockJS transport. */
export function quote(text: string): string {
  return JSON.stringify(text).replace(ESCAPABLE, escapeChar);
}

/** The last one-message frame built: a publication reaches every subscriber as the same quoted string. */
let lastQuoted: string | undefined;
let lastFrame = '';

/** An `a` frame of already quoted messages. */
export function messageFrame(quoted: readonly string[]): string {
  if (quoted.length !== 1) return `a[${quoted.join(',')}]`;
  if (quoted[0] !== lastQuoted) {
    lastQuoted = quoted[0]!;
    lastFrame = `a[${lastQuoted}]`;
  }
  return lastFrame;
}

/** A `c` frame; `reason` is cut to 123 bytes' worth of characters like a WebSocket close reason. */
export function closeFrame(code: number, reason: string): string {
  return `c[${code},${quote(reason.slice(0, 123))}]`;
}

/**
 * The messages of a client send: a JSON array of strings (or, on websocket transports, a single
 * JSON string). Undefined when `text` is anything else.
 */
export function parseMessages(text: string, allowString: boolean): string[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value === 'string' && allowString) return [value];
  if (!Array.isArray(value)) return undefined;
  for (const item of value) if (typeof item !== 'string') return undefined;
  return value as string[];
}
