import type { ServerResponse } from 'node:http';
import { ErrorCode } from '@tidings/protocol';
import type { Refusals } from '../observability/refusals.js';
import { sendError } from './json.js';
import type { Scheme } from './forwarded.js';
import { originAllowed } from './origin.js';
import type { RequestHead } from './request-head.js';
import type { CorsResponse } from './response.js';

const ALLOW_HEADERS = 'Authorization, Content-Type, Last-Event-ID, X-API-Key';

/**
 * Origin check and CORS for the HTTP transports; `scheme` is the request's own (`ProxyTrust.requestScheme`). Returns false (after answering 403 and logging
 * the refusal) when the request's Origin is not allowed; otherwise sets the CORS headers an allowed cross-origin browser
 * request needs (credentials included, so cookies carry tokens).
 */
export function applyCors(req: RequestHead, res: CorsResponse, allowed: readonly string[], refusals: Refusals, scheme: Scheme): boolean {
  const origin = req.headers.origin;
  if (!originAllowed(origin, req.headers.host, allowed, scheme)) {
    const message = `origin ${origin ?? ''} is not allowed (see --allowed-origins)`;
    refusals.request('origin', req, ErrorCode.PermissionDenied, message);
    sendError(res, ErrorCode.PermissionDenied, message);
    return false;
  }
  if (origin !== undefined) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
  }
  return true;
}

/** Answers a CORS preflight (`OPTIONS`) for an allowed origin with 204. */
export function answerPreflight(req: RequestHead, res: ServerResponse, allowed: readonly string[], refusals: Refusals, scheme: Scheme): void {
  if (!applyCors(req, res, allowed, refusals, scheme)) return;
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': ALLOW_HEADERS,
    'Access-Control-Max-Age': '600',
  });
  res.end();
}
