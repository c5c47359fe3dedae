-- scrapeshield: give back the unused part of a lease's reservation (docs/leases.md).
--
-- A reservation is an ordinary hit (hit.lua) of a lease's whole cost, made when the lease is
-- granted, so every worker counts it at once; the unused part is given back here, in the
-- window the reservation was counted in, and only there: a window that has rolled since holds
-- nothing of it (nothing to give back), and no count is made to fall below zero.
--
-- KEYS        each limit's keys as hit.lua has them (no strike or ban key)
-- ARGV[1]     the reservation's server time in ms (hit.lua's reply)
-- ARGV[2]     four numbers per limit, a MessagePack array: strategy (1 fixed, 2 moving,
--             3 sliding), the window's end for a fixed window in ms (0 for the others),
--             window in ms, units to give back
-- Returns the number of limits given back to.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = tonumber(ARGV[1])
local spec = cmsgpack.unpack(ARGV[2])
local given, k = 0, 1
local function take(key, units)
  local count = tonumber(redis.call('GET', key)) or 0
  if count <= 0 then return end
  if units > count then units = count end
  redis.call('DECRBY', key, units)
  given = given + 1
end
for i = 1, #spec / 4 do
  local strategy, ends, window, units = spec[i * 4 - 3], spec[i * 4 - 2], spec[i * 4 - 1], spec[i * 4]
  if strategy == 3 then
    local index = math.floor(at / window)
    local key = KEYS[k + (index % 2)]
    if math.floor(now / window) <= index + 1 then take(key, units) end
    k = k + 2
  else
    local base = KEYS[k]
    k = k + 1
    if strategy == 1 then
      if now < ends then take(base, units) end
    else
      local entries = redis.call('ZRANGEBYSCORE', base, at, at, 'LIMIT', 0, units)
      if #entries > 0 then
        redis.call('ZREM', base, unpack(entries))
        given = given + 1
      end
    end
  end
end
return given
