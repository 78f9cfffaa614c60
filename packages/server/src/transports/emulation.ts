import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, decodeCommand, type ServerMessage } from '@tidings/protocol';
import type { Credentials } from '../auth/jwt.js';
import { badRequest } from '../errors.js';
import { applyCors } from '../http/cors.js';
import type { ProxyTrust } from '../http/forwarded.js';
import { RequestGone, isObject, readJson, sendError, sendJson } from '../http/json.js';
import { reasonOf, type Refusals } from '../observability/refusals.js';
import type { ServerOptions } from '../options.js';
import type { Session } from '../session.js';
import type { Transport } from './transport.js';

export interface EmulationHost {
  readonly options: ServerOptions;
  readonly refusals: Refusals;
  /** Client address and scheme through trusted proxies (`--trust-proxy`). */
  readonly trust: ProxyTrust;
  /** The request's token's credentials, or the connect proxy's (`TidingsNode.connectCredentials`). */
  connectCredentials(req: IncomingMessage, url: URL, transport: string, client: string): Promise<Credentials | undefined>;
  mapError(err: unknown): { code: number; message: string };
  /** The one-way stream session `client` on this node, when `secret` is its secret; else undefined. */
  ownedSession(client: string, secret: string | undefined): Session | undefined;
  /** Runs the commands in the session on whichever node holds it and takes `secret`; undefined when none does. */
  forward(client: string, secret: string, commands: unknown[]): Promise<ServerMessage[] | undefined>;
  newSession(transport: Transport, credentials: Credentials | undefined, request: undefined, id: string): Session | undefined;
}

export const MAX_EMULATION_COMMANDS = 100;
const STATELESS = new Set(['publish', 'history', 'presence', 'ping', 'rpc', 'inbox.list', 'inbox.mark', 'inbox.delete', 'inbox.count', 'inbox.archive', 'inbox.snooze', 'inbox.preferences', 'inbox.action']);

/** Answers nothing: the transport of a one-request session, whose replies go in the HTTP response. */
class NoTransport implements Transport {
  readonly name = 'emulation';
  readonly bidirectional = false;
  write(): boolean { return true; }
  discard(): void {}
  close(): void {}
}

/**
 * `POST /emulation {client?, secret?, commands: [...]}`: commands for clients on one-way transports.
 * With `client` and `secret` (both from the stream's `connected` message) the commands run in that
 * SSE or HTTP-streaming session, in order with its others; subscriptions and their replays then
 * flow on its stream. A missing or wrong secret is answered like an unknown session (404, code
 * 114), as is the id of a WebSocket session; each such answer is an `auth` refusal (metric and log). Without `client`, stateless commands run as the
 * request's token's user (long polling).
 * Answers `{replies: [...]}`, one reply or error per command, in order.
 */
export async function handleEmulation(host: EmulationHost, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (!applyCors(req, res, host.options.allowedOrigins, host.refusals, host.trust.requestScheme(req))) return;
  if (req.method !== 'POST') return sendError(res, ErrorCode.NotFound, '/emulation answers POST only', 405);
  try {
    const body = await readJson(req, host.options.limits.maxMessageSize, host.options.limits.maxDepth);
    if (!isObject(body)) throw badRequest('the body must be a JSON object {client?, secret?, commands: [...]}');
    const { client, secret, commands } = body;
    if (!Array.isArray(commands) || commands.length === 0) throw badRequest('`commands` must be a non-empty array');
    if (commands.length > MAX_EMULATION_COMMANDS) throw badRequest(`at most ${MAX_EMULATION_COMMANDS} commands per request`);
    if (client !== undefined && typeof client !== 'string') throw badRequest('`client` must be a string');
    if (secret !== undefined && typeof secret !== 'string') throw badRequest('`secret` must be a string');
    let replies: ServerMessage[] | undefined;
    if (client !== undefined) {
      const local = host.ownedSession(client, secret);
      if (local) replies = await runCommands(local, commands, false);
      else if (secret !== undefined) replies = await host.forward(client, secret, commands);
      if (!replies) {
        // a wrong secret and an unknown session look the same here (on a cluster only the owner could
        // tell), so both are answered alike and counted as one `auth` refusal by this, the answering, node
        const message = `no session ${client.slice(0, 64)} with this secret on any node (it may have closed)`;
        host.refusals.request('auth', req, ErrorCode.NotFound, message);
        return sendError(res, ErrorCode.NotFound, message);
      }
    } else {
      const id = randomUUID();
      const credentials = await host.connectCredentials(req, url, 'emulation', id);
      const session = host.newSession(new NoTransport(), credentials, undefined, id);
      if (!session) {
        host.refusals.request('limit', req, ErrorCode.LimitExceeded, 'connection limit reached');
        return sendError(res, ErrorCode.LimitExceeded, 'connection limit reached', 503);
      }
      await session.execute({ type: 'connect', id: Number.MAX_SAFE_INTEGER });
      replies = await runCommands(session, commands, true);
      session.closed();
    }
    sendJson(res, 200, { replies });
  } catch (err) {
    if (err instanceof RequestGone) return;
    const e = host.mapError(err);
    host.refusals.request(reasonOf(e.code), req, e.code, e.message);
    sendError(res, e.code, e.message);
  }
}

/** Runs decoded commands in order in `session`; a one-request session takes only stateless ones. */
export async function runCommands(session: Session, commands: unknown[], transient: boolean): Promise<ServerMessage[]> {
  const replies: ServerMessage[] = [];
  for (const raw of commands) {
    const d = decodeCommand(raw);
    if (!d.ok) {
      replies.push({ type: 'error', id: d.id ?? 0, error: d.error });
      continue;
    }
    if (transient && !STATELESS.has(d.command.type)) {
      replies.push({ type: 'error', id: d.command.id, error: { code: ErrorCode.BadRequest, message: `\`${d.command.type}\` needs \`client\` and \`secret\` (from the \`connected\` of a session opened on /sse or /stream)` } });
      continue;
    }
    replies.push(await session.execute(d.command));
  }
  return replies;
}
