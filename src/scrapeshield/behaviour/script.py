"""The behaviour detector's Redis script: one command per request, in the shared pipeline.

Everything behaviour keeps of a client on Redis is ONE hash, `bh:{<client>}` (its Cluster slot:
the client's), so a request reads it with one HMGET and writes it with one HSET:
- the counters of two windows, by the parity of the window's index: `p0 i0 a0 c0 o0` and
  `p1 i1 a1 c1 o1` (`evidence.FIELDS`), and `w0`/`w1`, the index of the window each holds. A
  window's first request finds its parity's `w` naming an older window and starts the five
  counters again (and renews the hash's TTL); the other parity is the previous window only
  when its `w` names the window before this one;
- the rings of recent ids: `pages`, `images`, `listed` (listing pages by their path's hash).

A ring is one string of fixed-width entries, oldest first, `RING_ENTRY` (seconds in ten digits,
the id in twelve, each followed by a space), which the detector formats: the script appends an
entry and keeps the last `size` by length, finds an id with one plain search (an id field is
the only run of twelve digits between spaces) and compares times as text (ten digits each).
It answers what the detector's judgement needs, as small integers, not the ring: this window's
counters with this request counted, the previous window's, and the walk length as far as one
search per stride tells it (`evidence.walk_length`: the stride from each of the last three ids
fetched since the walk's cutoff, then whether the id two strides back is among them). Most
requests stop there (1 or 2); for a longer walk (a scraper's, or a person's "next" clicks) the
script returns the ring in its place and the detector measures the walk, as a set lookup per id
in Python costs less than a search per id in Lua (measured: a walk through a whole ring cost
the server ~24 us more a call that way, ~9 us more with the ring parsed into a Lua table).

KEYS: the client's hash, then the client's trap flag (`trap:{<client>}`, read along when the
trap detector is on: same slot).
ARGV: the hash's TTL (ms), this window's index (text), its parity ('0' or '1'), the counters to
bump (their positions in `FIELDS`, 1-based, one digit each), the ring to push to ('' for none),
the entry to push, the ring's size (entries), the ring to look in ('' for none), the id to look
for (' <id> '), the earliest time a page still counts ('<seconds>'), '1' for a dry run, this
request's id ('' for none: no walk), the earliest time an id still counts towards a walk,
'1' to have the ring returned whenever the request has an id (leases: a page's lease checks
walks against it, docs/leases.md): a short walk then comes as `W<walk><ring>`; then, optionally,
the client's leased requests this request reads (`_LEASED`, below), counted before it.
Returns: this window's five counters (this request counted, an orphan original too), the
previous window's five (zeros when its parity holds an older window), the walk length (1 or 2;
the ring as it was, for a longer walk), and the trap flag's value (nil when not flagged) when
its key was given.

The hash lives its TTL (two windows and the longest ring memory) from the first request of the
client's latest window: an idle client's hash expires; an active one's is renewed once a window,
not on every request. Ring entries older than their memory are skipped by time, so a ring that
outlives them answers as an expired one would.

A client's leased requests (docs/leases.md) come to the same hash in one pass, however many
(`_LEASED`), as runs: a lease's requests bump fixed counters, so consecutive ones in one window
come as one (its window's index, the counters each bumps, how many), counted as `SCRIPT` counts
each of them (its window's counters started again at the first, then the count added to each
bumped counter); the ring entries appended and cut once (a ring keeps its last `size` entries,
so cutting once keeps what cutting after each would, and entries before a ring's last `size`
are not sent). Nothing is judged: they were allowed already. Their arguments: two rings, each
as its field ('' for none), its entries (`RING_ENTRY`: the last `size` of those `SCRIPT` would
have pushed, in that order) and its size (entries); then per run, in order, its window's index
(text), the counters it bumps (as `SCRIPT`'s) and its requests (`leasing.script_args`; a lease
of 128 pages in one window is 3 arguments, not 256, and at most 48 entries). Before a full
evaluation of the client they ride in its own `SCRIPT` call (after its 14 arguments: counted
first, so it reads them; one HMGET, one HSET); a lease's settle sends them alone, `SETTLE`
(KEYS: the client's hash; ARGV: the hash's TTL (ms), then `_LEASED`'s; returns the number of
requests).
"""

