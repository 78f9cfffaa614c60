import { CloseCode, ErrorCode, errorInfo, isApplicationCode } from '@tidings/protocol';
import { header, type StompFrame, type StompParseError } from '@tidings/stomp';
import { AuthError } from '../auth/jwt.js';
import { EngineUnavailableError, IdempotencyConflictError, OutcomeUnknownError } from '../engine/engine.js';
import { TidingsError } from '../errors.js';

/**
 * The close code for an error code: auth and permission codes keep theirs; an application code
 * (4000–4999, from the app backend) is its own close code; temporary errors say reconnect.
 */
export function closeFor(code: number): number {
  if (isApplicationCode(code)) return code;
  switch (code) {
    case ErrorCode.Unauthorized: return CloseCode.InvalidToken;
    case ErrorCode.TokenExpired: return CloseCode.TokenExpired;
    case ErrorCode.PermissionDenied: return CloseCode.PermissionDenied;
    case ErrorCode.ShuttingDown: return CloseCode.Shutdown;
    default: return errorInfo(code)?.temporary ? CloseCode.ForceReconnect : CloseCode.BadRequest;
  }
}

/**
 * A failure that ends a STOMP connection: the client gets an ERROR frame (`message` is short,
 * the body says more), then the connection closes with `close` (by default the one for `code`).
 */
export class StompError extends Error {
  readonly close: number;

  constructor(
    message: string,
    readonly code: number = ErrorCode.BadRequest,
    close?: number,
    readonly detail = '',
    readonly headers: ReadonlyArray<readonly [string, string]> = [],
  ) {
    super(message);
    this.name = 'StompError';
    this.close = close ?? closeFor(code);
  }
}

/** The first value of header `name`; throws StompError when the frame lacks it. */
export function required(frame: StompFrame, name: string): string {
  const v = header(frame, name);
  if (v === undefined) throw new StompError(`${frame.command} needs a '${name}' header`, ErrorCode.BadRequest);
  return v;
}

const TOO_LARGE: ReadonlySet<string> = new Set(['frame-too-large', 'too-many-headers', 'header-too-long']);

export function fromParseError(err: StompParseError): StompError {
  if (err.code === 'unknown-command') return new StompError(err.message, ErrorCode.UnknownCommand);
  if (TOO_LARGE.has(err.code)) return new StompError(err.message, ErrorCode.MessageTooLarge);
  return new StompError(err.message, ErrorCode.BadRequest);
}

/**
 * The StompError for any failure while handling a frame. `internal` is called for failures
 * that are not the client's doing (they are logged there and reported as internal).
 */
export function toStompError(err: unknown, internal: (err: unknown) => void): StompError {
  if (err instanceof StompError) return err;
  if (err instanceof AuthError || err instanceof TidingsError) return new StompError(err.message, err.code);
  if (err instanceof EngineUnavailableError) return new StompError(err.message, ErrorCode.EngineUnavailable);
  if (err instanceof IdempotencyConflictError) return new StompError(err.message, ErrorCode.Conflict);
  if (err instanceof OutcomeUnknownError) {
    const key = err.idempotencyKey;
    if (key === undefined) return new StompError(err.message, ErrorCode.OutcomeUnknown);
    return new StompError(err.message, ErrorCode.OutcomeUnknown, undefined, 'SEND it again with this x-idempotency-key and it is published exactly once', [['x-idempotency-key', key]]);
  }
  internal(err);
  return new StompError('internal error', ErrorCode.Internal);
}
