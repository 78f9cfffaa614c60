export type StompParseErrorCode =
  | 'unknown-command'
  | 'bad-escape'
  | 'bad-utf8'
  | 'bad-header'
  | 'bad-content-length'
  | 'missing-nul'
  | 'bad-eol'
  | 'frame-too-large'
  | 'too-many-headers'
  | 'header-too-long'
  | 'handler-threw';

/**
 * A fatal error in the incoming byte stream. The parser that produced it stays
 * failed: the connection should be answered with an ERROR frame and closed.
 */
export class StompParseError extends Error {
  override readonly name = 'StompParseError';
  readonly code: StompParseErrorCode;

  constructor(code: StompParseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A short printable rendering of untrusted text for error messages. */
export function quote(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
