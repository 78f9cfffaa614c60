import { CloseCode } from '@tidings/protocol';
import type { Logger } from '../log.js';
import { LogBudget } from './log-budget.js';

/** A connection the server closes: never a token or key, only these fields reach the log. */
export interface Closing {
  /** The transport's name (`websocket`, `sse`, `stomp-tcp`, …). */
  transport: string;
  /** The client id (public: the client is told it). */
  client: string;
  /** The user, '' when anonymous. */
  user: string;
  /** The close code (protocol codes.ts). */
  code: number;
  reason: string;
}

/**
 * Logs the connections the server closes. Slow consumers cut off (3001) at `info`, at most
 * LINES_PER_WINDOW lines per LOG_WINDOW_MS, then one `disconnects suppressed` line `{kind: "slow",
 * suppressed, seconds}`; forced disconnects (3502) at `info` under the same kind of budget
 * (`kind: "forced"`); every other close at `debug`.
 */
export class Disconnects {
  private readonly budget: LogBudget<'slow' | 'forced'>;

  constructor(private readonly log: Logger, now: () => number = Date.now) {
    this.budget = new LogBudget((kind, suppressed, seconds) => log.info('disconnects suppressed', { kind, suppressed, seconds }), now);
  }

  /** The server is closing a connection with `code`. */
  closing(c: Closing): void {
    const fields = { transport: c.transport, client: c.client, user: c.user, code: c.code, reason: c.reason };
    if (c.code === CloseCode.Slow) {
      if (this.budget.allow('slow')) this.log.info('slow consumer disconnected', fields);
    } else if (c.code === CloseCode.ForceDisconnect) {
      if (this.budget.allow('forced')) this.log.info('forced disconnect', fields);
    } else {
      this.log.debug('disconnecting', fields);
    }
  }

  /** Reports windows that are over (the node's heartbeat). */
  flush(): void {
    this.budget.flush();
  }
}
