import { CloseCode, ErrorCode } from '@tidings/protocol';
import { header, type StompFrame, type StompParseError } from '@tidings/stomp';
import { AuthError } from '../auth/jwt.js';
import { EngineUnavailableError, IdempotencyConflictError } from '../engine/engine.js';
import { TidingsError } from '../errors.js';

/**
 * A failure that ends a STOMP connection: the client gets an ERROR frame (`message` is short,
 * the body says more), then the connection closes with `close`.
 */
export class StompError extends Error {
  constructor(
    message: string,
    readonly code: number = ErrorCode.BadRequest,
    readonly close: number = CloseCode.BadRequest,
    readonly detail = '',
    readonly headers: ReadonlyArray<readonly [string, string]> = [],
  ) {
    super(message);
    this.name = 'StompError';
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
  if (err instanceof AuthError) {
    return new StompError(err.message, err.code, err.code === ErrorCode.TokenExpired ? CloseCode.TokenExpired : CloseCode.InvalidToken);
  }
  if (err instanceof TidingsError) {
    const close = err.code === ErrorCode.PermissionDenied ? CloseCode.PermissionDenied
      : err.code === ErrorCode.EngineUnavailable || err.code === ErrorCode.LimitExceeded ? CloseCode.ForceReconnect
      : CloseCode.BadRequest;
    return new StompError(err.message, err.code, close);
  }
  if (err instanceof EngineUnavailableError) return new StompError(err.message, ErrorCode.EngineUnavailable, CloseCode.ForceReconnect);
  if (err instanceof IdempotencyConflictError) return new StompError(err.message, ErrorCode.Conflict);
  internal(err);
  return new StompError('internal error', ErrorCode.Internal, CloseCode.ForceReconnect);
}
