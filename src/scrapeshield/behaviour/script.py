"""The behaviour detector's Redis script: one command per request, in the shared pipeline.

KEYS: this window's counters (a hash), the previous window's, then, for a numbered page or
original, this kind's ring of recent ids, and for an original that is not embedded the ring of
recent page ids (is its own page there?).
ARGV: counter TTL (ms), the fields to bump (one letter each), the entry to push ('' for none),
the ring's size (entries), its TTL (ms), the id to look for (' <id> ', '' for none), the
earliest time a page still counts ('<seconds>'), and '1' for a dry run (read only).
Returns: this window's counters, the previous window's, the ring as it was before the push
(one string), and 1 when this original had no page (its `o` counter was bumped).

A ring is one string of fixed-width entries, oldest first, `RING_ENTRY` (seconds in ten digits,
the id in twelve, each followed by a space), which the detector formats: the script appends an
entry and keeps the last `size` by length, finds an id with one plain search (an id field is
the only run of twelve digits between spaces) and compares times as text (ten digits each), so
it parses no number of the ring. The detector splits the returned string once.
"""

RING_ENTRY = "{seconds:010d} {ident:012d} "
"""One entry of a ring: `1796000000 000000000017 ` (24 characters)."""
ENTRY_WIDTH = 24
SOUGHT = " {ident:012d} "
"""What `seen` searches for: an id field with the spaces around it."""
SECONDS = "{seconds:010d}"

SCRIPT = """
local function seen(ring, sought, cutoff)
  local from = 1
  while true do
    local at = string.find(ring, sought, from, true)
    if not at then return false end
    if at > 10 and string.sub(ring, at - 10, at - 1) >= cutoff then return true end
    from = at + 1
  end
end
local bumps, dry = ARGV[2], ARGV[8] == '1'
local orphan = 0
if ARGV[6] ~= '' and not seen(redis.call('GET', KEYS[4]) or '', ARGV[6], ARGV[7]) then
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
local ring = ''
if ARGV[3] ~= '' then
  ring = redis.call('GET', KEYS[3]) or ''
  if not dry then
    local kept, most = ring .. ARGV[3], tonumber(ARGV[4]) * ENTRY_WIDTH
    if #kept > most then kept = string.sub(kept, -most) end
    redis.call('SET', KEYS[3], kept, 'PX', ARGV[5])
  end
end
return {current, previous, ring, orphan}
""".replace("ENTRY_WIDTH", str(ENTRY_WIDTH))
