"""The behaviour detector's Redis script: one command per request, in the shared pipeline.

KEYS: this window's counters (a hash), the previous window's, then, for a numbered page or
original, the list of this kind's recent `id:seconds`, and for an original that is not embedded
the list of recent page ids (is its own page there?).
ARGV: counter TTL (ms), the fields to bump (one letter each), the entry to push ('' for none),
the list's size, its TTL (ms), the id whose page to look for ('' for none), the earliest time
(s) a page still counts, and '1' for a dry run (read only).
Returns: this window's counters, the previous window's, the list as it was before the push,
and 1 when this original had no page (its `o` counter was bumped).
"""

SCRIPT = """
local function seen(ring, id, cutoff)
  for i = #ring, 1, -1 do
    local entry = ring[i]
    local sep = string.find(entry, ':', 1, true)
    if sep and string.sub(entry, 1, sep - 1) == id
        and tonumber(string.sub(entry, sep + 1)) >= cutoff then
      return true
    end
  end
  return false
end
local bumps, dry = ARGV[2], ARGV[8] == '1'
local orphan = 0
if ARGV[6] ~= '' and not seen(redis.call('LRANGE', KEYS[4], 0, -1), ARGV[6], tonumber(ARGV[7])) then
  orphan = 1
  bumps = bumps .. 'o'
end
if not dry then
  -- a field bumped to 1 is new (so is the window's hash when it is its first): (re)start the
  -- TTL then, not on every request; a window's hash is read only until the next one ends
  local fresh = false
  for i = 1, #bumps do
    if redis.call('HINCRBY', KEYS[1], string.sub(bumps, i, i), 1) == 1 then fresh = true end
  end
  if fresh then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
end
local fields = {'p', 'i', 'a', 'c', 'o'}
local current = redis.call('HMGET', KEYS[1], unpack(fields))
local previous = redis.call('HMGET', KEYS[2], unpack(fields))
local ring = {}
if ARGV[3] ~= '' then
  ring = redis.call('LRANGE', KEYS[3], 0, -1)
  if not dry then
    redis.call('RPUSH', KEYS[3], ARGV[3])
    redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1)
    redis.call('PEXPIRE', KEYS[3], ARGV[5])
  end
end
return {current, previous, ring, orphan}
"""
