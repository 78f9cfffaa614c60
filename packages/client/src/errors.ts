import { ErrorCode } from '@tidings/protocol';

/** Codes the client itself produces; the server's are in `@tidings/protocol` (100 and up). */
export const ClientErrorCode = {
  /** No reply within the `timeout` option. */
  Timeout: 1,
  /** The connection closed before the reply came; the command may or may not have taken effect. */
  ConnectionClosed: 2,
  /** The transport failed (could not connect, or broke). */
  Transport: 3,
  /** `getToken()` failed for a reason other than a refusal; the client retries. */
  TokenUnavailable: 4,
} as const;

/**
 * An error with the protocol's numeric `code` (a server error code, or a {@link ClientErrorCode}).
 * `idempotencyKey` comes with `outcome_unknown` (119) from a publish: publish the same data again
 * with `{idempotencyKey}` and it is published exactly once.
 */
export class TidingsError extends Error {
  constructor(readonly code: number, message: string, readonly idempotencyKey?: string) {
    super(message);
    this.name = 'TidingsError';
  }
}

/**
 * Throw this from `getToken()` when the user may not connect at all (e.g. the
 * backend answered 401/403): the client stops reconnecting and reports it.
 */
export class UnauthorizedError extends TidingsError {
  constructor(message = 'unauthorized') {
    super(ErrorCode.Unauthorized, message);
    this.name = 'UnauthorizedError';
  }
}

/** True for errors that mean "this user is refused", whichever bundle created them. */
export function isUnauthorized(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === ErrorCode.Unauthorized;
}

export function toError(err: unknown, code: number): TidingsError {
  if (err instanceof TidingsError) return err;
  return new TidingsError(code, err instanceof Error ? err.message : String(err));
}
