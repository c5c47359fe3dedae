-- scrapeshield: settle a request whose limits were split over several Redis Cluster slots.
--
-- On Cluster each subject's limits are tested and hit by their own hit.lua call, all in one
-- round trip. When another subject's call rejected the request (or found the client banned),
-- this call gives back what this subject's call spent, so a rejected request spends nothing,
-- and, on the client's slot, counts the strike its own call could not know about.
--
-- KEYS        the limits' keys, as hit.lua had them (two per sliding window, its buckets by
--             parity; one per other limit); then the strike key (optional)
-- ARGV[1]     the server time (ms) hit.lua returned: the buckets it hit
-- ARGV[2]     the limits, as hit.lua's ARGV[3] (MessagePack; '' when this call only counts a
--             strike)
-- ARGV[3]     '1': give back what was spent; '0': it spent nothing
-- ARGV[4]     strike window in ms (0: no strike to count)
-- Returns the strike count (0 when none was counted).

local now = tonumber(ARGV[1])
local spec = {}
if ARGV[2] ~= '' then spec = cmsgpack.unpack(ARGV[2]) end
local n = #spec / 4

local k = 1
if ARGV[3] == '1' then
  for i = 1, n do
    local strategy, window, cost = spec[i * 4 - 3], spec[i * 4 - 1], spec[i * 4]
    local key = KEYS[k]
    k = k + 1
    if strategy == 3 then
      if math.floor(now / window) % 2 == 1 then key = KEYS[k] end
      k = k + 1
    end
    if strategy == 2 then
      local spent = redis.call('ZRANGEBYSCORE', key, now, now, 'LIMIT', 0, cost)
      if #spent > 0 then redis.call('ZREM', key, unpack(spent)) end
    elseif (tonumber(redis.call('GET', key)) or 0) > 0 then
      redis.call('DECRBY', key, cost)
    end
  end
end

local strike_window = tonumber(ARGV[4])
if strike_window > 0 and KEYS[k] then
  local strikes = redis.call('INCR', KEYS[k])
  if strikes == 1 then redis.call('PEXPIRE', KEYS[k], strike_window) end
  return strikes
end
return 0
