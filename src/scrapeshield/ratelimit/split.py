"""A request's limits on Redis Cluster: one hit.lua call per subject, settled when one refuses.

A request's limits belong to several subjects (its visitor, user or client, its network), and
each subject's keys carry that subject as their Cluster hash tag, so they live on different
primaries and no single script can hold them all. Each subject's call tests and hits its own
limits, all in the request's one round trip (redis-py sends each node its part). Most requests
are admitted by every call and cost nothing more. When one call refuses the request (or the
client's call finds it banned), the calls that spent are given back with settle.lua, and the
client's slot counts the strike, in a second round trip: a refused request still spends nothing,
at the price of a moment in which a subject's counter holds a unit it gives back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

import msgspec

from scrapeshield.ratelimit.plan import Limit
from scrapeshield.store.keys import tag_of

if TYPE_CHECKING:
    from scrapeshield.store.redis import RedisStore

SETTLE_SCRIPT = (
    resources.files("scrapeshield.ratelimit").joinpath("lua", "settle.lua").read_text("utf-8")
)


def pack_spec(limits: Sequence[Limit], cost: int) -> bytes:
    """hit.lua's ARGV[3]: strategy code, quota, window (ms) and cost per limit, as one
    MessagePack array (the script unpacks it in C)."""
    return msgspec.msgpack.encode([n for lim in limits for n in (*lim.spec, cost)])


class Call:
    """One subject's part: which limits (positions in the request's plan), its keys (the limits'
    `n_keys`, then the client's strike and ban keys on the client's call), its packed spec."""

    __slots__ = ("client", "keys", "n_keys", "positions", "reply", "spec")

    def __init__(
        self, positions: list[int], keys: list[str], n_keys: int, spec: bytes, client: bool
    ) -> None:
        self.positions = positions
        self.keys = keys
        self.n_keys = n_keys
        self.spec = spec
        self.client = client
        self.reply: Awaitable[Any] | None = None


def plan_calls(
    limits: Sequence[Limit], storage_keys: Sequence[str], cost: int, client_keys: tuple[str, str]
) -> list[Call]:
    """The limits grouped by their keys' hash tag; the client's strike and ban keys join
    their tag's group (or make one of their own)."""
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(storage_keys):
        groups.setdefault(tag_of(key), []).append(i)
    client_tag = tag_of(client_keys[0])
    groups.setdefault(client_tag, [])
    calls = []
    for tag, positions in groups.items():
        keys = [key for i in positions for key in limits[i].redis_keys(storage_keys[i])]
        n_keys = len(keys)
        if tag == client_tag:
            keys += client_keys
        spec = pack_spec([limits[i] for i in positions], cost)
        calls.append(Call(positions, keys, n_keys, spec, tag == client_tag))
    return calls


def submit(store: RedisStore, script: str, calls: list[Call], dry: bool, window: int) -> None:
    """Queue every call now (one round trip)."""
    for call in calls:
        args = [1 if dry else 0, window, call.spec, "1" if call.client else "0"]
        call.reply = store.submit_script(script, call.keys, args)


def _numbers(reply: Sequence[Any]) -> list[int]:
    """hit.lua's reply as integers (its `banned`, a ban's record when banned, read as 1)."""
    return [int(v) if i != 2 else int(v not in (0, None, "")) for i, v in enumerate(reply)]


async def combine(
    store: RedisStore, calls: list[Call], n: int, costs: Sequence[int], dry: bool, window: int
) -> list[int]:
    """The replies as one hit.lua reply for all `n` limits: {rejected, strikes, remaining and
    reset each}; a refused or banned request's spending given back first."""
    replies = [_numbers(await call.reply) for call in calls if call.reply is not None]
    figures = [0] * (2 * n)
    rejected, strikes, banned = 0, 0, False
    for call, raw in zip(calls, replies, strict=True):
        if raw[0] and (not rejected or call.positions[raw[0] - 1] + 1 < rejected):
            rejected = call.positions[raw[0] - 1] + 1  # the first refusing limit, in plan order
        strikes = max(strikes, raw[1])
        banned = banned or raw[2] == 1
        for j, position in enumerate(call.positions):
            figures[2 * position : 2 * position + 2] = raw[4 + 2 * j : 6 + 2 * j]
    if dry or not (rejected or banned):
        return [rejected, strikes, *figures]
    settles = []
    for call, raw in zip(calls, replies, strict=True):
        spent = raw[0] == 0 and raw[2] == 0  # this call admitted and hit its limits
        strike = call.client and not banned and raw[0] == 0 and window > 0
        if not (spent and call.positions) and not strike:
            continue
        if spent:
            for position in call.positions:
                figures[2 * position] += costs[position]
        args = [raw[3], call.spec if spent else "", "1" if spent else "0", window if strike else 0]
        keys = [*call.keys[: call.n_keys]] if spent else []
        if strike:
            keys.append(call.keys[call.n_keys])  # the strike key (the ban key follows it)
        settles.append(store.submit_script(SETTLE_SCRIPT, keys, args))
    for reply in settles:
        strikes = max(strikes, int(await reply))
    return [rejected, strikes, *figures]
