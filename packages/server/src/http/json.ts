import type { IncomingMessage } from 'node:http';
import { ErrorCode, httpStatusOf, nestsDeeper } from '@tidings/protocol';
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
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: { code, message } });
}

/** Levels a body may add around a payload: `{target: {notification: {payload}}}` (`POST /api/schedules`). */
export const BODY_WRAPPING = 3;

/**
 * Reads a JSON body of at most `limit` bytes, nested at most `maxDepth` + BODY_WRAPPING levels
 * (the fields that carry payloads check `maxDepth` exactly, with a message naming the field).
 * Throws TidingsError (bad_request, message_too_large).
 */
export async function readJson(req: IncomingMessage, limit: number, maxDepth: number): Promise<unknown> {
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
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new TidingsError(ErrorCode.BadRequest, 'body is not valid JSON');
  }
  if (nestsDeeper(body, maxDepth + BODY_WRAPPING)) {
    throw new TidingsError(ErrorCode.BadRequest, `body nests too deep: payloads may nest ${maxDepth} levels (maxDepth)`);
  }
  return body;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
