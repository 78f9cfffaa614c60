import type { Counter, Histogram } from 'prom-client';
import type { Logger } from '../log.js';
import { LogBudget } from '../observability/log-budget.js';
import type { ProxyEndpoint } from '../options.js';
import { readAnswer, type ProxyKind, type ResultOfProxy } from './answers.js';
import { ProxyError, type ProxyFailure } from './errors.js';

/** The header carrying `proxy.secret` on every call. */
export const SECRET_HEADER = 'x-tidings-proxy-secret';

/** What a call ended as: the `outcome` label. `refused`: the backend answered `{error}` or `{disconnect}`. */
export type ProxyOutcome = 'ok' | 'refused' | ProxyFailure;

export interface ProxyMetrics {
  readonly calls: Counter<'proxy' | 'outcome'>;
  readonly duration: Histogram<'proxy'>;
}

export interface CallerOptions {
  /** Calls in flight at once. */
  concurrency: number;
  /** Calls waiting for a slot; one more fails at once (127). */
  queue: number;
  /** Largest answer body, in bytes (126 past it). */
  maxResponseBytes: number;
  secret: string | undefined;
}

type Waiter = { start: () => void; signal: AbortSignal; abandon: () => void };

/** A URL as logged: origin and path, never the query or user info. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * POSTs JSON to the app backend and reads its answer (answers.ts), with Node's fetch (undici: one
 * keep-alive pool per origin). At most `concurrency` calls are in flight; up to `queue` more wait
 * in order; past that a call fails at once with 127. Each call has its endpoint's timeout from the
 * moment it is made, waiting included (125 when it passes). An HTTP error or a refused connection
 * is 124; an answer that is not JSON of the documented shape, or over `maxResponseBytes`, is 126.
 * Every call is counted (`tidings_proxy_calls_total{proxy,outcome}`) and timed; failures are
 * logged at `warn` (rate-limited per proxy and outcome) with the URL's origin and path only.
 */
export class ProxyCaller {
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];
  private readonly budget: LogBudget<string>;

  constructor(
    private readonly options: CallerOptions,
    private readonly log: Logger,
    private readonly metrics: ProxyMetrics | undefined,
    private readonly fetcher: typeof fetch = fetch,
  ) {
    this.budget = new LogBudget((key, suppressed, seconds) => log.warn('proxy failures not logged', { key, suppressed, seconds }));
  }

  /** Calls in flight and waiting. */
  get load(): { inFlight: number; waiting: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length };
  }

  /** Calls `kind`'s endpoint with `body`; resolves with the answer's `result` (see `readAnswer` for the throws). */
  async call<K extends ProxyKind>(kind: K, endpoint: ProxyEndpoint, body: unknown): Promise<ResultOfProxy[K]> {
    const started = performance.now();
    let outcome: ProxyOutcome = 'ok';
    try {
      const signal = AbortSignal.timeout(endpoint.timeout);
      await this.slot(signal, endpoint);
      try {
        return readAnswer(kind, await this.post(endpoint, body, signal));
      } finally {
        this.release();
      }
    } catch (err) {
      outcome = err instanceof ProxyError ? err.failure : 'refused';
      if (err instanceof ProxyError && this.budget.allow(`${kind}:${err.failure}`)) {
        this.log.warn('proxy call failed', { proxy: kind, target: shown(endpoint.url), outcome, ms: Math.round(performance.now() - started), error: err.message });
      }
      throw err;
    } finally {
      this.metrics?.calls.inc({ proxy: kind, outcome });
      this.metrics?.duration.observe({ proxy: kind }, (performance.now() - started) / 1000);
    }
  }

  /** Reports suppressed log lines (called on the node's heartbeat). */
  flush(): void {
    this.budget.flush();
  }

  private slot(signal: AbortSignal, endpoint: ProxyEndpoint): Promise<void> {
    if (this.inFlight < this.options.concurrency) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.queue) {
      return Promise.reject(new ProxyError('overloaded', `${this.inFlight} proxy calls in flight and ${this.waiting.length} waiting: try again later`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        signal,
        start: () => {
          signal.removeEventListener('abort', waiter.abandon);
          resolve();
        },
        abandon: () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new ProxyError('timeout', `no answer within ${endpoint.timeout} ms (the call waited for a free slot)`));
        },
      };
      signal.addEventListener('abort', waiter.abandon, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.inFlight--;
  }

  private async post(endpoint: ProxyEndpoint, body: unknown, signal: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.secret !== undefined) headers[SECRET_HEADER] = this.options.secret;
    let res: Response;
    try {
      res = await this.fetcher(endpoint.url, { method: 'POST', headers, body: JSON.stringify(body), signal, redirect: 'error' });
    } catch (err) {
      throw failure(err, endpoint);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new ProxyError('unavailable', `the backend answered HTTP ${res.status}`);
    }
    const text = await this.readBody(res, endpoint);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ProxyError('bad_response', 'the backend\'s answer is not JSON');
    }
  }

  /** The body as text, refusing more than `maxResponseBytes`. */
  private async readBody(res: Response, endpoint: ProxyEndpoint): Promise<string> {
    const max = this.options.maxResponseBytes;
    const tooBig = (): ProxyError => new ProxyError('bad_response', `the backend's answer is over ${max} bytes`);
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > max) {
      await res.body?.cancel().catch(() => undefined);
      throw tooBig();
    }
    if (!res.body) return '';
    const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > max) {
          await reader.cancel().catch(() => undefined);
          throw tooBig();
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof ProxyError) throw err;
      throw failure(err, endpoint);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** A fetch failure as a ProxyError: the timeout's abort, or the backend unreachable. */
function failure(err: unknown, endpoint: ProxyEndpoint): ProxyError {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new ProxyError('timeout', `no answer within ${endpoint.timeout} ms`);
  }
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return new ProxyError('unavailable', `the backend could not be reached${cause}`);
}
