-- scrapeshield: settle a request whose limits were split over several Redis Cluster slots.
--
-- On Cluster each subject's limits are tested and hit by their own hit.lua call, all in one
-- round trip. When another subject's call rejected the request (or found the client banned),
-- this call gives back what this subject's call spent, so a rejected request spends nothing,
-- and, on the client's slot, counts the strike its own call could not know about.
--
-- KEYS        the limits' keys, as hit.lua had them (a subject's hash for its sliding windows,
--             one key per other limit); then the strike key (optional)
-- ARGV[1]     the server time (ms) hit.lua returned: the buckets it hit
-- ARGV[2]     the limits, as hit.lua's ARGV[3] (MessagePack; '' when this call only counts a
--             strike, then KEYS holds the strike key alone)
-- ARGV[3]     '1': give back what was spent; '0': it spent nothing
-- ARGV[4]     strike window in ms (0: no strike to count)
-- Returns the strike count (0 when none was counted).

local now = tonumber(ARGV[1])
local spec, reads = {}, {}
if ARGV[2] ~= '' then
  local packed = cmsgpack.unpack(ARGV[2])
  spec, reads = packed[1], packed[2]
end
local nkeys = #reads

for i = 1, #spec / 6 do
  local o = i * 6 - 6
  local strategy, window, cost, key = spec[o + 1], spec[o + 3], spec[o + 4], KEYS[spec[o + 5]]
  if ARGV[3] ~= '1' then
    break  -- nothing spent
  elseif strategy == 2 then
    local spent = redis.call('ZRANGEBYSCORE', key, now, now, 'LIMIT', 0, cost)
    if #spent > 0 then redis.call('ZREM', key, unpack(spent)) end
  elseif strategy == 1 then
    if (tonumber(redis.call('GET', key)) or 0) > 0 then redis.call('DECRBY', key, cost) end
  else  -- the count of the bucket hit.lua hit (its index as hit.lua wrote it)
    local fields, a = reads[spec[o + 5]], spec[o + 6]
    local read = redis.call('HMGET', key, fields[a + 1], fields[a + 2])
    local count = tonumber(read[2]) or 0
    if tonumber(read[1]) == math.floor(now / window) and count > 0 then
      if cost > count then cost = count end
      redis.call('HSET', key, fields[a + 2], count - cost)
    end
  end
end

local strike_window = tonumber(ARGV[4])
if strike_window > 0 and KEYS[nkeys + 1] then
  local strikes = redis.call('INCR', KEYS[nkeys + 1])
  if strikes == 1 then redis.call('PEXPIRE', KEYS[nkeys + 1], strike_window) end
  return strikes
end
return 0
