"""The rate limiter's part in leases (docs/leases.md): its headroom, its response fields per
leased request, and the deferred requests counted in one hit of their summed cost.

A lease is a *reservation*: its whole cost is hit at the grant (checked like any request), so
every later hit counts it at once and no request can take a client past a limit; the lease
spends it locally, with no hit per leased request, and its unused part is given back at the
settle. On Redis the hit is hit.lua's (every worker counts it) and the give-back refund.lua's;
in memory (one process) both are the native limiter's, at once. A reservation is made only
where it leaves `RESERVE_FACTOR` leases' worth of room unreserved (`reserve_margin`): near a
limit a client is evaluated in full, as without leases (the reasoning about people, a
network's many clients among them: docs/leases.md). A lease grown past `lease.requests` (a
fast client's) reserves at most a `RESERVE_FACTOR + 1`th of the room, so it too leaves
`RESERVE_FACTOR` times its own size unreserved."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Sequence
from functools import partial
from importlib import resources
from typing import Any

import msgspec

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.lease.protocol import GIVE_BACK_NOTE, UNLIMITED, Record, Terms
from scrapeshield.ratelimit.backends import (
    HIT_SCRIPT,
    Limiter,
    LimitState,
    Outcome,
    RedisLimiter,
    outcome_of,
    with_room,
)
from scrapeshield.ratelimit.headers import add_rate_limit_headers
from scrapeshield.ratelimit.memory import NativeMemoryLimiter
from scrapeshield.ratelimit.plan import Keys, Planner, Rules

_NO_NOTES: dict[str, object] = {}
RESERVE_FACTOR = 4
"""A reservation leaves at least this many leases' worth of every limit unreserved."""
RESERVED_NOTE = "ratelimit_reserved"
"""`ctx.notes`: the `Granted` of a reservation the request's own hit made (`held`)."""
REFUND_SCRIPT = (
    resources.files("scrapeshield.ratelimit").joinpath("lua", "refund.lua").read_text("utf-8")
)


def reserve_margin(lease_requests: int) -> int:
    """Requests of room a reservation must leave in every limit (`RESERVE_FACTOR` leases)."""
    return RESERVE_FACTOR * lease_requests


class Granted:
    """What a lease of one client's plan needs: its rules and keys, the states the granting
    request's hit found (remaining after it, reset), and when it was granted."""

    __slots__ = (
        "at",
        "claimed",
        "client_key",
        "counted_at",
        "ends",
        "group",
        "keys",
        "reserved",
        "rules",
        "server_ms",
        "states",
    )

    def __init__(
        self,
        group: str | None,
        rules: Rules | None,
        keys: Keys,
        states: tuple[LimitState, ...],
        at: float,
        client_key: str,
    ) -> None:
        self.group, self.rules, self.keys = group, rules, keys
        self.states, self.at = states, at
        self.client_key = client_key
        self.reserved = 0  # units hit up front, of which the unused part is given back
        self.server_ms = 0  # Redis: the reservation's server time (its window, for the give-back)
        self.ends: tuple[int, ...] = ()  # Redis: each fixed window's end then (ms), else 0
        self.counted_at = 0.0  # memory: the reservation's time (its window, for the give-back)
        self.claimed = False  # reserved by the granting request's hit, and taken by its lease


