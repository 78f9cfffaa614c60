import type { IncomingMessage } from 'node:http';
import { ErrorCode, httpStatusOf, nestsDeeper, type ProtocolError } from '@tidings/protocol';
import { TidingsError } from '../errors.js';
import type { JsonResponse } from './response.js';

/** The request's connection ended before its body did (node:http answered 408 and closed it, or the client left): there is no one to answer. */
export class RequestGone extends TidingsError {
  constructor() {
    super(ErrorCode.BadRequest, 'the request body did not arrive in full');
  }
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function sendJson(res: JsonResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** `{error: {code, message}}` with the status from the error table. */
export function sendError(res: JsonResponse, code: number, message: string, status = httpStatusOf(code)): void {
  sendProtocolError(res, { code, message }, status);
}

/** `{error}` with every field of `error` (e.g. `idempotencyKey`), and the status from the error table. */
export function sendProtocolError(res: JsonResponse, error: ProtocolError, status = httpStatusOf(error.code)): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error });
}

/** Levels a body may add around a payload: `{target: {notification: {payload}}}` (`POST /api/schedules`). */
export const BODY_WRAPPING = 3;

/**
 * Reads a JSON body of at most `limit` bytes, nested at most `maxDepth` + BODY_WRAPPING levels
 * (the fields that carry payloads check `maxDepth` exactly, with a message naming the field).
 * Throws TidingsError (bad_request, message_too_large), or RequestGone when the connection ended first.
 * Its time is bounded by node:http's `requestTimeout` (the `bodyTimeout` setting, see http/client-error.ts).
 */
export async function readJson(req: IncomingMessage, limit: number, maxDepth: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new TidingsError(ErrorCode.MessageTooLarge, `body over the ${limit}-byte limit`);
  const chunks = await readBody(req, limit);
  const size = chunks.reduce((n, c) => n + c.length, 0);
  if (size === 0) throw new TidingsError(ErrorCode.BadRequest, 'a JSON body is required');
  let body: unknown;
  try {
    body = JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8'));
  } catch {
    throw new TidingsError(ErrorCode.BadRequest, 'body is not valid JSON');
  }
  if (nestsDeeper(body, maxDepth + BODY_WRAPPING)) {
    throw new TidingsError(ErrorCode.BadRequest, `body nests too deep: payloads may nest ${maxDepth} levels (maxDepth)`);
  }
  return body;
}

/**
 * The body's chunks, at most `limit` bytes in all. Over it: TidingsError message_too_large, and the
 * request is destroyed (its connection closed) right after; RequestGone when the connection ends first.
 * With 'data' events rather than an async iterator: less work per request on the API's hot path.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer[]> {
  if (req.readableEnded) return Promise.resolve([]);
  if (req.destroyed) return Promise.reject(new RequestGone());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      done();
      reject(new TidingsError(ErrorCode.MessageTooLarge, `body over the ${limit}-byte limit`));
      // once the 413 is written, as the async iterator did when left early
      setImmediate(() => req.destroy());
    };
    const onEnd = (): void => {
      done();
      resolve(chunks);
    };
    // the connection ended first (node:http's requestTimeout answered 408 and closed it, or the client left)
    const onGone = (): void => {
      done();
      reject(new RequestGone());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
