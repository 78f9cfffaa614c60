import { z } from 'zod';
import { TidingsError } from '../errors.js';
import { ProxyDisconnect, ProxyError } from './errors.js';

/** The proxies, the `proxy` label of the metrics and the `kind` of a call. */
export type ProxyKind = 'connect' | 'refresh' | 'subscribe' | 'publish' | 'rpc' | 'action';
export const PROXY_KINDS: readonly ProxyKind[] = ['connect', 'refresh', 'subscribe', 'publish', 'rpc', 'action'];

const appCode = z.int().min(4000).max(4999);
const message = z.string().max(1024);
/** A user id as a token's `sub` carries it: 1–255 characters. */
const user = z.string().min(1).max(255);
/** Unix seconds. */
const expireAt = z.int().positive();

const connectResult = z.object({
  user,
  expireAt: expireAt.optional(),
  channels: z.array(z.string().min(1).max(255)).max(1024).optional(),
  info: z.record(z.string(), z.unknown()).optional(),
});
const refreshResult = z.object({ expireAt: expireAt.optional() });
const emptyResult = z.object({});
const publishResult = z.object({ data: z.unknown().optional() });
const rpcResult = z.object({ data: z.unknown().optional() });

/** What each proxy's `result` holds when the backend allows. */
export interface ResultOfProxy {
  connect: z.infer<typeof connectResult>;
  refresh: z.infer<typeof refreshResult>;
  subscribe: z.infer<typeof emptyResult>;
  publish: z.infer<typeof publishResult>;
  rpc: z.infer<typeof rpcResult>;
  action: z.infer<typeof emptyResult>;
}

/** Exactly one of `result`, `error` and `disconnect`. */
function answerSchema<T>(result: z.ZodType<T>) {
  return z.union([
    z.strictObject({ result }),
    z.strictObject({ error: z.object({ code: appCode, message: message.default('') }) }),
    z.strictObject({ disconnect: z.object({ code: appCode, reason: message.default('') }) }),
  ]);
}

const ANSWERS: { [K in ProxyKind]: z.ZodType<{ result: ResultOfProxy[K] } | { error: { code: number; message: string } } | { disconnect: { code: number; reason: string } }> } = {
  connect: answerSchema(connectResult),
  refresh: answerSchema(refreshResult),
  subscribe: answerSchema(emptyResult),
  publish: answerSchema(publishResult),
  rpc: answerSchema(rpcResult),
  action: answerSchema(emptyResult),
};

/** Of a union's failures, the one that got furthest into the value: it names what the backend got wrong. */
function closest(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue | undefined {
  const first = issues[0];
  if (first?.code !== 'invalid_union') return first;
  let best: z.core.$ZodIssue | undefined;
  for (const branch of first.errors) {
    const issue = branch[0];
    if (issue && (best === undefined || issue.path.length > best.path.length)) best = issue;
  }
  return best !== undefined && best.path.length > 1 ? best : first;
}

/**
 * Reads a backend's answer to a `kind` call: returns its `result`; throws a TidingsError with the
 * application code for `{error}`, a ProxyDisconnect for `{disconnect}`, and a ProxyError
 * (bad_response, 126) for anything else, naming the first problem.
 */
export function readAnswer<K extends ProxyKind>(kind: K, value: unknown): ResultOfProxy[K] {
  const parsed = ANSWERS[kind].safeParse(value);
  if (!parsed.success) {
    const issue = closest(parsed.error.issues);
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'the answer';
    throw new ProxyError('bad_response', `the ${kind} proxy answered something else than {result}, {error} or {disconnect}: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const answer = parsed.data;
  if ('error' in answer) throw new TidingsError(answer.error.code, answer.error.message);
  if ('disconnect' in answer) throw new ProxyDisconnect(answer.disconnect.code, answer.disconnect.reason);
  return answer.result;
}
