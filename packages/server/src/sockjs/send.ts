import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseMessages } from './frames.js';
import { sendText } from './pages.js';

/** Where a send goes: a local session, or one on another node. */
export interface SendTarget {
  /** Whether the session may take messages (checked before the body is read). */
  open(): boolean;
  /** Runs the messages; false when the session is gone or not open. */
  deliver(messages: string[]): boolean | Promise<boolean>;
}

/** Why a body could not be read. */
type BodyResult = { ok: true; body: string } | { ok: false; tooLarge: boolean };

/** Reads a request body of at most `limit` bytes (its time is bounded by node:http's `requestTimeout`). */
async function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  if (Number(req.headers['content-length']) > limit) return { ok: false, tooLarge: true };
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) return { ok: false, tooLarge: true };
      chunks.push(chunk);
    }
  } catch {
    return { ok: false, tooLarge: false };
  }
  return { ok: true, body: Buffer.concat(chunks).toString('utf8') };
}

/** The payload of a `jsonp_send`: the `d` field of a form, or the raw body. */
function jsonpPayload(req: IncomingMessage, body: string): string {
  if (!/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) return body;
  return new URLSearchParams(body).get('d') ?? '';
}

/**
 * `xhr_send` and `jsonp_send`: a JSON array of strings for an open session. Answers 404 for an
 * unknown or closed session, 413 over `limit` bytes, 500 `Payload expected.` for an empty body,
 * 500 `Broken JSON encoding.` for anything but an array of strings; else 204 (xhr) or 200 `ok`.
 * Headers (CORS, cookie) are set by the caller.
 */
export async function handleSend(
  req: IncomingMessage, res: ServerResponse, target: SendTarget, kind: 'xhr_send' | 'jsonp_send', limit: number,
): Promise<void> {
  if (!target.open()) return sendText(res, 404, 'Not Found');
  const read = await readBody(req, limit);
  if (!read.ok) {
    if (read.tooLarge) {
      res.setHeader('Connection', 'close');
      return sendText(res, 413, 'Payload Too Large');
    }
    res.destroy();
    return;
  }
  const payload = kind === 'jsonp_send' ? jsonpPayload(req, read.body) : read.body;
  if (payload === '') return sendText(res, 500, 'Payload expected.');
  const messages = parseMessages(payload, false);
  if (!messages) return sendText(res, 500, 'Broken JSON encoding.');
  if (!(await target.deliver(messages))) return sendText(res, 404, 'Not Found');
  if (kind === 'xhr_send') {
    res.writeHead(204, { 'Content-Type': 'text/plain; charset=UTF-8' });
    res.end();
  } else {
    sendText(res, 200, 'ok');
  }
}
