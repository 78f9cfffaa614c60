import { ErrorCode } from '@tidings/protocol';
import { TidingsError } from '../errors.js';

/** What went wrong with a proxy call: the `outcome` label of the proxy metrics. */
export type ProxyFailure = 'unavailable' | 'timeout' | 'bad_response' | 'overloaded';

const CODES: Record<ProxyFailure, number> = {
  unavailable: ErrorCode.ProxyUnavailable,
  timeout: ErrorCode.ProxyTimeout,
  bad_response: ErrorCode.ProxyBadResponse,
  overloaded: ErrorCode.ProxyOverloaded,
};

/** A proxy call failed on the backend's side (down, slow, garbage, too busy): code 124–127. */
export class ProxyError extends TidingsError {
  constructor(readonly failure: ProxyFailure, message: string) {
    super(CODES[failure], message);
    this.name = 'ProxyError';
  }
}

/**
 * The backend answered `{"disconnect": {code, reason}}`: the connection closes with `code`
 * (4000–4999) after telling the client. Where there is no connection to close (a long poll, a
 * one-request `/emulation`), it is an error with that code.
 */
export class ProxyDisconnect extends TidingsError {
  constructor(code: number, readonly reason: string) {
    super(code, reason);
    this.name = 'ProxyDisconnect';
  }
}
