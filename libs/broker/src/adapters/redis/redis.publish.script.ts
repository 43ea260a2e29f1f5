/**
 * The atomic publish (EVAL). One call stores a batch: idempotency check, a global consecutive
 * sequence (INCR), XADD with id `<ms>-<seq>` (ms = max(TIME, last ms), so ids grow in every
 * stream and MINID trimming follows time), approximate trimming by the size and age of each
 * topic's history policy (HISTORY_POLICIES, else HISTORY_SIZE / HISTORY_TTL_S), the topic
 * registry, the idempotency record and one PUBLISH (SPUBLISH on Redis >= 7: sharded pub/sub) per event on the live channel.
 *
 * With partitions (REDIS_PARTITIONS > 1) the script runs once per partition a batch touches, on
 * that partition's keys, and also records the first event of each second in the clock (cursors
 * of a partitioned key space carry sequences only). `n` may be 0: the call only claims the
 * idempotency record (the home partition of a key, see RedisPublisher).
 *
 * KEYS: seq, last, epoch, topics, forgotten, idempotency, clock, stream 1..n
 * ARGV: n, epoch candidate, registry ttl ms (the longest history age of any topic), idempotency
 *       ttl ms, has idempotency key (1/0), fingerprint, traceparent, channel, PUBLISH or SPUBLISH,
 *       clock (1/0), then per event topic, type, data, maxlen and ttl ms (its history policy).
 * Returns `{'ok', epoch, ids}` or `{'dup', record}` where record is `fingerprint\nids`.
 */
export const PUBLISH_SCRIPT = `
local n = tonumber(ARGV[1])
local ttl = tonumber(ARGV[3])
local idemttl = tonumber(ARGV[4])
if ARGV[5] == '1' then
  local seen = redis.call('GET', KEYS[6])
  if seen then return {'dup', seen} end
end
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[3], epoch)
end
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = redis.call('GET', KEYS[2])
local lms = -1
if last then
  lms = tonumber(string.match(last, '^(%d+)')) or -1
  if lms > ms then ms = lms end
end
local cutoff = ms - ttl
local ids = {}
local seq = 0
for i = 1, n do
  seq = redis.call('INCR', KEYS[1])
  local b = 10 + (i - 1) * 5
  local topic = ARGV[b + 1]
  local typ = ARGV[b + 2]
  local data = ARGV[b + 3]
  local ettl = tonumber(ARGV[b + 5])
  local key = KEYS[7 + i]
  local id = string.format('%d-%d', ms, seq)
  redis.call('XADD', key, 'MAXLEN', '~', ARGV[b + 4], id, 't', typ, 'd', data, 'p', ARGV[7])
  redis.call('XTRIM', key, 'MINID', '~', string.format('%d', ms - ettl))
  redis.call('PEXPIRE', key, ettl)
  redis.call('ZADD', KEYS[4], ms, topic)
  redis.call(ARGV[9], ARGV[8], epoch .. '\\n' .. string.format('%d\\n%d', seq, ms) .. '\\n' .. topic .. '\\n' .. typ .. '\\n' .. ARGV[7] .. '\\n' .. data)
  ids[i] = 'r.' .. epoch .. '.' .. string.format('%d.%d', ms, seq)
end
if n > 0 then
  redis.call('SET', KEYS[2], string.format('%d-%d', ms, seq))
  if ARGV[10] == '1' and math.floor(ms / 1000) ~= math.floor(lms / 1000) then
    local first = seq - n + 1
    redis.call('ZADD', KEYS[7], first, string.format('%d:%d', first, ms))
    redis.call('ZREMRANGEBYRANK', KEYS[7], 0, -(math.ceil(ttl / 1000) + 3))
    redis.call('PEXPIRE', KEYS[7], ttl)
  end
end
local removed = redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. string.format('%d', cutoff))
if removed > 0 then redis.call('SET', KEYS[5], string.format('%d', cutoff)) end
local joined = table.concat(ids, ',')
if ARGV[5] == '1' then
  redis.call('SET', KEYS[6], ARGV[6] .. '\\n' .. joined, 'PX', idemttl)
end
return {'ok', epoch, joined}
`;
