"""The behaviour detector's Redis script: one command per request, in the shared pipeline.

Everything behaviour keeps of a client on Redis is ONE hash, `bh:{<client>}` (its Cluster slot:
the client's), so a request reads it with one HMGET and writes it with one HSET:
- the counters of two windows, by the parity of the window's index: `p0 i0 a0 c0 o0` and
  `p1 i1 a1 c1 o1` (`evidence.FIELDS`), and `w0`/`w1`, the index of the window each holds. A
  window's first request finds its parity's `w` naming an older window and starts the five
  counters again (and renews the hash's TTL); the detector reads the other parity as the
  previous window only when its `w` names the window before this one;
- the rings of recent ids: `pages`, `images`, `listed` (listing pages by their path's hash).

A ring is one string of fixed-width entries, oldest first, `RING_ENTRY` (seconds in ten digits,
the id in twelve, each followed by a space), which the detector formats: the script appends an
entry and keeps the last `size` by length, finds an id with one plain search (an id field is
the only run of twelve digits between spaces) and compares times as text (ten digits each), so
it parses no number of the ring. The detector splits the returned string once.

KEYS: the client's hash.
ARGV: the hash's TTL (ms), this window's index (text), its parity ('0' or '1'), the counters to
bump (their positions in `FIELDS`, 1-based, one digit each), the ring to push to ('' for none),
the entry to push, the ring's size (entries), the ring to look in ('' for none), the id to look
for (' <id> '), the earliest time a page still counts ('<seconds>'), and '1' for a dry run.
Returns: the twelve counter fields (`p0`..`w0`, `p1`..`w1`) as they were before this request,
the pushed ring as it was, and 1 when this original had no page (its `o` counter was bumped).

The hash lives its TTL (two windows and the longest ring memory) from the first request of the
client's latest window: an idle client's hash expires; an active one's is renewed once a window,
not on every request. Ring entries older than their memory are skipped by time, so a ring that
outlives them answers as an expired one would.
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
local key, ring_field, look_field = KEYS[1], ARGV[5], ARGV[8]
local v = redis.call('HMGET', key, 'p0', 'i0', 'a0', 'c0', 'o0', 'w0',
  'p1', 'i1', 'a1', 'c1', 'o1', 'w1', ring_field, look_field)
local orphan = 0
if look_field ~= '' and not seen(v[14] or '', ARGV[9], ARGV[10]) then orphan = 1 end
if ARGV[11] ~= '1' then
  local names, at
  if ARGV[3] == '0' then
    names, at = {'p0', 'i0', 'a0', 'c0', 'o0', 'w0'}, 0
  else
    names, at = {'p1', 'i1', 'a1', 'c1', 'o1', 'w1'}, 6
  end
  local fresh = v[at + 6] ~= ARGV[2]
  local counts = {}
  for f = 1, 5 do
    counts[f] = fresh and 0 or (tonumber(v[at + f]) or 0)
  end
  local bumps = ARGV[4]
  for j = 1, #bumps do
    local f = string.byte(bumps, j) - 48
    counts[f] = counts[f] + 1
  end
  if orphan == 1 then counts[5] = counts[5] + 1 end
  local args = {}
  for f = 1, 5 do
    if fresh or counts[f] ~= (tonumber(v[at + f]) or 0) then
      args[#args + 1] = names[f]
      args[#args + 1] = counts[f]
    end
  end
  if fresh then
    args[#args + 1] = names[6]
    args[#args + 1] = ARGV[2]
  end
  if ring_field ~= '' then
    local kept, most = (v[13] or '') .. ARGV[6], tonumber(ARGV[7]) * ENTRY_WIDTH
    if #kept > most then kept = string.sub(kept, -most) end
    args[#args + 1] = ring_field
    args[#args + 1] = kept
  end
  redis.call('HSET', key, unpack(args))
  if fresh then redis.call('PEXPIRE', key, ARGV[1]) end
end
v[14] = orphan
return v
""".replace("ENTRY_WIDTH", str(ENTRY_WIDTH))
