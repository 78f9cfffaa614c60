/**
 * A real app backend for the proxy tests: node:http on a free port, cookie `sid=<name>` → user.
 * `sid=refuse` is refused (4003), `sid=kick` disconnected (4501), `sid=slow` answered after
 * SLOW_MS, `sid=feed*` gets the server-side subscription `feed:<sid>`, `sid=short*` and `sid=expiring*` expire in 2 s and are refreshed or disconnected (4502); channels `*:secret*` are refused (4030); publications are rewritten; RPC `echo`
 * answers, `slow` sleeps past the proxy timeout. Every call is recorded with its headers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PROXY_SECRET = 'proxy-shared-secret-for-tests';
export const SLOW_MS = 3000;

export interface Call {
  path: string;
  body: Record<string, unknown>;
  secret: string | undefined;
}

function sid(body: Record<string, unknown>): string | undefined {
  const headers = body.headers as Record<string, string> | undefined;
  return /(?:^|;\s*)sid=([^;]+)/.exec(headers?.cookie ?? '')?.[1];
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Backend {
  readonly calls: Call[] = [];
  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<Backend> {
    let backend: Backend | undefined;
    const server = createServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        const secret = req.headers['x-tidings-proxy-secret'];
        backend!.calls.push({ path: req.url ?? '', body, secret: typeof secret === 'string' ? secret : undefined });
        const answer = await backend!.answer(req.url ?? '', body);
        if (answer === 'garbage') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end('{"result": "yes"}');
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      })().catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    backend = new Backend(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return backend;
  }

  private async answer(path: string, body: Record<string, unknown>): Promise<unknown> {
    switch (path) {
      case '/connect': {
        const who = sid(body);
        if (who === undefined) return { error: { code: 4001, message: 'log in first' } };
        if (who === 'refuse') return { error: { code: 4003, message: 'banned' } };
        if (who === 'kick') return { disconnect: { code: 4501, reason: 'go away' } };
        if (who === 'slow') await sleep(SLOW_MS);
        if (who === 'garbage') return 'garbage';
        if (who.startsWith('feed')) return { result: { user: who, channels: [`feed:${who}`] } };
        if (who.startsWith('short') || who.startsWith('expiring')) return { result: { user: who, expireAt: Math.floor(Date.now() / 1000) + 2 } };
        return { result: { user: who } };
      }
      case '/refresh':
        if (String(body.user).startsWith('expiring')) return { disconnect: { code: 4502, reason: 'session over' } };
        return { result: { expireAt: Math.floor(Date.now() / 1000) + 60 } };
      case '/subscribe':
        return String(body.channel).includes(':secret') ? { error: { code: 4030, message: 'not for you' } } : { result: {} };
      case '/publish':
        return { result: { data: { rewritten: true, original: body.data, by: body.user } } };
      case '/rpc':
        if (body.method === 'slow') await sleep(SLOW_MS);
        if (body.method === 'deny') return { error: { code: 4040, message: 'no such thing' } };
        return { result: { data: { echo: body.data ?? null, user: body.user, transport: body.transport } } };
      default:
        return { error: { code: 4004, message: 'unknown proxy' } };
    }
  }

  /** Tidings settings pointing every proxy here (timeout 1000 ms), with `chat` proxied. */
  config(): object {
    return {
      proxy: {
        secret: PROXY_SECRET, timeout: 1000,
        connect: `${this.url}/connect`, refresh: `${this.url}/refresh`, subscribe: `${this.url}/subscribe`, publish: `${this.url}/publish`, rpc: `${this.url}/rpc`,
      },
      namespaces: { chat: { publish: true, subscribeProxy: true, publishProxy: true }, feed: {} },
    };
  }

  /** The last call to `path` matching `match`. */
  last(path: string, match: (body: Record<string, unknown>) => boolean): Call | undefined {
    return [...this.calls].reverse().find((c) => c.path === path && match(c.body));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
