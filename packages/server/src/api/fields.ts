import type { IncomingMessage } from 'node:http';
import { ErrorCode, isValidChannel } from '@tidings/protocol';
import { TidingsError, badRequest } from '../errors.js';
import { isObject, readJson } from '../http/json.js';

/** Validators of API input: each returns the value or throws a TidingsError with the right code. */

/** The body as a JSON object of at most `limit` bytes and `maxDepth` (+ wrapping) levels; see readJson. */
export async function jsonObject(req: IncomingMessage, limit: number, maxDepth: number): Promise<Record<string, unknown>> {
  const body = await readJson(req, limit, maxDepth);
  if (!isObject(body)) throw badRequest('the body must be a JSON object');
  return body;
}

export function channelField(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw badRequest('`channel` must be a non-empty string');
  if (!isValidChannel(v)) throw new TidingsError(ErrorCode.InvalidChannel, `invalid channel name ${JSON.stringify(v.slice(0, 64))}`);
  return v;
}

export function userField(v: unknown): string {
  if (typeof v !== 'string' || v === '' || v.length > 255) throw badRequest('`user` must be a non-empty string of at most 255 characters');
  return wellFormed(v, 'user');
}

/** `body[key]` when it is a non-empty, well-formed string of at most `max` UTF-16 units; undefined when absent; else bad_request. */
export function optionalString(body: Record<string, unknown>, key: string, max = 255): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > max) throw badRequest(`\`${key}\` must be a non-empty string of at most ${max} characters`);
  return wellFormed(v, key);
}

/**
 * `v` when it is well-formed Unicode, else bad_request naming `field`. A lone surrogate (`"\ud800"`
 * in JSON) would become U+FFFD once stored as UTF-8 (SQLite, Redis keys), so the stored value would
 * differ from the one answered, and two keys could collide.
 */
export function wellFormed(v: string, field: string): string {
  if (!(v as string & { isWellFormed(): boolean }).isWellFormed()) throw badRequest(`\`${field}\` must be well-formed Unicode (it holds a lone surrogate)`);
  return v;
}

export function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw badRequest(`\`${name}\` must be an integer ≥ 0`);
  return Number(v);
}
