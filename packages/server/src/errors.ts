import { ErrorCode } from '@tidings/protocol';

/** An error with a code from the protocol's error table; becomes an error reply or an API error. */
export class TidingsError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'TidingsError';
  }
}

export function badRequest(message: string): TidingsError {
  return new TidingsError(ErrorCode.BadRequest, message);
}
