/**
 * One topic's presence update, atomic, on the Redis server's clock. KEYS: connection leases
 * (ZSET id -> expiry ms), connection owners (HASH id -> `<instance>\n<sub>`), user counts (HASH
 * sub -> open connections), the topic registry (ZSET topic -> last update ms). ARGV: topic,
 * lease ttl ms, instance, channel, number of enters, then `id, sub` per enter (sub '' for an
 * anonymous connection), then the ids leaving. Expired leases leave first. An enter of a held
 * id only extends its lease (that is how leases are refreshed). Publishes
 * `{"topic","connections","users","changes":["j<sub>"|"l<sub>",...]}` on the channel when a
 * user joined or left, and returns the number of changes.
 */
export const APPLY_PRESENCE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local topic, ttl, inst, channel = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local n = tonumber(ARGV[5])
local changes = {}
local function leave(id)
  if redis.call('ZREM', KEYS[1], id) == 0 then return end
  local meta = redis.call('HGET', KEYS[2], id)
  redis.call('HDEL', KEYS[2], id)
  if not meta then return end
  local sub = string.sub(meta, string.find(meta, '\\n', 1, true) + 1)
  if sub == '' then return end
  if redis.call('HINCRBY', KEYS[3], sub, -1) <= 0 then
    redis.call('HDEL', KEYS[3], sub)
    changes[#changes + 1] = 'l' .. sub
  end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(expired) do leave(id) end
local i = 6
for _ = 1, n do
  local id, sub = ARGV[i], ARGV[i + 1]
  i = i + 2
  if redis.call('ZADD', KEYS[1], now + ttl, id) == 1 then
    redis.call('HSET', KEYS[2], id, inst .. '\\n' .. sub)
    if sub ~= '' and redis.call('HINCRBY', KEYS[3], sub, 1) == 1 then
      changes[#changes + 1] = 'j' .. sub
    end
  end
end
while i <= #ARGV do
  leave(ARGV[i])
  i = i + 1
end
local connections = redis.call('ZCARD', KEYS[1])
if connections == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  redis.call('ZREM', KEYS[4], topic)
else
  for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], ttl * 2) end
  redis.call('ZADD', KEYS[4], now, topic)
  redis.call('PEXPIRE', KEYS[4], ttl * 2)
end
if #changes > 0 then
  local users = redis.call('HLEN', KEYS[3])
  redis.call('PUBLISH', channel, cjson.encode({
    topic = topic, connections = connections, users = users, changes = changes,
  }))
end
return #changes
`;
