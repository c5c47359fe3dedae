-- scrapeshield: give back the unused part of a lease's reservation (docs/leases.md).
--
-- A reservation is an ordinary hit (hit.lua) of a lease's whole cost, made when the lease is
-- granted, so every worker counts it at once; the unused part is given back here, in the
-- window the reservation was counted in, and only there: a window that has rolled since holds
-- nothing of it (nothing to give back), and no count is made to fall below zero.
--
-- KEYS        the limits' keys as hit.lua has them (no strike or ban key)
-- ARGV[1]     the reservation's server time in ms (hit.lua's reply)
-- ARGV[2]     eight values per limit, a MessagePack array: strategy (1 fixed, 2 moving,
--             3 sliding), the window's end for a fixed window in ms (0 for the others),
--             window in ms, units to give back, its key's number, a sliding window's three
--             hash fields (as hit.lua's ARGV[3])
-- Returns the number of limits given back to.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = tonumber(ARGV[1])
local spec = cmsgpack.unpack(ARGV[2])
local given = 0
local function take(key, units)
  local count = tonumber(redis.call('GET', key)) or 0
  if count <= 0 then return end
  if units > count then units = count end
  redis.call('DECRBY', key, units)
  given = given + 1
end
-- A sliding window's units, from the bucket `at` fell in: the current one or, once it rolled,
-- the previous one (a bucket older than that is stale: nothing to give back).
local function take_sliding(key, index, fields, units)
  local read = redis.call('HMGET', key, fields[1], fields[2], fields[3])
  local stored = tonumber(read[1])
  local field
  if stored == index then
    field = fields[2]
  elseif stored == index + 1 then
    field = fields[3]
  else
    return
  end
  local count = tonumber(read[stored == index and 2 or 3]) or 0
  if count <= 0 then return end
  if units > count then units = count end
  redis.call('HSET', key, field, count - units)
  given = given + 1
end
for i = 1, #spec / 8 do
  local o = i * 8 - 8
  local strategy, ends, window, units = spec[o + 1], spec[o + 2], spec[o + 3], spec[o + 4]
  local key = KEYS[spec[o + 5]]
  if strategy == 3 then
    local index = math.floor(at / window)
    if math.floor(now / window) <= index + 1 then
      take_sliding(key, index, {spec[o + 6], spec[o + 7], spec[o + 8]}, units)
    end
  elseif strategy == 1 then
    if now < ends then take(key, units) end
  else
    local entries = redis.call('ZRANGEBYSCORE', key, at, at, 'LIMIT', 0, units)
    if #entries > 0 then
      redis.call('ZREM', key, unpack(entries))
      given = given + 1
    end
  end
end
return given
