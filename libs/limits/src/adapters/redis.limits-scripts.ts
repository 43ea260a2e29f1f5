/** Server time in ms (one clock for every instance). */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Token bucket. KEYS[1] bucket hash; ARGV: rate per ms, burst, cost (tokens to take, all or
 * none; 0 checks that one is left without taking it).
 * Returns {allowed 0|1, tokens left (string), ms until `cost` tokens, ms until full}.
 */
export const TAKE_TOKEN = `${NOW}
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3]) or 1
local need = math.max(cost, 1)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
end
local allowed = 0
if tokens >= need then
  tokens = tokens - cost
  allowed = 1
end
local full = math.ceil((burst - tokens) / rate)
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], full + 1000)
local wait = 0
if allowed == 0 then wait = math.ceil((need - tokens) / rate) end
return {allowed, string.format('%.6f', tokens), wait, full}
`;

/**
 * Concurrency leases, all or nothing. KEYS: sorted sets (member -> lease expiry ms);
 * ARGV: member, ttl ms, then one cap per key. Drops expired members first.
 * Returns 0 when granted, else the 1-based index of the first key at its cap.
 */
export const ACQUIRE_LEASE = `${NOW}
local member = ARGV[1]
local ttl = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if not redis.call('ZSCORE', key, member) and redis.call('ZCARD', key) >= tonumber(ARGV[i + 2]) then
    return i
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, member)
  redis.call('PEXPIRE', key, ttl)
end
return 0
`;

/** Extends leases. KEYS[1] sorted set; ARGV: ttl ms, then members. */
export const REFRESH_LEASES = `${NOW}
local expiry = now + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], expiry, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return #ARGV - 1
`;
