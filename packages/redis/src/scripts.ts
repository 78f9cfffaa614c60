/**
 * Lua scripts, each touching the keys of one channel only (one hash slot, thanks to the `{channel}`
 * hash tag), so they run atomically on a standalone Redis and on a Redis Cluster alike.
 *
 * Keys of a channel: meta hash `{e: epoch, o: last offset}`, stream of held publications whose
 * entry ids are `<offset>-0` (so XRANGE by offset is direct), idempotency strings.
 */

/**
 * KEYS: meta, stream[, idempotency]
 * ARGV: channel, data JSON, historySize, historyTtl, metaTtl, epoch candidate, time, fragment of
 *       further fields (`,"info":…,"headers":…` or ''),
 *       pub/sub channel, publish command (publish | spublish), idempotency TTL
 * Returns {'ok'|'dup', offset, epoch, time} or {'conflict'}.
 */
export const PUBLISH = `
local meta, stream, idem = KEYS[1], KEYS[2], KEYS[3]
local sha
if idem then
  sha = redis.sha1hex(ARGV[2])
  local seen = redis.call('get', idem)
  if seen then
    local off, ep, s, tm = string.match(seen, '^(%d+):([^:]+):(%x+):(%d+)$')
    if s ~= sha then return {'conflict'} end
    return {'dup', off, ep, tm}
  end
end
local epoch = redis.call('hget', meta, 'e')
if not epoch then
  epoch = ARGV[6]
  redis.call('del', stream)
  redis.call('hset', meta, 'e', epoch)
end
local offset = redis.call('hincrby', meta, 'o', 1)
redis.call('expire', meta, ARGV[5])
local pub = '{"channel":"' .. ARGV[1] .. '","offset":' .. offset .. ',"epoch":"' .. epoch .. '","data":' .. ARGV[2] .. ',"time":' .. ARGV[7] .. ARGV[8] .. '}'
local size = tonumber(ARGV[3])
if size > 0 then
  redis.call('xadd', stream, 'MAXLEN', size, offset .. '-0', 'p', pub)
  redis.call('expire', stream, ARGV[4])
else
  redis.call('del', stream)
end
redis.call(ARGV[10], ARGV[9], 'p' .. pub)
if idem then
  redis.call('set', idem, offset .. ':' .. epoch .. ':' .. sha .. ':' .. ARGV[7], 'EX', ARGV[11])
end
return {'ok', tostring(offset), epoch, ARGV[7]}
`;

/**
 * KEYS: meta, stream
 * ARGV: epoch candidate, metaTtl, since ('' = none), limit ('' = all)
 * Returns {epoch, top offset, entries}; entries newest first when there is no `since`.
 */
export const HISTORY = `
local meta, stream = KEYS[1], KEYS[2]
local epoch = redis.call('hget', meta, 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('del', stream)
  redis.call('hset', meta, 'e', epoch, 'o', 0)
  redis.call('expire', meta, ARGV[2])
end
local top = redis.call('hget', meta, 'o') or '0'
local since, limit = ARGV[3], ARGV[4]
local entries = {}
if limit == '0' then
  entries = {}
elseif since ~= '' then
  local first = (tonumber(since) + 1) .. '-0'
  if limit ~= '' then entries = redis.call('xrange', stream, first, '+', 'COUNT', limit)
  else entries = redis.call('xrange', stream, first, '+') end
elseif limit ~= '' then
  entries = redis.call('xrevrange', stream, '+', '-', 'COUNT', limit)
else
  entries = redis.call('xrevrange', stream, '+', '-')
end
return {epoch, top, entries}
`;

/**
 * KEYS: presence hash, expiry zset. ARGV: client id, info JSON, expire-at ms, ttl s.
 * Returns 1 when the client had no entry, 0 when it refreshed one (even one past its expiry that
 * no sweep or read dropped yet: no `leave` went out for it, so no new `join` is due).
 */
export const PRESENCE_ADD = `
local added = redis.call('zadd', KEYS[2], ARGV[3], ARGV[1])
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('expire', KEYS[1], ARGV[4])
redis.call('expire', KEYS[2], ARGV[4])
return added
`;

/**
 * Lua: drops the presence entries whose expiry (zset score, ms) is ≤ ARGV[1] and publishes a
 * `leave` (`l<info JSON>`) for each on pub/sub channel ARGV[2] with command ARGV[3]. Whoever
 * removes an entry publishes its leave, so each expired client leaves exactly once, cluster-wide.
 */
const DROP_EXPIRED = `
local gone = redis.call('zrangebyscore', KEYS[2], '-inf', ARGV[1])
if #gone > 0 then
  local infos = redis.call('hmget', KEYS[1], unpack(gone))
  redis.call('hdel', KEYS[1], unpack(gone))
  redis.call('zrem', KEYS[2], unpack(gone))
  for i = 1, #gone do
    if infos[i] then redis.call(ARGV[3], ARGV[2], 'l' .. infos[i]) end
  end
end
`;

/**
 * KEYS: presence hash, expiry zset. ARGV: now ms, pub/sub channel, publish command (publish | spublish).
 * Drops expired entries (publishing their leaves), returns the rest (flat: id, info, id, info…).
 */
export const PRESENCE_GET = `${DROP_EXPIRED}
return redis.call('hgetall', KEYS[1])
`;

/**
 * KEYS: presence hash, expiry zset. ARGV: now ms, pub/sub channel, publish command.
 * Drops expired entries, publishing a leave for each; returns how many left.
 */
export const PRESENCE_EXPIRE = `${DROP_EXPIRED}
return #gone
`;

/**
 * KEYS: claim key. ARGV: owner, ttl (s).
 * Claims the key when free (or refreshes it when `owner` holds it); returns the holder.
 */
export const CLAIM = `
local holder = redis.call('get', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
  return ARGV[1]
end
return holder
`;

/** KEYS: claim key. ARGV: owner. Deletes the key if `owner` holds it. */
export const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return 0
`;
