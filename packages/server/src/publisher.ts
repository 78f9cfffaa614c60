import { ErrorCode, payloadProblem, type ClientInfo, type HistoryResult, type ProtocolError, type Publication } from '@tidings/protocol';
import { AuthError } from './auth/jwt.js';
import type { ChannelPolicy } from './channels.js';
import { EngineUnavailableError, IdempotencyConflictError, OutcomeUnknownError, type Engine, type PublishOptions } from './engine/engine.js';
import { TidingsError } from './errors.js';
import type { Logger } from './log.js';
import { StoreUnavailableError } from './notifications/store.js';
import type { Metrics, PublicationSource } from './observability/metrics.js';

/** Options of `Publisher.publish`. */
export interface PublishFrom {
  idempotencyKey?: string | undefined;
  /** Who published (a client's publication carries it). */
  info?: ClientInfo;
  /** STOMP user headers of the SEND, bounded by the broker (the publication carries them). */
  headers?: Record<string, string> | undefined;
  /** Levels of server-made envelope around data checked before. */
  wrapping?: number;
  /** Where the publication came from, for the metrics; `api` when absent. */
  source?: PublicationSource;
  /**
   * `JSON.stringify(data)` of data the caller already checked with `checkData` (same `wrapping`):
   * the check and the stringify are not made again. For one data published to many channels.
   */
  dataJson?: string;
}

/**
 * Channel operations shared by the server API and client sessions, after permission checks:
 * applies namespace options (history size and TTL, presence) and maps engine failures to codes.
 * Payload size is bounded earlier, by the frame or body limit (`maxMessageSize`); nesting depth
 * (`maxDepth`) and JSON-ness here, so nothing is stored that some wire format cannot deliver.
 */
export class Publisher {
  constructor(
    private readonly engine: Engine,
    private readonly policy: ChannelPolicy,
    private readonly log: Logger,
    /** `limits.maxDepth`: the deepest nesting data may have. */
    private readonly maxDepth: number,
    /** Counts publications by source and their size. */
    private readonly metrics?: Metrics,
  ) {}

  /**
   * Throws TidingsError 107 (bad_request) unless `value` is plain JSON nested at most
   * `maxDepth` levels (plus `wrapping`, levels a server-made envelope adds around checked data).
   * `name` names the value in the message: "data nests deeper than 64 levels (maxDepth)".
   */
  checkData(value: unknown, name = 'data', wrapping = 0): void {
    const problem = payloadProblem(value, this.maxDepth + wrapping, name);
    if (problem !== undefined) throw new TidingsError(ErrorCode.BadRequest, problem);
  }

  /**
   * Stores and fans out `data` on `channel`. Throws TidingsError 107 for data `checkData` refuses
   * (nothing is stored); `wrapping` is for server-made envelopes around data checked before.
   */
  async publish(channel: string, data: unknown, opts: PublishFrom = {}): Promise<Publication> {
    let dataJson = opts.dataJson;
    if (dataJson === undefined) {
      this.checkData(data, 'data', opts.wrapping);
      dataJson = JSON.stringify(data);
    }
    const ns = this.policy.resolve(channel);
    const options: PublishOptions = { historySize: ns.historySize, historyTtl: ns.historyTtl, dataJson };
    if (opts.idempotencyKey) options.idempotencyKey = opts.idempotencyKey;
    if (opts.info) options.info = opts.info;
    if (opts.headers) options.headers = opts.headers;
    const pub = await this.engine.publish(channel, data, options);
    if (this.metrics) {
      this.metrics.publications[opts.source ?? 'api']++;
      this.metrics.publicationSize.observe(Buffer.byteLength(dataJson));
    }
    return pub;
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
    if (err instanceof StoreUnavailableError) return { code: ErrorCode.StoreUnavailable, message: err.message };
    if (err instanceof OutcomeUnknownError) {
      const error: ProtocolError = { code: ErrorCode.OutcomeUnknown, message: err.message };
      if (err.idempotencyKey !== undefined) error.idempotencyKey = err.idempotencyKey;
      return error;
    }
    this.log.error('unexpected error', { err: err instanceof Error ? err.stack ?? err.message : String(err) });
    return { code: ErrorCode.Internal, message: 'internal error' };
  }
}
