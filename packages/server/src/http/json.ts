import type { IncomingMessage } from 'node:http';
import { ErrorCode, httpStatusOf, type ProtocolError } from '@tidings/protocol';
import { TidingsError } from '../errors.js';
import type { JsonResponse } from './response.js';

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

/** Reads a JSON body of at most `limit` bytes; throws TidingsError (bad_request, message_too_large). */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new TidingsError(ErrorCode.MessageTooLarge, `body over the ${limit}-byte limit`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new TidingsError(ErrorCode.MessageTooLarge, `body over the ${limit}-byte limit`);
    chunks.push(chunk);
  }
  if (size === 0) throw new TidingsError(ErrorCode.BadRequest, 'a JSON body is required');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new TidingsError(ErrorCode.BadRequest, 'body is not valid JSON');
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
