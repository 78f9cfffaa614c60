import { ErrorCode, type ClientInfo, type HistoryResult, type ProtocolError, type Publication } from '@tidings/protocol';
import { AuthError } from './auth/jwt.js';
import type { ChannelPolicy } from './channels.js';
import { EngineUnavailableError, IdempotencyConflictError, OutcomeUnknownError, type Engine } from './engine/engine.js';
import { TidingsError } from './errors.js';
import type { Logger } from './log.js';

/**
 * Channel operations shared by the server API and client sessions, after permission checks:
 * applies namespace options (history size and TTL, presence) and maps engine failures to codes.
 * Payload size is bounded earlier, by the frame or body limit (`maxMessageSize`).
 */
export class Publisher {
  constructor(private readonly engine: Engine, private readonly policy: ChannelPolicy, private readonly log: Logger) {}

  async publish(channel: string, data: unknown, opts: { idempotencyKey?: string | undefined; info?: ClientInfo } = {}): Promise<Publication> {
    const ns = this.policy.resolve(channel);
    const options = { historySize: ns.historySize, historyTtl: ns.historyTtl, ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}), ...(opts.info ? { info: opts.info } : {}) };
    return this.engine.publish(channel, data, options);
  }

  async history(channel: string, since: number | undefined, limit: number | undefined): Promise<HistoryResult> {
    const ns = this.policy.resolve(channel);
    if (ns.historySize === 0) throw new TidingsError(ErrorCode.NotAvailable, `history is off for ${channel}'s namespace`);
    const max = Math.min(limit ?? ns.historySize, ns.historySize);
    return this.engine.history(channel, since === undefined ? { limit: max } : { since, limit: max });
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    const ns = this.policy.resolve(channel);
    if (!ns.presence) throw new TidingsError(ErrorCode.NotAvailable, `presence is off for ${channel}'s namespace`);
    return this.engine.presence(channel);
  }

  /**
   * The protocol error for any failure; unexpected ones are logged and reported as internal.
   * An unknown outcome (119) carries the idempotency key to retry with, when there is one.
   */
  mapError(err: unknown): ProtocolError {
    if (err instanceof TidingsError || err instanceof AuthError) return { code: err.code, message: err.message };
    if (err instanceof EngineUnavailableError) return { code: ErrorCode.EngineUnavailable, message: err.message };
    if (err instanceof IdempotencyConflictError) return { code: ErrorCode.Conflict, message: err.message };
    if (err instanceof OutcomeUnknownError) {
      const error: ProtocolError = { code: ErrorCode.OutcomeUnknown, message: err.message };
      if (err.idempotencyKey !== undefined) error.idempotencyKey = err.idempotencyKey;
      return error;
    }
    this.log.error('unexpected error', { err: err instanceof Error ? err.stack ?? err.message : String(err) });
    return { code: ErrorCode.Internal, message: 'internal error' };
  }
}