from scrapeshield.behaviour.evidence import LAGS

RING_ENTRY = "%010d %012d "
"""One entry of a ring, `RING_ENTRY % (seconds, id)`: `1796000000 000000000017 ` (24
characters). printf-style: a third of the cost of `str.format` with format specs."""
ENTRY_WIDTH = 24
SOUGHT = " %012d "
"""What `seen` searches for: an id field with the spaces around it."""
SECONDS = "%010d"
BUMP_DIGITS = "12345"
"""How the scripts name a counter: its position in `evidence.FIELDS` (1-based), one digit."""

_LEASED = """
local NAMES = {'p0', 'i0', 'a0', 'c0', 'o0', 'w0', 'p1', 'i1', 'a1', 'c1', 'o1', 'w1'}
-- the leased requests' rings from ARGV[first]: their fields added to `fields`, their indexes
local function leased_rings(fields, first)
  local out = {}
  for r = first, first + 3, 3 do
    if ARGV[r] and ARGV[r] ~= '' then
      fields[#fields + 1], out[#out + 1] = ARGV[r], r
    end
  end
  return out
end
-- each run of leased requests from ARGV[first] (its window's index, the counters its requests
-- bump, how many) in turn into the counters `v` (NAMES' order), as SCRIPT counts each of its
-- requests (its window's counters started again at the first); whether a window started (the
-- hash's TTL renewed), and how many requests
local function count_leased(v, changed, first)
  local fresh, requests = false, 0
  for n = first, #ARGV, 3 do
    local w, bumps, k = ARGV[n], ARGV[n + 1], tonumber(ARGV[n + 2])
    local at = (tonumber(w) % 2) * 6
    if v[at + 6] ~= w then  -- this parity's first request of its window: counted again
      for f = 1, 5 do v[at + f], changed[at + f] = 0, true end
      v[at + 6], changed[at + 6], fresh = w, true, true
    end
    for j = 1, #bumps do
      local f = at + string.byte(bumps, j) - 48
      v[f], changed[f] = (tonumber(v[f]) or 0) + k, true
    end
    requests = requests + k
  end
  return fresh, requests
end
-- a ring with entries appended, its last `size` entries kept
local function cut(ring, entries, size)
  local kept, most = (ring or '') .. entries, tonumber(size) * ENTRY_WIDTH
  if #kept > most then kept = string.sub(kept, -most) end
  return kept
end
"""

