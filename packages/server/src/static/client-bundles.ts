import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ErrorCode } from '@tidings/protocol';
import { sendError } from '../http/json.js';
import type { CorsResponse } from '../http/response.js';

/** The path prefix the SDK is served under. */
export const CLIENT_PREFIX = '/client/';

/** The browser bundles `@tidings/client` builds into `dist/browser/` (`scripts/bundle.mjs`); each has a `.map` beside it. */
export const CLIENT_BUNDLES = ['tidings.min.js', 'tidings.iife.min.js', 'tidings-fallback.min.js', 'tidings-fallback.iife.min.js', 'tidings-inbox.min.js'] as const;
/** Every name served under /client/: the bundles and their maps. */
const FILES = new Set(CLIENT_BUNDLES.flatMap((name) => [name, `${name}.map`]));
const UNKNOWN = `/client/ serves ${CLIENT_BUNDLES.join(', ')} and their .map`;

/** `Cache-Control` of `/client/<version>/<file>`: the bytes behind a version never change. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** `Cache-Control` of `/client/<file>`: the bytes change when the node is upgraded; revalidated with the ETag. */
export const SHORT_LIVED = 'public, max-age=300';

interface Asset {
  readonly body: Buffer;
  /** A strong validator: a digest of the body. */
  readonly etag: string;
  readonly type: string;
}

/** Where the bundles are: `@tidings/client`'s directory and version, or why they are not there. */
export type ClientPackage = { dir: string; version: string } | { missing: string };

/**
 * Finds the installed `@tidings/client` next to this package (a workspace link in the clone,
 * `node_modules/@tidings/client` when installed from npm). Never throws: a missing or unreadable
 * package is `{missing}`, with a reason fit for an HTTP answer (no file system paths).
 */
export function findClientPackage(resolve: (id: string) => string = createRequire(import.meta.url).resolve): ClientPackage {
  let manifest: string;
  try {
    manifest = resolve('@tidings/client/package.json');
  } catch {
    return { missing: '@tidings/client is not installed beside @tidings/server: install it (npm install @tidings/client) to serve the SDK at /client/' };
  }
  try {
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown };
    if (typeof version !== 'string') return { missing: '@tidings/client\'s package.json has no version' };
    return { dir: dirname(manifest), version };
  } catch {
    return { missing: '@tidings/client\'s package.json is unreadable' };
  }
}

function load(file: string, type: string): Asset | undefined {
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch {
    return undefined;
  }
  return { body, type, etag: etagOf(body) };
}

/** A strong validator of `body`: a quoted digest of it. */
export function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** True when an `If-None-Match` value names `etag` (weak comparison, RFC 9110 §13.1.2) or is `*`. */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

/**
 * The SDK's browser bundles and their source maps, read once when the node starts, served at
 * `GET|HEAD /client/<file>` (cached 5 minutes, revalidated by ETag) and at
 * `/client/<version>/<file>` (immutable for a year) for the installed `@tidings/client` version.
 * Only the ten known names are served; anything else under `/client/` is 404 (114), other
 * methods 405. Without the package, or before its bundles are built, every route answers 404
 * with the reason, and nothing else fails.
 */
export class ClientBundles {
  private readonly assets = new Map<string, Asset>();
  /** Why a known file cannot be served (the package or the file is missing). */
  private readonly absent: string | undefined;
  /** The installed `@tidings/client` version, or undefined when it is missing. */
  readonly version: string | undefined;

  constructor(pkg: ClientPackage = findClientPackage()) {
    if ('missing' in pkg) {
      this.absent = pkg.missing;
      return;
    }
    this.version = pkg.version;
    const dir = join(pkg.dir, 'dist', 'browser');
    for (const name of CLIENT_BUNDLES) {
      const js = load(join(dir, name), 'text/javascript; charset=utf-8');
      const map = load(join(dir, `${name}.map`), 'application/json');
      if (js) this.assets.set(name, js);
      if (map) this.assets.set(`${name}.map`, map);
    }
    if (this.assets.size === 0) this.absent = '@tidings/client has no browser bundles in dist/browser/: build them with npm run build';
  }

  /** Answers a request whose path starts with CLIENT_PREFIX. */
  handle(req: { method?: string | undefined; headers: IncomingHttpHeaders }, res: CorsResponse, path: string): void {
    const parts = path.slice(CLIENT_PREFIX.length).split('/');
    const name = parts.length === 1 ? parts[0] : parts.length === 2 ? parts[1] : undefined;
    const version = parts.length === 2 ? parts[0] : undefined;
    if (name === undefined || !FILES.has(name)) return sendError(res, ErrorCode.NotFound, `no file ${path}: ${UNKNOWN}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendError(res, ErrorCode.NotFound, `${path} answers GET and HEAD only`, 405);
    }
    if (this.absent !== undefined) return sendError(res, ErrorCode.NotFound, this.absent);
    if (version !== undefined && version !== this.version) {
      return sendError(res, ErrorCode.NotFound, `this node serves @tidings/client ${this.version ?? ''}: /client/${this.version ?? ''}/${name}`);
    }
    const asset = this.assets.get(name);
    if (!asset) return sendError(res, ErrorCode.NotFound, `${name} is not built: build the browser bundles with npm run build`);
    const headers = {
      'content-type': asset.type,
      'cache-control': version === undefined ? SHORT_LIVED : IMMUTABLE,
      etag: asset.etag,
      // public files: a page on any origin may load them, module scripts included (they are fetched with CORS)
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    };
    const ifNoneMatch = req.headers['if-none-match'];
    if (matchesEtag(ifNoneMatch, asset.etag)) {
      res.writeHead(304, headers);
      return res.end();
    }
    res.writeHead(200, { ...headers, 'content-length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }
}
