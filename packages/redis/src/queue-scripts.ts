/**
 * Lua scripts of the STOMP queues on Streams (queues.ts). KEYS[1] is always the queue's stream;
 * the consumer group's name comes as an argument.
 */

/**
 * Appends a message unless the stream holds ARGV[1] entries (then `{'full'}`). Makes the group on
 * first use, and the queue's epoch (ARGV[2] when it has none). Returns `{'ok', seq, epoch}`.
 * KEYS: stream, meta hash. ARGV: maxLength, newEpoch, hasContentType ('0'/'1'), contentType,
 * headers (JSON), body, group.
 */
export const QUEUE_APPEND = `
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return {'full'} end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[7], '0', 'MKSTREAM') end
redis.call('HSETNX', KEYS[2], 'epoch', ARGV[2])
local epoch = redis.call('HGET', KEYS[2], 'epoch')
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
if ARGV[3] == '1' then
  redis.call('XADD', KEYS[1], '*', 's', seq, 'e', epoch, 'h', ARGV[5], 'c', ARGV[4], 'b', ARGV[6])
else
  redis.call('XADD', KEYS[1], '*', 's', seq, 'e', epoch, 'h', ARGV[5], 'b', ARGV[6])
end
return {'ok', seq, epoch}
`;

/** Acknowledges and deletes entries. ARGV: group, ids… */
export const QUEUE_ACK = `
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
return #ids
`;

/**
 * Gives entries that consumer ARGV[2] still holds back to the group: each is acknowledged,
 * deleted and appended again with its fields and \`r\` (released). ARGV: group, consumer, ids…
 * Returns how many it released.
 */
export const QUEUE_RELEASE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1, ARGV[2])
  local e = redis.call('XRANGE', KEYS[1], id, id)
  if #p > 0 and #e > 0 then
    local f = e[1][2]
    local out = {}
    for j = 1, #f, 2 do
      if f[j] ~= 'r' then
        out[#out + 1] = f[j]
        out[#out + 1] = f[j + 1]
      end
    end
    out[#out + 1] = 'r'
    out[#out + 1] = '1'
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('XDEL', KEYS[1], id)
    redis.call('XADD', KEYS[1], '*', unpack(out))
    n = n + 1
  end
end
return n
`;

/**
 * Restarts the idle time of entries consumer ARGV[2] still holds (XCLAIM to itself, JUSTID);
 * returns the ids it no longer holds (taken over by another node, or gone). ARGV: group, consumer, ids…
 */
export const QUEUE_TOUCH = `
local lost = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 3, #ARGV do lost[#lost + 1] = ARGV[i] end
  return lost
end
local held = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #p > 0 then held[#held + 1] = ARGV[i] else lost[#lost + 1] = ARGV[i] end
end
if #held > 0 then
  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
  for i = 1, #held do args[#args + 1] = held[i] end
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
end
return lost
`;

/**
 * Removes consumers of group ARGV[1] that hold nothing and were idle for more than ARGV[2] ms
 * (nodes that are gone), never ARGV[3] (the caller). Atomic, so a consumer that just read is
 * never removed with what it holds. Returns how many it removed.
 */
export const QUEUE_FORGET_CONSUMERS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1] elseif c[i] == 'pending' then pending = c[i + 1] elseif c[i] == 'idle' then idle = c[i + 1] end
  end
  if pending == 0 and idle > tonumber(ARGV[2]) and name ~= ARGV[3] then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    n = n + 1
  end
end
return n
`;
