"""Script calls queued in one tick, sent to Redis as ONE call of a combined script.

A page view with every defence runs three scripts (the rate limiter's, identity's, behaviour's)
and reads the ban key; concurrent requests queue theirs in the same tick. Each call costs the
client a command to pack and a reply to parse, and the server a command to dispatch. So the
store queues them as *parts* and sends each tick's parts as one `EVALSHA` of a script made from
their sources (`combined_source`): each concern's Lua stays its own function body (its `KEYS`
and `ARGV` are its own, sliced from the combined call's), generated here, never copied by hand.
Each part runs under `pcall`: one part's error fails its own caller only, as a separate call
would (what it wrote before the error stays written, as with a separate script). `ARGV.shared`
is a table the parts of one call share (alone, a script finds nil there): the rate limiter
makes the server's time and its parsed limits once per call with it.

Only where every key of a tick can be in one call: one server, Sentinel, or a Cluster whose
prefix pins every key to one slot. On a spreading Cluster (`RedisStore.split`) each part keeps
its own call, routed to its subject's slot.

The combined call's arguments: ARGV[1] the number of parts n; then per part its source's index
in the combined script, its number of keys and its number of arguments; then every part's
arguments in turn. KEYS: every part's keys in turn. The reply: one element per part (an error
element for a part that failed).
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from scrapeshield.errors import StoreError
from scrapeshield.store.soon import Receiver, fail_all

GET = "return redis.call('GET', KEYS[1])"
"""A key's read as a part: the ban and trap reads join the request's one call."""
MAX_PARTS = 64
"""Parts per combined call: more go in the next call of the same pipeline, so one call never
holds the server for long whatever the concurrency."""

_DISPATCH = """
local parts = {
%s
}
local n = tonumber(ARGV[1])
local out, k, a, shared = {}, 0, 1 + 3 * n, {}
for c = 1, n do
  local h = 3 * c - 1
  local nk, na = tonumber(ARGV[h + 1]), tonumber(ARGV[h + 2])
  local args = {unpack(ARGV, a + 1, a + na)}
  args.shared = shared
  local ok, result = pcall(parts[tonumber(ARGV[h])], {unpack(KEYS, k + 1, k + nk)}, args)
  k, a = k + nk, a + na
  if not ok then
    result = {err = tostring(type(result) == 'table' and result.err or result)}
  elseif result == nil then
    result = false
  end
  out[c] = result
end
return out
"""


Part = tuple[str, list[str], list[Any]]
"""One queued script call: its source, its keys (prefixed), its arguments (a plain tuple: one
is made per script call of every request; its caller's future is kept apart, as only it waits
for the reply)."""


@functools.lru_cache(maxsize=256)
def sha(source: str) -> str:
    return hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


@functools.lru_cache(maxsize=64)
def combined_source(sources: tuple[str, ...]) -> str:
    """One script running any of `sources` (each a function body) per part of its call."""
    return _DISPATCH % ",\n".join(f"function(KEYS, ARGV)\n{body}\nend" for body in sources)


def command(parts: list[Part]) -> tuple[str, tuple[Any, ...]]:
    """The source and the `EVALSHA` arguments of one call running `parts` in order: the part's
    own command when it is alone (a plain GET for a read), else the combined script's."""
    if len(parts) == 1:
        source, keys, args = parts[0]
        if source == GET:
            return source, ("GET", keys[0])
        return source, ("EVALSHA", sha(source), len(keys), *keys, *args)
    source, digest, index = _layout(frozenset([part[0] for part in parts]))
    header: list[Any] = [len(parts)]
    keys, args = [], []
    for part_source, part_keys, part_args in parts:
        header += (index[part_source], len(part_keys), len(part_args))
        keys += part_keys
        args += part_args
    return source, ("EVALSHA", digest, len(keys), *keys, *header, *args)


@functools.lru_cache(maxsize=64)
def _layout(sources: frozenset[str]) -> tuple[str, str, dict[str, int]]:
    """The combined script of a set of sources (ordered by digest: one script per set), its
    digest and each source's index in it; made once per set, not per call."""
    ordered = tuple(sorted(sources, key=sha))
    source = combined_source(ordered)
    return source, sha(source), {s: i for i, s in enumerate(ordered, 1)}


def settle(replies: list[Receiver], reply: Any) -> None:
    """Each part's reply from the call's (an error element fails that part only); a lone part
    was sent as itself, so the call's reply is its own."""
    if len(replies) == 1:
        values = [reply]
    elif isinstance(reply, list) and len(reply) == len(replies):
        values = reply
    else:
        fail_all(replies, StoreError(f"combined script: unexpected reply {reply!r:.100}"))
        return
    for future, value in zip(replies, values, strict=True):
        if future.done():  # its request was cancelled
            continue
        if isinstance(value, Exception):
            future.set_exception(StoreError(str(value)))
        else:
            future.set_result(value)
