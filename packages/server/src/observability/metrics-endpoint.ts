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

/** The internal listener (`metricsPort`): `/metrics` and nothing else (404). */
export class MetricsListener {
  private readonly server: Server;

  constructor(private readonly host: MetricsHost, onError: (err: unknown) => void) {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '').split('?', 1)[0];
      if (path !== '/metrics') return sendError(res, ErrorCode.NotFound, 'only /metrics is served on this port');
      serveMetrics(this.host, req, res).catch((err: unknown) => {
        onError(err);
        sendError(res, ErrorCode.Internal, 'internal error');
      });
    });
  }

  /** Listens; resolves with the bound address. */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | undefined {
    return (this.server.address() as AddressInfo | null) ?? undefined;
  }

  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    return closed;
  }
}
