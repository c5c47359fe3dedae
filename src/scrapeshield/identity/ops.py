"""The store operations of one request, queued as a list and run in one go.

    A key member ttl   add a member to a distinct count (HyperLogLog on Redis), then count
    C key              count distinct members
    W key              count the union of the previous op's distinct count and this one's (the
                       previous op's answer when this one's is empty)
    I key ttl          increment a counter (TTL set when created)
    G key              1 if the key exists, else 0
    V key              a counter's value (0 when missing)
    S key ttl          mark a key (set to "1" with a TTL)

On Redis the whole list is one script (`EVALSHA`, queued with `queue_script`), so it joins the
request's one round trip (on Redis Cluster, one script per subject, still in that round trip);
on the MemoryStore it runs at once, without a coroutine; on any other store through the
protocol. In dry run (`scrapeshield explain`) nothing is written: an add is
read as a count plus one, an increment as the value plus one, a mark is skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from scrapeshield.store.base import Store
from scrapeshield.store.keys import by_tag
from scrapeshield.store.kind import on_redis
from scrapeshield.store.memory import MemoryStore
from scrapeshield.store.soon import Soon

if TYPE_CHECKING:
    from scrapeshield.store.redis import RedisStore

T = TypeVar("T")

Op = tuple[str, str, str, float]
"""(code, key, member, ttl seconds): member and ttl are unused ("", 0) where a code has none."""
Ops = tuple[str, tuple[str, ...], tuple[str, ...], tuple[float, ...]]
"""A list of operations as its script call holds them, in columns: their codes (one letter
each, in order), keys, members and TTLs. A plan's keys are its call's (one tuple), its codes and
TTLs its shape's, so a client's plan holds two tuples of operations, not one per operation."""


def columns(listed: Sequence[Op]) -> Ops:
    """Operations listed one by one, as columns."""
    return (
        "".join([op[0] for op in listed]),
        tuple([op[1] for op in listed]),
        tuple([op[2] for op in listed]),
        tuple([op[3] for op in listed]),
    )


def run_now(store: MemoryStore, ops: Ops, dry: bool) -> list[int]:
    out: list[int] = []
    codes, keys, members, ttls = ops
    for i, key in enumerate(keys):  # (a member and a TTL read only where the code takes one)
        code = codes[i]
        if code == "A":
            if dry:
                out.append(store.distinct(key, None) + 1)
            else:
                out.append(store.distinct(key, members[i], ttls[i]))
        elif code == "C":
            out.append(store.distinct(key, None))
        elif code == "W":  # most visitors took nothing without a token: the count just taken
            if store.distinct(key, None):
                out.append(store.distinct_union([keys[i - 1], key]) + (1 if dry else 0))
            else:
                out.append(out[-1])
        elif code == "I":
            out.append(int(store.peek(key) or 0) + 1 if dry else store.bump(key, 1, ttls[i]))
        elif code == "G":
            out.append(1 if store.peek(key) is not None else 0)
        elif code == "V":
            out.append(_int(store.peek(key)))
        else:
            if not dry:
                store.put(key, "1", ttls[i])
            out.append(1)
    return out


def submit(store: RedisStore, ops: Ops) -> Awaitable[Any]:
    """The list as one script call, queued now in the shared pipeline; on Redis Cluster one
    call per subject (hash tag), all queued now, so still one round trip."""
    if store.split:
        return _split(store, ops)
    return _submit(store, ops)


Call = tuple[tuple[str, ...], tuple[Any, ...], tuple[int, ...]]
"""The script call of a list of operations, made once for every request that runs the same
list: its keys, its arguments, and where in them the members given per request go. A plain
tuple of strings and numbers: kept per client (in identity's plans), which the garbage
collector stops tracking, where a named tuple stays tracked (docs/log/store.md, "Garbage
collection")."""


def call(ops: Ops, per_request: Sequence[int] = ()) -> Call:
    """The call running `ops` (its keys the operations' own tuple); the members of the adds at
    `per_request` (positions in `ops`) are left to `queue_call` (an original's path)."""
    codes, keys, members, ttls = ops
    args: list[Any] = [codes]
    members_at = []
    for i, (code, member, ttl) in enumerate(zip(codes, members, ttls, strict=True)):
        if code == "A":
            if i in per_request:
                members_at.append(len(args))
            args += [member, max(1, int(ttl * 1000))]
        elif code in "IS":
            args.append(max(1, int(ttl * 1000)))
    return keys, tuple(args), tuple(members_at)


def queue_call(
    store: RedisStore, made: Call, member: str, then: Callable[[list[Any]], T]
) -> Soon[T]:
    """`queue` for a call made beforehand (`call`), with this request's `member` in its adds
    left per request (one server, not a spreading Cluster)."""
    keys, given, members_at = made
    args = list(given)
    for at in members_at:
        args[at] = member
    return store.queue_script(SCRIPT, list(keys), args, then)


def _submit(
    store: RedisStore, ops: Ops, then: Callable[[list[Any]], Any] | None = None
) -> Awaitable[Any]:
    keys, args, _ = call(ops)
    if then is not None:
        return store.queue_script(SCRIPT, list(keys), list(args), then)
    return store.submit_script(SCRIPT, list(keys), list(args))


def _split(store: RedisStore, ops: Ops) -> Awaitable[list[int]]:
    """One call per hash tag. A union count (`W`) spans two subjects (a young token's budget
    and what its address took without one): here it is the sum of the two counts, so an
    original taken both without and with the token counts twice (stricter, never laxer)."""
    listed = list(zip(*ops, strict=True))
    parts = []
    for positions in by_tag(ops[1]):
        part = [
            op if op[0] != "W" else ("C", op[1], "", 0.0) for op in (listed[i] for i in positions)
        ]
        parts.append((positions, _submit(store, columns(part))))
    return _joined(ops[0], parts)


async def _joined(codes: str, parts: list[tuple[list[int], Awaitable[Any]]]) -> list[int]:
    out = [0] * len(codes)
    for positions, reply in parts:
        for i, value in zip(positions, await reply, strict=True):
            out[i] = int(value)
    for i, code in enumerate(codes):
        if code == "W":
            out[i] += out[i - 1]
    return out


async def run(store: Store, ops: Ops, dry: bool) -> list[int]:
    """On any store: one script on Redis (unless dry), the protocol elsewhere."""
    if isinstance(store, MemoryStore):
        return run_now(store, ops, dry)
    if on_redis(store) and not dry:
        return [int(v) for v in await submit(store, ops)]
    out: list[int] = []
    previous = ""
    for code, key, member, ttl in zip(*ops, strict=True):
        if code == "A":
            count = await store.count_distinct(key)
            out.append(count + 1 if dry else await store.add_distinct(key, member, ttl))
        elif code == "C":
            out.append(await store.count_distinct(key))
        elif code == "W":
            if await store.count_distinct(key):
                out.append(await store.count_distinct(previous, key) + (1 if dry else 0))
            else:
                out.append(out[-1])
        elif code == "I":
            value = int(await store.get(key) or 0) + 1
            out.append(value if dry else await store.incr(key, 1, ttl))
        elif code == "G":
            out.append(1 if await store.get(key) is not None else 0)
        elif code == "V":
            out.append(_int(await store.get(key)))
        else:
            if not dry:
                await store.set(key, "1", ttl)
            out.append(1)
        previous = key
    return out


def _int(value: str | None) -> int:
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


SCRIPT = """
local codes, a, out = ARGV[1], 2, {}
for i = 1, #codes do
  local c, k = string.sub(codes, i, i), KEYS[i]
  if c == 'C' then
    out[i] = redis.call('PFCOUNT', k)
  elseif c == 'A' then
    -- PFADD answers 1 when it created the key or changed it; a key it just created counts
    -- exactly 1 (a HyperLogLog's estimate of one member is 1) and has no TTL yet, so no PTTL
    -- per new member (a second member in the first one's register may set the TTL once more:
    -- harmless). A member already counted (a client's own pool entry, an original seen
    -- again) costs PFADD and PFCOUNT only
    local added = redis.call('PFADD', k, ARGV[a])
    local count = redis.call('PFCOUNT', k)
    if added == 1 and count == 1 then redis.call('PEXPIRE', k, ARGV[a + 1]) end
    a = a + 2
    out[i] = count
  elseif c == 'W' then
    if redis.call('EXISTS', k) == 1 then
      out[i] = redis.call('PFCOUNT', KEYS[i - 1], k)
    else  -- most visitors took nothing without a token: the union is the count just taken
      out[i] = out[i - 1]
    end
  elseif c == 'I' then
    local v = redis.call('INCR', k)  -- created here (1): its TTL, in the same atomic call
    if v == 1 then redis.call('PEXPIRE', k, ARGV[a]) end
    a = a + 1
    out[i] = v
  elseif c == 'G' then
    out[i] = redis.call('EXISTS', k)
  elseif c == 'V' then
    out[i] = tonumber(redis.call('GET', k) or '0') or 0
  else
    redis.call('SET', k, '1', 'PX', ARGV[a])
    a = a + 1
    out[i] = 1
  end
end
return out
"""