SCRIPT = (
    (
        _LEASED
        + """
local function seen(ring, sought, cutoff)
  local from = 1
  while true do
    local at = string.find(ring, sought, from, true)
    if not at then return false end
    if at > 10 and string.sub(ring, at - 10, at - 1) >= cutoff then return true end
    from = at + 1
  end
end
-- evidence.walk_length's first step: the stride from each of the last LAGS ids fetched since
-- cutoff (entries are oldest first), and whether the id two strides back is among them. Most
-- requests end here (1 or 2); a longer walk returns the ring, which the detector measures
local function walk(ring, ident, cutoff)
  local best, lags, at = 1, 0, #ring - ENTRY_WIDTH + 1
  while lags < LAGS and at >= 1 do
    if string.sub(ring, at, at + 9) >= cutoff then
      lags = lags + 1
      local stride = ident - (tonumber(string.sub(ring, at + 11, at + 22)) or ident)
      if stride ~= 0 then
        local before = ident - 2 * stride
        if before >= 0 and seen(ring, string.format(' %012d ', before), cutoff) then
          return ring
        end
        best = 2
      end
    end
    at = at - ENTRY_WIDTH
  end
  return best
end
local key, ring_field, look_field = KEYS[1], ARGV[5], ARGV[8]
local fields = NAMES  -- (this call's own table: the rings' fields follow its twelve)
fields[13], fields[14] = ring_field, look_field
local leased = leased_rings(fields, 15)
local v = redis.call('HMGET', key, unpack(fields))
local rings = {}  -- by field: the leased requests' entries appended
for i = 13, #fields do rings[fields[i]] = v[i] or '' end
local changed = {}
local renew = count_leased(v, changed, 21)
for _, r in ipairs(leased) do rings[ARGV[r]] = cut(rings[ARGV[r]], ARGV[r + 1], ARGV[r + 2]) end
local ring = rings[ring_field]
local bumped = ARGV[4]
if look_field ~= '' and not seen(rings[look_field], ARGV[9], ARGV[10]) then
  bumped = bumped .. '5'  -- an orphan original
end
local at = ARGV[3] == '0' and 0 or 6
local other = 6 - at
local fresh = v[at + 6] ~= ARGV[2]
local held = tonumber(v[other + 6]) == tonumber(ARGV[2]) - 1  -- (no number made text)
local out = {}
for f = 1, 5 do
  out[f] = fresh and 0 or (tonumber(v[at + f]) or 0)
  out[f + 5] = held and (tonumber(v[other + f]) or 0) or 0
end
for j = 1, #bumped do
  local f = string.byte(bumped, j) - 48
  out[f], changed[at + f] = out[f] + 1, true
end
if fresh then
  for f = 1, 6 do changed[at + f] = true end
  v[at + 6], renew = ARGV[2], true
end
for f = 1, 5 do v[at + f] = out[f] end
out[11] = ARGV[12] ~= '' and walk(ring, tonumber(ARGV[12]), ARGV[13]) or 1
if ARGV[14] == '1' and ARGV[12] ~= '' and type(out[11]) == 'number' then
  out[11] = 'W' .. out[11] .. ring  -- the ring wanted too: after 'W' and the walk
end
if ARGV[11] ~= '1' then
  local args = {}
  for f = 1, 12 do
    if changed[f] then
      args[#args + 1] = NAMES[f]
      args[#args + 1] = v[f]
    end
  end
  for _, r in ipairs(leased) do
    if ARGV[r] ~= ring_field then
      args[#args + 1] = ARGV[r]
      args[#args + 1] = rings[ARGV[r]]
    end
  end
  if ring_field ~= '' then
    args[#args + 1] = ring_field
    args[#args + 1] = cut(ring, ARGV[6], ARGV[7])
  end
  redis.call('HSET', key, unpack(args))
  if renew then redis.call('PEXPIRE', key, ARGV[1]) end
end
if KEYS[2] then out[12] = redis.call('GET', KEYS[2]) end
return out
"""
    )
    .replace("ENTRY_WIDTH", str(ENTRY_WIDTH))
    .replace("LAGS", str(LAGS))
)

SETTLE = (
    _LEASED
    + """
local key = KEYS[1]
local fields = {unpack(NAMES)}
local leased = leased_rings(fields, 2)
local v = redis.call('HMGET', key, unpack(fields))
local changed = {}
local fresh, requests = count_leased(v, changed, 8)
local args = {}
for f = 1, 12 do
  if changed[f] then
    args[#args + 1] = NAMES[f]
    args[#args + 1] = v[f]
  end
end
for i, r in ipairs(leased) do
  args[#args + 1] = ARGV[r]
  args[#args + 1] = cut(v[12 + i], ARGV[r + 1], ARGV[r + 2])
end
if #args > 0 then redis.call('HSET', key, unpack(args)) end
if fresh then redis.call('PEXPIRE', key, ARGV[1]) end
return requests
"""
).replace("ENTRY_WIDTH", str(ENTRY_WIDTH))
