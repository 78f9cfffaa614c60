import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@tidings/protocol';
import { sendError } from '../http/json.js';
import type { Metrics } from './metrics.js';
import type { Refusals } from './refusals.js';

/** What serving `/metrics` needs. */
export interface MetricsHost {
  readonly metrics: Metrics;
  readonly refusals: Refusals;
  /** `metricsKey`: when set, the scrape must present it. */
  readonly key: string | undefined;
}

/** The key a scrape presents: `Authorization: Bearer <key>` or `X-Metrics-Key: <key>`. */
function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim();
  const header = req.headers['x-metrics-key'];
  return typeof header === 'string' ? header : undefined;
}

function keyMatches(configured: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(configured);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Answers `GET /metrics` with the node's metrics in the Prometheus text format. With a key
 * configured, a scrape without it gets 401 (code 101, refusal reason `auth`; the key is never logged).
 */
export async function serveMetrics(host: MetricsHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, ErrorCode.NotFound, '/metrics answers GET only', 405);
  if (host.key !== undefined && !keyMatches(host.key, presentedKey(req))) {
    const message = 'missing or wrong metrics key (Authorization: Bearer <key> or X-Metrics-Key)';
    host.refusals.request('auth', req, ErrorCode.Unauthorized, message);
    return sendError(res, ErrorCode.Unauthorized, message);
  }
  const { contentType, body } = await host.metrics.scrape();
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Where `/metrics` is served: on the main port (`handle`, called by the node's router), or, with
 * `metricsPort`, on a listener of its own that serves nothing else (404), or nowhere (`metrics: false`).
 */
export class MetricsEndpoint {
  /** True when the main port serves `/metrics`. */
  readonly onMainPort: boolean;
  private readonly server: Server | undefined;
  private readonly port: number | undefined;

  constructor(
    private readonly host: MetricsHost,
    options: { metrics: boolean; metricsPort: number | undefined },
    private readonly onError: (err: unknown) => void,
  ) {
    this.onMainPort = options.metrics && options.metricsPort === undefined;
    this.port = options.metrics ? options.metricsPort : undefined;
    if (this.port === undefined) return;
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '').split('?', 1)[0];
      if (path !== '/metrics') return sendError(res, ErrorCode.NotFound, 'only /metrics is served on this port');
      this.handle(req, res);
    });
  }

  /** Serves one scrape; failures are reported to `onError` and answered 500. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    serveMetrics(this.host, req, res).catch((err: unknown) => {
      this.onError(err);
      sendError(res, ErrorCode.Internal, 'internal error');
    });
  }

  /** Listens on `metricsPort`, if set; resolves with the bound address. */
  listen(host: string): Promise<AddressInfo | undefined> {
    const { server, port } = this;
    if (!server || port === undefined) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  /** The separate listener's address, once listening. */
  address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return Promise.resolve();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    return closed;
  }
}
