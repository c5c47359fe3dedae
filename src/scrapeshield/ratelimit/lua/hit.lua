-- scrapeshield: check and hit every rate limit of one request atomically, in one call.
--
-- KEYS        each limit's keys in turn: a sliding window (the default strategy) has two,
--             `<base>/0` and `<base>/1` (its buckets, by the parity of the bucket's index),
--             fixed and moving windows one, `<base>` (all prefixed); with ARGV[4] = '1', then
--             the escalation strike key and the client's ban key: a banned client (the ban
--             phase blocks it) spends nothing and earns no strikes, as in a dry run
-- ARGV[1]     1 = dry run (test only: nothing is hit, no strike counted), 0 = hit
-- ARGV[2]     strike window in ms (0 = escalation off)
-- ARGV[3]     four numbers per limit, a MessagePack array: strategy (1 fixed, 2 moving,
--             3 sliding), quota, window in ms, cost (unpacked in C by cmsgpack: parsing text
--             with gmatch cost the server ~2 us a request)
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
-- Every key of the call is read with one MGET, in the order given (the ban, both buckets of
-- every sliding window, a fixed window's count): a call from Lua costs the server more than
-- the read it makes, and gathering the keys to read in a table cost more than reading one
-- more (docs/log/store.md, "Where the two largest scripts' time goes").
-- A bucket expires when the bucket after it ends, so `<base>/<parity>` holds this bucket's
-- count or nothing. Both names come from the client (made once per client's plan): the script
-- builds no key name (joining strings in Lua costs the server ~0.5 us each).
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
local spec = shared[ARGV[3]]  -- (read only: other parts may hold the same table)
if not spec then
  spec = cmsgpack.unpack(ARGV[3])
  shared[ARGV[3]] = spec
end
local n = #spec / 4
local client = ARGV[4] == '1'

-- One read of every key (the call's keys in turn: a moving window's, not a string, reads as
-- nil; the strike key's is not used). A sliding window's current bucket is `<base>/<parity of
-- this bucket's index>`, the other its previous. `at[i]`: limit i's first key.
local values = #KEYS > 0 and redis.call('MGET', unpack(KEYS)) or {}
local at, k = {}, 1
for i = 1, n do
  at[i] = k
  k = k + (spec[i * 4 - 3] == 3 and 2 or 1)
end
local strike_key = KEYS[k]
local banned = 0
if client and values[k + 1] then
  dry = true
  banned = values[k + 1]
end

-- The key a limit counts in: a sliding window's current bucket, else its one key.
local function counter(i, window)
  if spec[i * 4 - 3] == 3 then return at[i] + math.floor(now / window) % 2 end
  return at[i]
end

-- Count in the window and, when it cannot admit `cost`, milliseconds until it can.
local function state(i, strategy, quota, window, cost)
  local base = KEYS[at[i]]
  if strategy == 1 then
    local count = tonumber(values[at[i]]) or 0
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
    local current = counter(i, window)
    local cur = tonumber(values[current]) or 0
    local prev = tonumber(values[2 * at[i] + 1 - current]) or 0
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

-- The reply, {rejected, strikes, banned, now, remaining_1, reset_ms_1, ...}, holds each limit's
-- count where its remaining goes until the end (one table: tables built per call cost the server).
local out = {0, 0, banned, now}
local rejected = 0
for i = 1, n do
  local strategy, quota, window, cost = spec[i * 4 - 3], spec[i * 4 - 2], spec[i * 4 - 1], spec[i * 4]
  local count, reset, wait = state(i, strategy, quota, window, cost)
  out[3 + 2 * i], out[4 + 2 * i] = count, reset
  if count + cost > quota and rejected == 0 then
    rejected = i
    out[4 + 2 * i] = wait
  end
end

local reserved = 0
if rejected == 0 and not dry and ARGV[5] then
  reserved = tonumber(ARGV[5])
  local room = reserved + tonumber(ARGV[6])
  for i = 1, n do
    if out[3 + 2 * i] + spec[i * 4] + room > spec[i * 4 - 2] then reserved = 0 end
  end
end

if rejected == 0 and not dry then
  for i = 1, n do
    local strategy, window, cost = spec[i * 4 - 3], spec[i * 4 - 1], spec[i * 4] + reserved
    local base = KEYS[counter(i, window)]
    -- A counter whose INCRBY returns exactly `cost` was just created: give it its TTL.
    if strategy == 1 then
      if redis.call('INCRBY', base, cost) == cost then
        redis.call('PEXPIRE', base, window)
        out[4 + 2 * i] = window
      end
    elseif strategy == 2 then
      local seq = redis.call('ZCARD', base)
      for j = 1, cost do
        redis.call('ZADD', base, now, now .. ':' .. (seq + j))
      end
      redis.call('PEXPIRE', base, window)
      if out[4 + 2 * i] == 0 then out[4 + 2 * i] = window end
    else
      if redis.call('INCRBY', base, cost) == cost then  -- expires as the next bucket ends
        redis.call('PEXPIREAT', base, (math.floor(now / window) + 2) * window - 1)
      end
    end
    out[3 + 2 * i] = out[3 + 2 * i] + cost
  end
end

local strikes = 0
if rejected > 0 and not dry and strike_window > 0 and client then
  strikes = redis.call('INCR', strike_key)
  if strikes == 1 then
    redis.call('PEXPIRE', strike_key, strike_window)
  end
end

out[1], out[2] = rejected, strikes
for i = 1, n do
  local remaining = spec[i * 4 - 2] - out[3 + 2 * i]
  if remaining < 0 then remaining = 0 end
  out[3 + 2 * i] = remaining  -- (Redis returns a number as an integer, its fraction dropped)
end
if ARGV[5] then out[#out + 1] = reserved end
return out
