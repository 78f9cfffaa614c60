import { ErrorCode, isApplicationCode } from '@tidings/protocol';
import type { ProxyTrust } from '../http/forwarded.js';
import type { RequestHead } from '../http/request-head.js';
import type { Logger } from '../log.js';
import { LINES_PER_WINDOW, LOG_WINDOW_MS, LogBudget } from './log-budget.js';

/** Why a connection or request was refused: a small fixed set, one log budget and one metric value each. */
export type RefusalReason = 'origin' | 'auth' | 'limit' | 'bad_request' | 'unavailable';

export const REFUSAL_REASONS: readonly RefusalReason[] = ['origin', 'auth', 'limit', 'bad_request', 'unavailable'];

/** Who was refused. Never a token, key or cookie: only these fields reach the log. */
export interface Refused {
  /** The endpoint: a path (`/ws`, `/sse`, `/api/publish`) or `stomp-tcp`. */
  transport: string;
  /** The error code sent (or the close code). */
  code: number;
  /** The message sent to the client. */
  message: string;
  remote?: string | undefined;
  origin?: string | undefined;
  userAgent?: string | undefined;
}

/** Lines logged per reason per window before the rest are counted and summed up. */
export const REFUSALS_PER_WINDOW = LINES_PER_WINDOW;
/** The window, in milliseconds. */
export const REFUSAL_WINDOW_MS = LOG_WINDOW_MS;
const MAX_FIELD = 200;

/** The reason an error code stands for; undefined for the server's own failures (internal, outcome unknown), which are no refusal. */
export function reasonOf(code: number): RefusalReason | undefined {
  switch (code) {
    case ErrorCode.Internal:
    case ErrorCode.OutcomeUnknown:
      return undefined;
    case ErrorCode.Unauthorized:
    case ErrorCode.TokenExpired:
    case ErrorCode.PermissionDenied:
      return 'auth';
    case ErrorCode.LimitExceeded:
    case ErrorCode.MessageTooLarge:
      return 'limit';
    case ErrorCode.ShuttingDown:
    case ErrorCode.EngineUnavailable:
    case ErrorCode.StoreUnavailable:
    case ErrorCode.ProxyUnavailable:
    case ErrorCode.ProxyTimeout:
    case ErrorCode.ProxyBadResponse:
    case ErrorCode.ProxyOverloaded:
      return 'unavailable';
    default:
      // an application code is the app backend's refusal
      return isApplicationCode(code) ? 'auth' : 'bad_request';
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function clip(v: string | undefined): string | undefined {
  return v === undefined || v.length <= MAX_FIELD ? v : `${v.slice(0, MAX_FIELD)}…`;
}

/**
 * Logs refused connections and requests at `info`: `{msg: "refused", reason, transport, code,
 * message, remote, origin, userAgent}`. At most REFUSALS_PER_WINDOW lines per reason per
 * REFUSAL_WINDOW_MS; the rest are counted, and one `refusals suppressed` line `{reason,
 * suppressed, seconds}` reports them when the window is over (on the next refusal or `flush`,
 * which the node calls from its heartbeat): no timers of its own.
 */
export class Refusals {
  private readonly budget: LogBudget<RefusalReason>;

  constructor(
    private readonly log: Logger,
    now: () => number = Date.now,
    /** Told of every refusal, logged or not (the metrics). */
    private readonly counter?: { refused(reason: RefusalReason): void },
    /** Whose forwarding headers are believed for a request's `remote` (none when absent: the TCP peer). */
    private readonly trust?: ProxyTrust,
  ) {
    this.budget = new LogBudget((reason, suppressed, seconds) => log.info('refusals suppressed', { reason, suppressed, seconds }), now);
  }

  refused(reason: RefusalReason, who: Refused): void {
    this.counter?.refused(reason);
    if (!this.budget.allow(reason)) return;
    this.log.info('refused', {
      reason, transport: clip(who.transport), code: who.code, message: clip(who.message),
      remote: who.remote, origin: clip(who.origin), userAgent: clip(who.userAgent),
    });
  }

  /** Logs a refused HTTP request or upgrade: its path (never the query, which may hold a token), peer, Origin and User-Agent. */
  request(reason: RefusalReason | undefined, req: RequestHead, code: number, message: string): void {
    if (reason === undefined) return;
    const url = req.url ?? '';
    const end = url.search(/[?#]/);
    this.refused(reason, {
      transport: end === -1 ? url : url.slice(0, end), code, message,
      remote: this.trust ? this.trust.clientAddress(req) : req.socket?.remoteAddress, origin: header(req.headers.origin), userAgent: header(req.headers['user-agent']),
    });
  }

  /** Reports windows that are over. */
  flush(): void {
    this.budget.flush();
  }
}
