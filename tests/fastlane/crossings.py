"""When a sliding window's verdict turns, on the Redis server's clock (the differential harness,
`Twins._room`).

hit.lua weighs a sliding window's count as `floor(prev * (1 - elapsed) + cur)`, `elapsed` the
part of the current bucket gone by on the server's clock (`TIME`). With the previous bucket's
count `prev` fading, a request of cost `c` that the limit rejects is admitted from the moment
that weighted count falls below `quota - c + 1`: one instant of the bucket, computed from the
buckets' counts and the limit's own numbers. The twins read `TIME` a moment apart; a request
sent just before that instant can be rejected by the twin that reads first and admitted by the
other (a throttle on one twin only, its retry the previous bucket's decay step, ~0.17 s for 60
in 10 s: docs/log/store.md, "Batches in order"). The harness sends no request with such an
instant within its room, as it sends none with a bucket's edge there; what the twins answer is
then compared exactly, as before.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import redis.asyncio

from scrapeshield.ratelimit.plan import STRATEGY_CODES
from scrapeshield.settings import Settings
from tests.servers import glob_literal

if TYPE_CHECKING:
    from tests.fastlane.differential import Request

_SLIDING = STRATEGY_CODES["sliding-window-counter"]
_BUCKET = re.compile(rb":(\d+)/(\d+)s:(\d+)/([01])$")
"""A rate limit's bucket: `rl:...:<quota>/<window>s:<strategy code>/<parity>`
(ratelimit/plan.py `Limit`)."""

_COUNTS = """
local t = redis.call('TIME')
local out = {tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
for _, pattern in ipairs(ARGV) do
  for _, key in ipairs(redis.call('KEYS', pattern)) do
    if redis.call('TYPE', key).ok == 'string' then
      out[#out + 1] = key
      out[#out + 1] = redis.call('GET', key)
    end
  end
end
return out
"""
"""The server's time (ms) and every counter under the given prefixes' `rl:`, at one instant of
the server (a script: its clock stands still while it runs)."""

PAST_A_CROSSING = 0.005
"""Seconds waited past a crossing (the server's clock in whole ms, the count a float's)."""
Counts = tuple[int, dict[bytes, int]]
"""The server's time in ms and each rate-limit counter's key and count."""


async def read_counts(url: str, prefixes: Sequence[str]) -> Counts:
    """The twins' rate-limit counters and the server's time, read at one instant."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        reply = await client.eval(_COUNTS, 0, *[glob_literal(p) + "rl:*" for p in prefixes])
    finally:
        await client.aclose()
    now, found = int(reply[0]), reply[1:]
    return now, {key: int(count) for key, count in zip(found[::2], found[1::2], strict=True)}


def addresses(request: Request) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses the request's client may be known by: its peer's and every one its
    X-Forwarded-For names (the harness's proxy is trusted)."""
    named = [request.ip]
    for name, value in request.headers:
        if name.lower() == "x-forwarded-for":
            named += [part.strip() for part in value.split(",")]
    return [ipaddress.ip_address(text) for text in named]


def of_client(
    counts: Mapping[bytes, int], known: Sequence[ipaddress.IPv4Address | ipaddress.IPv6Address]
) -> dict[bytes, int]:
    """The counters a request of a client `known` by these addresses may hit: an address's or
    network's that holds one of them, and every other subject's (a visitor's, a user's):
    another client's verdict turning is no matter for this request."""
    out = {}
    for key, count in counts.items():
        subject = key[key.find(b"{") + 1 : key.find(b"}")].decode()
        try:
            network = ipaddress.ip_network(subject, strict=False)
        except ValueError:
            out[key] = count
            continue
        if any(address in network for address in known):
            out[key] = count
    return out


def costs(settings: Iterable[Settings]) -> range:
    """Every cost a request may have under these settings: 1 to the largest group's cost."""
    return range(1, 1 + max(g.cost for s in settings for g in s.ratelimit.groups.values()))


def crossings(now: int, counts: Mapping[bytes, int], costs: Iterable[int]) -> list[float]:
    """The instants (server ms) after `now` and within the current bucket of each sliding
    window at which a request of one of `costs` turns from rejected to admitted, as hit.lua
    counts: `prev * (1 - elapsed) + cur` falls to `quota - cost + 1`."""
    windows: dict[tuple[bytes, int, int], dict[int, int]] = {}
    for key, count in counts.items():
        found = _BUCKET.search(key)
        if found is None or int(found[3]) != _SLIDING:
            continue
        base = (key[: found.start()], int(found[1]), int(found[2]) * 1000)
        windows.setdefault(base, {})[int(found[4])] = count
    out = []
    for (_, quota, window), parities in windows.items():
        index = now // window
        cur, prev = parities.get(index % 2, 0), parities.get(1 - index % 2, 0)
        for cost in costs:
            level = quota - cost + 1
            if prev > 0 and cur < level < cur + prev:
                at = (index + 1 - (level - cur) / prev) * window
                if at > now:
                    out.append(at)
    return sorted(out)


def past_crossings(
    now: int, counts: Mapping[bytes, int], costs: Iterable[int], room: float
) -> float:
    """Seconds to wait from `now` (server ms) so that no crossing (`crossings`) falls within the
    next `room` seconds: 0 if none does, else until just past the last of a chain of them
    less than `room` apart."""
    until = float(now)
    for at in crossings(now, counts, costs):
        if at - until > room * 1000:
            break
        until = at + PAST_A_CROSSING * 1000
    return (until - now) / 1000
