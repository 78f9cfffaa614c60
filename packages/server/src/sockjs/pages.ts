import { createHash, randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What every transport response says about caching. */
export const NO_CACHE = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';
const ONE_YEAR = 31_536_000;

/** The settings the SockJS responses depend on. */
export interface PageSettings {
  /** Answer `cookie_needed: true` and set `JSESSIONID` on transport responses. */
  readonly jsessionid: boolean;
  /** The sockjs-client script the iframe page loads. */
  readonly clientUrl: string;
}

/**
 * The CORS headers SockJS wants on every transport and info response: the request's Origin (or
 * `*` without one) with credentials, and the requested headers echoed.
 */
export function corsHeaders(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  res.setHeader('Access-Control-Allow-Origin', origin === undefined || origin === 'null' ? '*' : origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  if (origin !== undefined) res.setHeader('Vary', 'Origin');
  const asked = req.headers['access-control-request-headers'];
  if (asked !== undefined) res.setHeader('Access-Control-Allow-Headers', asked);
}

/** `JSESSIONID` for load balancers that stick by it: the client's own value, else `dummy`. */
export function sessionCookie(req: IncomingMessage, res: ServerResponse, settings: PageSettings): void {
  if (!settings.jsessionid) return;
  const match = /(?:^|;\s*)JSESSIONID=([^;]*)/.exec(req.headers.cookie ?? '');
  const value = match?.[1] !== undefined && /^[\w.-]{1,128}$/.test(match[1]) ? match[1] : 'dummy';
  res.setHeader('Set-Cookie', `JSESSIONID=${value}; path=/`);
}

/** Headers of a response cached for a year. */
function cacheForever(res: ServerResponse): void {
  res.setHeader('Cache-Control', `public, max-age=${ONE_YEAR}`);
  res.setHeader('Expires', new Date(Date.now() + ONE_YEAR * 1000).toUTCString());
}

/** A plain-text answer (the protocol's error texts are plain text). */
export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=UTF-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** `GET <prefix>` and `<prefix>/`. */
export function greeting(res: ServerResponse): void {
  sendText(res, 200, 'Welcome to SockJS!\n');
}

/** `OPTIONS` of `info`, `xhr`, `xhr_send`, `xhr_streaming`: 204 with the allowed methods, cached for a year. */
export function preflight(req: IncomingMessage, res: ServerResponse, methods: string, settings: PageSettings): void {
  corsHeaders(req, res);
  sessionCookie(req, res, settings);
  cacheForever(res);
  res.setHeader('Access-Control-Allow-Methods', `OPTIONS, ${methods}`);
  res.setHeader('Access-Control-Max-Age', String(ONE_YEAR));
  res.writeHead(204);
  res.end();
}

/** `GET <prefix>/info`: `{websocket, cookie_needed, origins, entropy}`. */
export function info(req: IncomingMessage, res: ServerResponse, settings: PageSettings): void {
  corsHeaders(req, res);
  res.setHeader('Cache-Control', NO_CACHE);
  const body = JSON.stringify({ websocket: true, cookie_needed: settings.jsessionid, origins: ['*:*'], entropy: randomInt(0, 2 ** 32 - 1) });
  sendText(res, 200, body, 'application/json; charset=UTF-8');
}

/** The page `iframe.html` serves, for a client script URL. */
function iframePage(clientUrl: string): string {
  const src = clientUrl.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
  <script src="${src}"></script>
  <script>
    document.domain = document.domain;
    SockJS.bootstrap_iframe();
  </script>
</head>
<body>
  <h2>Don't panic!</h2>
  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>
</body>
</html>`;
}

/** `GET <prefix>/iframe*.html`: the page the iframe transports run in; 304 when the ETag matches. */
export class IframePage {
  private readonly body: string;
  private readonly etag: string;

  constructor(clientUrl: string) {
    this.body = iframePage(clientUrl);
    this.etag = `"${createHash('md5').update(this.body).digest('hex')}"`;
  }

  serve(req: IncomingMessage, res: ServerResponse): void {
    cacheForever(res);
    res.setHeader('ETag', this.etag);
    if (req.headers['if-none-match'] === this.etag) {
      res.writeHead(304);
      res.end();
      return;
    }
    sendText(res, 200, this.body, 'text/html; charset=UTF-8');
  }
}
