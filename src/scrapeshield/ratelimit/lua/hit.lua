-- scrapeshield: check and hit every rate limit of one request atomically, in one call.
--
-- KEYS        the limits' keys: a sliding window (the default strategy) counts in its
--             subject's hash, `<prefix>rl:<scope>:<group>:{<subject>}:sliding`, one key for
--             every sliding window of that scope; fixed and moving windows have one key each,
--             `<base>` (all prefixed); with ARGV[4] = '1', then the escalation strike key and
--             the client's ban key: a banned client (the ban phase blocks it) spends nothing
--             and earns no strikes, as in a dry run
-- ARGV[1]     1 = dry run (test only: nothing is hit, no strike counted), 0 = hit
-- ARGV[2]     strike window in ms (0 = escalation off)
-- ARGV[3]     a MessagePack array {limits, reads} (unpacked in C by cmsgpack: parsing text
--             with gmatch cost the server ~2 us a request): `limits`, six numbers per limit:
--             strategy (1 fixed, 2 moving, 3 sliding), quota, window in ms, cost, its key's
--             number in KEYS, and a sliding window's place in its hash's `reads`; `reads`,
--             per limit key, the fields its HMGET reads (each sliding window's bucket index,
--             that bucket's count, the previous bucket's count, in turn; none for the others)
-- ARGV[4]     '1' when the strike and ban keys follow the limits' keys, '0' when not (on Redis
--             Cluster a request's limits are split by subject, one call per slot: only the
--             client's call holds them; backends.py settles a split request's calls)
-- ARGV[5]     (optional) units to reserve along with an admitted request (a lease's
--             reservation, docs/leases.md): hit too only when every limit then still has
--             ARGV[6] units of room (the margin a reservation leaves); else the request alone
--
-- All limits are tested first; only when every one admits the request are they all hit, so a
-- request rejected by one limit consumes none. A rejected (non-dry) request counts one strike.
-- Time is the Redis server's (one clock for every worker and host). Every key gets a TTL.
-- A subject's sliding windows are read with one HMGET and written with one HSET: Redis's cost
-- follows the keys a request touches more than its commands (docs/store.md). Redis 7.0 has no
-- TTL per hash field, so a bucket carries its index: a bucket whose index is neither this one
-- nor the one before reads as 0 (a stale bucket), and the hash expires at the end of its
-- longest window's next bucket, set whenever a bucket rolls. Every name comes from the
-- client's plan (made once per client): the script builds no key or field name.
-- Returns integers: {rejected_index (0 = admitted), strikes, banned, the server's time in ms (a
-- settle call refunds the buckets of that time), remaining_1, reset_ms_1, ..., and with ARGV[5]
-- the units reserved (0 or ARGV[5]; counted in the remainings)} (an array of
-- numbers costs the server less than formatting one string; hiredis parses either). `banned`
-- is 0, or the ban's record as the ban key holds it: the shield's ban phase takes it from here
-- rather than reading the key once more (ratelimit/backends.py `ban_in_reply`).

-- Run as a part of the store's combined call (store/combine.py), ARGV.shared is a table the
-- call's parts share: the server's time and each parsed limits string are made once per call,
-- not once per request (the call is atomic: its parts run at one instant). Alone, it is nil.
local shared = ARGV.shared or {}
local now = shared.now
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  shared.now = now
end
local dry = ARGV[1] == '1'
local strike_window = tonumber(ARGV[2])
local packed = shared[ARGV[3]]  -- (read only: other parts may hold the same table)
if not packed then
  packed = cmsgpack.unpack(ARGV[3])
  shared[ARGV[3]] = packed
end
local spec, reads = packed[1], packed[2]
local n, nkeys = #spec / 6, #reads
local client = ARGV[4] == '1'

-- One HMGET a subject's hash (every sliding window of the subject), then the ban.
local values = {}
for h = 1, nkeys do
  if #reads[h] > 0 then values[h] = redis.call('HMGET', KEYS[h], unpack(reads[h])) end
end
local strike_key, ban = KEYS[nkeys + 1], KEYS[nkeys + 2]
local banned = 0
if client then
  local record = redis.call('GET', ban)
  if record then
    dry = true
    banned = record
  end
end

