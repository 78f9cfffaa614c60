import { ErrorCode, type Command, type ProtocolError, type ServerMessage } from '@tidings/protocol';

/** `ws://host/ws`, `https://host` or `/ws` → the base URL of `/stream`, `/sse`, `/poll` and `/emulation`. */
export function httpBase(url: string): string {
  return url.replace(/^ws(s?):/i, 'http$1:').replace(/\/ws\/?$/, '').replace(/\/$/, '');
}

/** The server's `{error: {code, message}}` body, if the response has one. */
export async function readError(res: Response): Promise<ProtocolError | undefined> {
  try {
    const body = (await res.json()) as { error?: ProtocolError };
    const e = body.error;
    return e && typeof e.code === 'number' && typeof e.message === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

/** `sub` and `exp` of a JWT, read without verifying (the server verifies). */
export function tokenClaims(token: string | undefined): { sub?: string; exp?: number } {
  const payload = token?.split('.')[1];
  if (!payload) return {};
  try {
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
    return {
      ...(typeof claims.sub === 'string' ? { sub: claims.sub } : {}),
      ...(typeof claims.exp === 'number' ? { exp: claims.exp } : {}),
    };
  } catch {
    return {};
  }
}

/** The error an HTTP status stands for when the response carries no error body (e.g. an EventSource). */
export function statusError(status: number, token: string | undefined): ProtocolError {
  if (status === 401) {
    const exp = tokenClaims(token).exp;
    return exp !== undefined && exp * 1000 <= Date.now()
      ? { code: ErrorCode.TokenExpired, message: 'token expired (HTTP 401)' }
      : { code: ErrorCode.Unauthorized, message: 'token refused (HTTP 401)' };
  }
  if (status === 403) return { code: ErrorCode.PermissionDenied, message: 'forbidden (HTTP 403)' };
  return { code: ErrorCode.BadRequest, message: `request refused (HTTP ${status})` };
}

/** How a `POST /emulation` ended: replies, an error for every command, or a broken session/connection. */
export type EmulationOutcome =
  | { type: 'replies'; replies: ServerMessage[] }
  | { type: 'refused'; error: ProtocolError }
  | { type: 'failed'; reason: string };

/**
 * Who `/emulation` commands are for: a stream session (`client` and its private `secret`, both from
 * its `connected` message), or, without one, the `token`'s user.
 */
export interface EmulationAuth {
  client?: string | undefined;
  secret?: string | undefined;
  token?: string | undefined;
}

/**
 * Posts commands to `/emulation`. The body is sent as `text/plain` so a cross-origin browser
 * request without a token header needs no preflight; the server reads JSON regardless.
 */
export async function postCommands(base: string, commands: Command[], auth: EmulationAuth, signal?: AbortSignal): Promise<EmulationOutcome> {
  const { client, secret, token } = auth;
  const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8' };
  if (token !== undefined && client === undefined) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${base}/emulation`, { method: 'POST', headers, body: JSON.stringify({ client, secret, commands }), ...(signal ? { signal } : {}) });
    if (res.ok) {
      const body = (await res.json()) as { replies?: ServerMessage[] };
      return Array.isArray(body.replies) ? { type: 'replies', replies: body.replies } : { type: 'failed', reason: 'malformed /emulation answer' };
    }
  } catch {
    return { type: 'failed', reason: '/emulation request failed' };
  }
  const error = await readError(res);
  if (res.status === 404 || res.status >= 500 || !error) return { type: 'failed', reason: `/emulation answered ${res.status}${error ? `: ${error.message}` : ''}` };
  return { type: 'refused', error };
}

/** `url` with `token=` and `cursor=` query parameters, each only when it has a value. */
export function withQuery(url: string, token: string | undefined, cursor: string): string {
  const params = new URLSearchParams();
  if (token !== undefined) params.set('token', token);
  if (cursor !== '') params.set('cursor', cursor);
  const query = params.toString();
  return query === '' ? url : `${url}?${query}`;
}
