import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Lua script and the SHA-1 of its text, which EVALSHA names it by. */
export interface Script { readonly lua: string; readonly sha: string }

/** `lua` with its SHA-1. */
export const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });

/**
 * Runs `s` with EVALSHA, and with EVAL (which also loads it) when Redis answers NOSCRIPT: after a
 * restart, a failover or SCRIPT FLUSH. Other errors are thrown as they come.
 */
export async function runScript(client: Redis | Cluster, s: Script, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.eval(s.lua, keys.length, ...keys, ...args);
  }
}