-- Count in the window and, when it cannot admit `cost`, milliseconds until it can. A sliding
-- window's bucket (its index, count, the previous bucket's count) is kept in `slid`, three a
-- limit: the bucket the hit goes to, and `rolled[i]` when its fields are written whole.
local slid, rolled = {}, {}
local function state(i, strategy, base, quota, window, cost)
  if strategy == 1 then
    local count = tonumber(redis.call('GET', base)) or 0
    local ttl = redis.call('PTTL', base)
    if ttl < 0 then ttl = 0 end
    return count, ttl, ttl
  elseif strategy == 2 then
    redis.call('ZREMRANGEBYSCORE', base, '-inf', now - window)
    local count = redis.call('ZCARD', base)
    local reset = 0
    local wait = 0
    if count > 0 then
      local oldest = redis.call('ZRANGE', base, 0, 0, 'WITHSCORES')
      reset = tonumber(oldest[2]) + window - now
      if count + cost > quota then
        -- the entry whose expiry frees enough room for `cost`
        local k = count + cost - quota - 1
        local entry = redis.call('ZRANGE', base, k, k, 'WITHSCORES')
        wait = tonumber(entry[2]) + window - now
      end
    end
    return count, reset, wait
  else
    local index = math.floor(now / window)
    local read, a = values[spec[i * 6 - 1]], spec[i * 6]
    local stored = tonumber(read[a + 1])
    local cur, prev = 0, 0
    if stored and stored >= index then  -- this bucket (or a clock stepped back: stay in it)
      index, cur, prev = stored, tonumber(read[a + 2]) or 0, tonumber(read[a + 3]) or 0
    else
      rolled[i] = true
      if stored == index - 1 then prev = tonumber(read[a + 2]) or 0 end  -- the one before
      -- (else none, or both buckets are over: a stale bucket reads as 0)
    end
    slid[i * 3 - 2], slid[i * 3 - 1], slid[i * 3] = index, cur, prev
    local elapsed = (now % window) / window
    local count = math.floor(prev * (1 - elapsed) + cur)
    local reset = window * (1 - elapsed)
    if prev > 0 then
      local decay = (window * (1 - elapsed)) % (window / prev)
      if decay < reset then reset = decay end
    end
    local wait = 0
    if count + cost > quota then
      local room = quota - cost
      if prev > 0 and cur <= room then
        wait = (1 - (room - cur) / prev) * window - elapsed * window
      else
        wait = window * (1 - elapsed)
        if cur > 0 then wait = wait + math.max(0, 1 - room / cur) * window end
      end
      if wait < 1 then wait = 1 end
    end
    return count, math.floor(reset), math.ceil(wait)
  end
end

local counts, resets = {}, {}
local rejected = 0
for i = 1, n do
  local o = i * 6 - 6
  local strategy, quota, window, cost = spec[o + 1], spec[o + 2], spec[o + 3], spec[o + 4]
  local count, reset, wait = state(i, strategy, KEYS[spec[o + 5]], quota, window, cost)
  counts[i], resets[i] = count, reset
  if count + cost > quota and rejected == 0 then
    rejected = i
    resets[i] = wait
  end
end

local reserved = 0
if rejected == 0 and not dry and ARGV[5] then
  reserved = tonumber(ARGV[5])
  local room = reserved + tonumber(ARGV[6])
  for i = 1, n do
    if counts[i] + spec[i * 6 - 2] + room > spec[i * 6 - 4] then reserved = 0 end
  end
end

if rejected == 0 and not dry then
  -- a hash's fields and values; the end of its longest window's next bucket; whether a bucket
  -- rolled (then the hash's expiry is set to that end)
  local writes, last, roll = {}, {}, {}
  for i = 1, n do
    local o = i * 6 - 6
    local strategy, window, cost = spec[o + 1], spec[o + 3], spec[o + 4] + reserved
    local h = spec[o + 5]
    local base = KEYS[h]
    -- A counter whose INCRBY returns exactly `cost` was just created: give it its TTL.
    if strategy == 1 then
      if redis.call('INCRBY', base, cost) == cost then
        redis.call('PEXPIRE', base, window)
        resets[i] = window
      end
    elseif strategy == 2 then
      local seq = redis.call('ZCARD', base)
      for j = 1, cost do
        redis.call('ZADD', base, now, now .. ':' .. (seq + j))
      end
      redis.call('PEXPIRE', base, window)
      if resets[i] == 0 then resets[i] = window end
    else
      local list, fields, a = writes[h], reads[h], spec[o + 6]
      if not list then
        list = {}
        writes[h] = list
      end
      local index = slid[i * 3 - 2]
      list[#list + 1] = fields[a + 2]
      list[#list + 1] = slid[i * 3 - 1] + cost
      if rolled[i] then
        list[#list + 1] = fields[a + 1]
        list[#list + 1] = index
        list[#list + 1] = fields[a + 3]
        list[#list + 1] = slid[i * 3]
        roll[h] = true
      end
      local ends = (index + 2) * window - 1
      if not last[h] or ends > last[h] then last[h] = ends end
    end
    counts[i] = counts[i] + cost
  end
  for h, list in pairs(writes) do
    redis.call('HSET', KEYS[h], unpack(list))
  end
  for h in pairs(roll) do
    redis.call('PEXPIREAT', KEYS[h], last[h])
  end
end

local strikes = 0
if rejected > 0 and not dry and strike_window > 0 and client then
  strikes = redis.call('INCR', strike_key)
  if strikes == 1 then
    redis.call('PEXPIRE', strike_key, strike_window)
  end
end

local out = {rejected, strikes, banned, now}
for i = 1, n do
  local quota = spec[i * 6 - 4]
  local remaining = quota - counts[i]
  if remaining < 0 then remaining = 0 end
  out[#out + 1] = remaining
  out[#out + 1] = resets[i]  -- (Redis returns a number as an integer, its fraction dropped)
end
if ARGV[5] then out[#out + 1] = reserved end
return out