def terms(
    planner: Planner, facts: Facts, ctx: RequestContext, margin: int = 0, fields: bool = True
) -> Terms | None:
    """Headroom: the requests of this plan's cost that still fit in every limit, less
    `margin` (the room a reservation must leave unreserved). `fields`: the detector sends
    RateLimit fields (`headers`); where this plan's are not sent, `use` has nothing to do
    (`Terms.uses`: the settle counts the lease's records)."""
    group = planner.group_for(facts, ctx.notes)
    note = ctx.notes.get("ratelimit")
    if note is None:  # exempt (no plan): nothing to count
        granted = Granted(group, None, ((), (), -1), (), facts.time, facts.client_key)
        covered = _covered(planner, facts, group)
        return Terms(UNLIMITED, None, granted, steady=True, covered=covered, uses=False)
    outcome: Outcome = note["outcome"]
    plan = planner.plan(facts, ctx.notes)
    if outcome.rejected is not None or plan is None:
        return None
    rules, keys = plan
    states = outcome.states
    room = min(state.remaining // rules.cost for state in states)
    headroom = room - margin
    if headroom > (base := margin // RESERVE_FACTOR):  # a grown lease: a fifth of the room
        headroom = max(base, min(headroom, room // (RESERVE_FACTOR + 1)))
    held: Granted | None = ctx.notes.get(RESERVED_NOTE)
    if held is not None and held.group != rules.group:
        held = None
    if held is not None:  # reserved by this request's own hit
        headroom = min(headroom, held.reserved // rules.cost)
    if headroom <= 0:
        return None
    until = min(counted_until(state, facts.time) for state in states)
    # the reservation holds whatever other requests do: only the fields it sends would take
    # another request's fresher count (`keeps`), so without fields nothing need be asked
    steady, uses = not rules.headers, fields and bool(rules.headers)
    covered = _covered(planner, facts, rules.group)
    if held is not None:
        return Terms(headroom, until, held, steady=steady, covered=covered, uses=uses)
    granted = Granted(rules.group, rules, keys, states, facts.time, facts.client_key)
    return Terms(headroom, until, granted, steady=steady, covered=covered, uses=uses)


def _covered(planner: Planner, facts: Facts, group: str | None) -> bool:
    """Whether `covers` holds for every request of the lease's kind (method, route group and
    marked route, all in its key), so it is never asked (`Terms.covered`): where no exempt
    glob reads the path, the group `covers` finds is the one this request's kind gives,
    notes aside. (`covers` was ~3k instructions of a leased page, `group_for` again.)"""
    return not planner.reads_path() and planner.group_for(facts, _NO_NOTES) == group


def held(
    limiter: RedisLimiter, rules: Rules, keys: Keys, facts: Facts, ctx: RequestContext,
    outcome: Outcome, units: int, at: int,
) -> None:  # fmt: skip
    """The granting request's hit reserved `units` along (`RESERVE_NOTE`): the lease's state,
    ready (`terms`), and given back after the grant unless a lease took it (`unclaimed`)."""
    granted = Granted(rules.group, rules, keys, outcome.states, facts.time, facts.client_key)
    _count(granted, units, at, outcome.states)
    ctx.notes[RESERVED_NOTE] = granted
    ctx.notes[GIVE_BACK_NOTE] = partial(unclaimed, limiter, granted)


def unclaimed(limiter: RedisLimiter, granted: Granted) -> Awaitable[Any] | None:
    """A reservation the granting request's hit made, given back whole when no lease took
    it (queued: the next round trip)."""
    return None if granted.claimed else give_back(limiter, granted, 0)


def counted_until(state: LimitState, now: float) -> float:
    """Until when a reservation made now stays counted whole in this limit: a fixed window's
    end (its reset), a sliding window's current bucket's end, a moving window's entries' life.
    Not a sliding window's reset: that is when its previous bucket's decay frees one more
    unit, soon after every bucket roll (window / previous count: ~0.17 s for a person's 60 in
    10 s), which cut leases short and halved the leased share on Redis (docs/leases.md)."""
    strategy, window = state.limit.spec[0], state.limit.window
    if strategy == 1:
        return now + state.reset
    if strategy == 2:
        return now + window
    return (now // window + 1) * window  # (this host's clock: the bucket the hit counts in)


def covers(planner: Planner, granted: Granted, facts: Facts) -> bool:
    """The request's path falls in the granted group (groups may match paths)."""
    return planner.group_for(facts, _NO_NOTES) == granted.group


def keeps(granted: Granted, facts: Facts, ctx: RequestContext) -> bool:
    """Every count includes the lease's requests (reserved), so another request cannot make
    it wrong; the RateLimit fields take that request's fresher count of the same limits
    (`use`)."""
    note = ctx.notes.get("ratelimit")
    rules = granted.rules
    if rules is None or note is None or not granted.reserved:
        return True
    if facts.client_key != granted.client_key or note["group"] != rules.group:
        return True
    # what the client is told: that count, less the reservation's unused part, less each
    # further leased request (`use` subtracts all the leased requests' cost from it)
    fresh: Outcome = note["outcome"]
    units = granted.reserved
    granted.states = with_room(fresh.states, units)
    granted.at = facts.time
    return True


def use(
    legacy: bool | None, granted: Granted, facts: Facts, ctx: RequestContext, used: int
) -> None:
    """The RateLimit fields as the hit would have set them: remaining less `used` costs
    (`legacy`: the X-RateLimit fields too; None: no fields at all). Called only where the
    fields are sent (`Terms.uses`)."""
    rules = granted.rules
    if rules is None or legacy is None or not rules.headers:
        return
    spent, elapsed = used * rules.cost, facts.time - granted.at
    states = tuple(
        LimitState(s.limit, s.remaining - spent, max(0.0, s.reset - elapsed))
        for s in granted.states
    )
    add_rate_limit_headers(
        ctx.response_headers,
        rules.policy_header,
        Outcome(states, None, 0),
        legacy=legacy,
    )


def settle(
    limiter: Limiter, window: float, granted: Granted, records: Sequence[Record]
) -> Awaitable[Any] | None:
    """One hit of the deferred requests' summed cost (on Redis queued: the next round trip).
    `records`: every request the lease leased (none where it gives a reservation back whole)."""
    rules = granted.rules
    if rules is None:
        return None
    if granted.reserved:  # counted up front: the unused part given back
        used = len(records)
        if isinstance(limiter, NativeMemoryLimiter):
            units, granted.reserved = granted.reserved - used * rules.cost, 0
            if units > 0:
                limiter.give_back(rules, granted.keys, units, granted.counted_at)
            return None
        if isinstance(limiter, RedisLimiter):
            return give_back(limiter, granted, used)
    cost, key = rules.cost * len(records), granted.client_key
    if isinstance(limiter, NativeMemoryLimiter) and limiter.synchronous:
        limiter.hit_now(rules, granted.keys, cost, key, window, False)
        return None
    if isinstance(limiter, RedisLimiter) and not limiter.store.split:
        return limiter.queue(rules, granted.keys, cost, key, window, False, _ignored)
    return limiter.hit(rules, granted.keys, cost, key, window, False)


def _ignored(outcome: Outcome) -> None:
    return None


def reserve_now(limiter: NativeMemoryLimiter, granted: Granted, count: int) -> bool:
    """In memory (one process): hit `count` requests' cost now, as one request (checked by
    every limit, no strike; the grant's request was just found unbanned): True once counted,
    False when a limit refused it (nothing spent)."""
    rules = granted.rules
    if rules is None:
        return True
    units, now = count * rules.cost, time.time()
    outcome = limiter.hit_now(
        rules, granted.keys, units, granted.client_key, 0.0, False, False, now
    )
    if outcome.rejected is not None:
        return False
    granted.reserved, granted.counted_at, granted.at = units, now, now
    # what the client is told: the count now, less its own reservation's unused part
    granted.states = with_room(outcome.states, units)
    return True


def reserve(limiter: RedisLimiter, granted: Granted, count: int) -> Awaitable[bool] | bool | None:
    """Hit `count` requests' cost now, as one request (checked by every limit, no strike, the
    ban read): True once it is counted; False when a limit or a ban refused it (nothing
    spent). Queued in this tick's round trip. True at once when the granting request's own
    hit reserved it (`held`): the lease takes it."""
    rules = granted.rules
    if rules is None:
        return None
    if granted.reserved:
        granted.claimed = True
        return True
    units = count * rules.cost
    keys, args = limiter.call_args(rules, granted.keys, units, granted.client_key)
    reply = limiter.store.submit_script(HIT_SCRIPT, keys, args)
    return _reserved(granted, units, reply)


async def _reserved(granted: Granted, units: int, reply: Awaitable[Any]) -> bool:
    raw = await reply
    rules = granted.rules
    assert rules is not None
    outcome = outcome_of(rules.limits, raw, 4)  # (hit.lua: the ban and its time before them)
    if outcome.rejected is not None or isinstance(raw[2], str | bytes):  # a limit, or a ban
        return False
    _count(granted, units, int(raw[3]), outcome.states)
    # what the client is told: the shared count now, less its own reservation's unused part
    # (it has not spent it), so each leased request counts down by its cost
    granted.states = with_room(outcome.states, units)
    granted.at = time.time()
    return True


def _count(granted: Granted, units: int, at: int, states: Sequence[LimitState]) -> None:
    """`units` counted at the server's `at` (ms): what the give-back needs, each fixed
    window's end among it."""
    granted.reserved, granted.server_ms = units, at
    granted.ends = tuple(  # (resets are whole milliseconds)
        at + round(state.reset * 1000) if state.limit.spec[0] == 1 else 0 for state in states
    )


def give_back(limiter: RedisLimiter, granted: Granted, used: int) -> Awaitable[Any] | None:
    """The unused part of the reservation, given back in the window it was counted in (queued:
    the next round trip)."""
    rules = granted.rules
    if rules is None or not granted.reserved:
        return None
    units = granted.reserved - used * rules.cost
    granted.reserved = 0
    if units <= 0:
        return None
    keys = list(granted.keys[1])
    spec = msgspec.msgpack.encode(
        [
            n
            for lim, end in zip(rules.limits, granted.ends, strict=True)
            for n in (lim.spec[0], end, lim.spec[2], units)
        ]
    )
    return limiter.store.submit_script(REFUND_SCRIPT, keys, [granted.server_ms, spec])
