import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { ErrorCode } from '@tidings/protocol';
import { sendError } from '../http/json.js';
import type { CorsResponse } from '../http/response.js';
import { etagOf, matchesEtag } from './client-bundles.js';

/** Content types of the files a page's build holds; other extensions are not served. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};
/** Files one page may hold, and bytes all of them together: a build larger than this is refused at start. */
const MAX_FILES = 256;
const MAX_BYTES = 16 * 1024 * 1024;

/** Where the pages are: `@tidings/pages`' directory, or why it is not there (a reason fit for an HTTP answer). */
export type PagesPackage = { dir: string } | { missing: string };

/**
 * Finds the installed `@tidings/pages` next to this package (a workspace link in the clone,
 * `node_modules/@tidings/pages` from npm). Never throws: a missing package is `{missing}`.
 */
export function findPagesPackage(resolve: (id: string) => string = createRequire(import.meta.url).resolve): PagesPackage {
  try {
    return { dir: dirname(resolve('@tidings/pages/package.json')) };
  } catch {
    return { missing: '@tidings/pages is not installed beside @tidings/server: install it (npm install @tidings/pages) to serve the pages' };
  }
}

interface Asset {
  readonly body: Buffer;
  readonly etag: string;
  readonly type: string;
}

/**
 * One page's built files (`@tidings/pages/dist/<page>/`), read once when the node starts and
 * served at `GET|HEAD <prefix><file>` (`<prefix>` is `/<page>/`; `<prefix>` alone is
 * `index.html`, the prefix without its slash redirects to it). Only files found in the build
 * with a known extension are served, looked up by exact name, so no path can leave the
 * directory. Answers carry a content type, a strong ETag (304 on `If-None-Match`),
 * `Cache-Control: no-cache` and `X-Content-Type-Options: nosniff`; HTML also a CSP of
 * `self` only. Without the package or its build every route is 404 with the reason.
 */
export class PageAssets {
  private readonly assets = new Map<string, Asset>();
  private readonly absent: string | undefined;

  /** `page`: the folder name under `dist/` (`demo`, `admin`); `pkg`: found by `findPagesPackage` when not given. */
  constructor(readonly page: string, pkg: PagesPackage = findPagesPackage()) {
    if ('missing' in pkg) {
      this.absent = pkg.missing;
      return;
    }
    const root = join(pkg.dir, 'dist', page);
    let bytes = 0;
    for (const name of listFiles(root)) {
      const type = TYPES[extname(name)];
      if (type === undefined || this.assets.size >= MAX_FILES) continue;
      const body = readFileSync(join(root, name));
      bytes += body.length;
      if (bytes > MAX_BYTES) break;
      this.assets.set(name, { body, type, etag: etagOf(body) });
    }
    if (!this.assets.has('index.html')) this.absent = `@tidings/pages has no built ${page} page in dist/${page}/: build it with npm run build`;
  }

  /** The path prefix this page is served under: `/<page>/`. */
  get prefix(): string {
    return `/${this.page}/`;
  }

  /** True when `path` is this page's: `/<page>` or below `/<page>/`. */
  owns(path: string): boolean {
    return path === `/${this.page}` || path.startsWith(this.prefix);
  }

  /** Answers a request whose path `owns` accepts. */
  handle(req: { method?: string | undefined; headers: IncomingHttpHeaders }, res: CorsResponse, path: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendError(res, ErrorCode.NotFound, `${path} answers GET and HEAD only`, 405);
    }
    if (path === `/${this.page}`) {
      res.writeHead(308, { location: this.prefix, 'content-length': 0 });
      return res.end();
    }
    if (this.absent !== undefined) return sendError(res, ErrorCode.NotFound, this.absent);
    const name = path === this.prefix ? 'index.html' : path.slice(this.prefix.length);
    const asset = this.assets.get(name);
    if (!asset) return sendError(res, ErrorCode.NotFound, `no file ${path} in the ${this.page} page`);
    const headers: Record<string, string> = {
      'content-type': asset.type,
      'cache-control': 'no-cache',
      etag: asset.etag,
      'x-content-type-options': 'nosniff',
    };
    if (name.endsWith('.html')) {
      headers['content-security-policy'] = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
      headers['referrer-policy'] = 'no-referrer';
      headers['x-frame-options'] = 'DENY';
    }
    if (matchesEtag(req.headers['if-none-match'], asset.etag)) {
      res.writeHead(304, headers);
      return res.end();
    }
    res.writeHead(200, { ...headers, 'content-length': String(asset.body.length) });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }
}

/** Every regular file below `dir` as a `/`-separated relative path; none when `dir` is missing. Symbolic links are not followed. */
function listFiles(dir: string, under = ''): string[] {
  let entries;
  try {
    entries = readdirSync(join(dir, under), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = under === '' ? e.name : `${under}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else if (e.isFile() && statSync(join(dir, rel)).size <= MAX_BYTES) out.push(rel);
  }
  return out;
}
