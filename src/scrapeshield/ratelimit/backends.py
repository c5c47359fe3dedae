"""Counting: one Lua call on Redis for all of a request's limits (on Redis Cluster one per
subject, settled by `split`); `limits.aio` in memory.

The default in-memory limiter is `memory.NativeMemoryLimiter` (same algorithms as the script).

Both backends give the same answer for the same hits (a contract test runs every strategy on
both): a request is admitted only if every limit has room for its cost, and then every limit is
hit; a rejected request spends nothing (and counts one escalation strike).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from scrapeshield.bans import Ban, ban_key, ban_of
from scrapeshield.ratelimit import split
from scrapeshield.ratelimit.escalation import strike_key
from scrapeshield.ratelimit.plan import Keys, Limit, Rules
from scrapeshield.store.base import Store
from scrapeshield.store.soon import Soon

if TYPE_CHECKING:
    from scrapeshield.store.redis import RedisStore

T = TypeVar("T")
_CALLS_CACHE_SIZE = 4096
HIT_SCRIPT = resources.files("scrapeshield.ratelimit").joinpath("lua", "hit.lua").read_text("utf-8")


class LimitState(msgspec.Struct, frozen=True):
    limit: Limit
    remaining: int
    reset: float
    """Seconds until the window frees room (for the rejecting limit: room for the cost)."""


def with_room(states: Sequence[LimitState], units: int) -> tuple[LimitState, ...]:
    """Each limit's state with `units` more room: what a client with a reservation of that
    many units outstanding is told (it has not spent them; docs/leases.md)."""
    return tuple(LimitState(s.limit, s.remaining + units, s.reset) for s in states)


def closest(states: Sequence[LimitState], rejected: LimitState | None) -> LimitState:
    """The rejecting limit, else the smallest share of quota left (ties: the latest reset):
    the limit the RateLimit field reports."""
    if rejected is not None:
        return rejected
    return states[_closest_at([(s.limit, s.remaining, s.reset) for s in states])]


def _closest_at(figures: Sequence[tuple[Limit, int, float]]) -> int:
    """The index of the smallest share of quota left (ties: the latest reset) among each
    limit's (limit, remaining, reset)."""
    chosen, share, reset = 0, 2.0, 0.0  # above any share left: the first limit is chosen
    for i, (lim, remaining, resets) in enumerate(figures):
        left = remaining / lim.quota  # quotas are >= cost >= 1 (checked in settings)
        if left < share or (left == share and resets > reset):
            chosen, share, reset = i, left, resets
    return chosen


class Outcome(msgspec.Struct):
    """What one request's hit found: every limit's state, the one that rejected it (if any),
    and the client's strikes."""

    _states: tuple[LimitState, ...] | None
    rejected: LimitState | None
    strikes: int
    _limits: tuple[Limit, ...] = ()
    _windows: Sequence[tuple[int, int, int]] = ()
    _cost: int = 0
    _now: float = 0.0
    _closest: LimitState | None = None

    @classmethod
    def admitted(
        cls,
        limits: tuple[Limit, ...],
        windows: Sequence[tuple[int, int, int]],
        cost: int,
        now: float,
    ) -> Outcome:
        """An admitted request's outcome on sliding windows, from each limit's window after
        the hit, `(window index, count, previous count)`: the states are worked out only if
        read (the RateLimit fields, a lease, `explain`; most requests read none)."""
        return cls(None, None, 0, limits, windows, cost, now)

    @property
    def states(self) -> tuple[LimitState, ...]:
        states = self._states
        if states is None:  # admitted: every limit's state from its figures, worked out once
            figures = self._figures()
            chosen = self._closest if self._closest is not None else self._chosen(figures)
            states = self._states = tuple(
                chosen if chosen.limit is each[0] else LimitState(*each) for each in figures
            )
        return states

    @property
    def closest(self) -> LimitState | None:
        """The state the RateLimit field reports (None without limits)."""
        chosen = self._closest
        if chosen is None:
            if self._states is None:  # admitted: the one state made of the figures alone
                chosen = self._chosen(self._figures())
            elif self._states:
                chosen = self._closest = closest(self._states, self.rejected)
        return chosen

    def _chosen(self, figures: list[tuple[Limit, int, float]]) -> LimitState:
        """An admitted outcome's closest state, from its figures (`_figures`), kept."""
        chosen = self._closest = LimitState(*figures[_closest_at(figures)])
        return chosen

    def _figures(self) -> list[tuple[Limit, int, float]]:
        """An admitted outcome's (limit, remaining, reset) of each limit, from its window after
        the hit (the count before it: its count less the cost)."""
        cost, now = self._cost, self._now
        figures = []
        for lim, (_, cur, prev) in zip(self._limits, self._windows, strict=True):
            count, reset = sliding_count(lim, cur - cost, prev, now)
            figures.append((lim, lim.quota - count - cost, reset))
        return figures

    def __repr__(self) -> str:
        return (
            f"Outcome(states={self.states!r}, rejected={self.rejected!r}, strikes={self.strikes})"
        )


class Limiter(Protocol):
    async def hit(
        self, rules: Rules, keys: Keys, cost: int, client_key: str, strike_window: float, dry: bool
    ) -> Outcome:
        """Test every limit of the rules (each under the client's key in `keys`); hit them all
        if all admit `cost` and neither `dry` nor banned.

        A rejection counts a strike for `client_key` (kept `strike_window` seconds, 0 = off).
        """
        ...


class RedisLimiter:
    """Every limit (and the strike counter) in ONE script call, queued in the shared pipeline."""

    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self._calls: dict[tuple[tuple[str, ...], int, str], tuple[tuple[str, ...], bytes]] = {}
        """A client's plan's keys and packed limits by its keys (which name the group and each
        limit's numbers), cost and client: made once per plan, not per request (plain tuples of
        strings, numbers and bytes, which the garbage collector stops tracking)."""

    async def hit(
        self, rules: Rules, keys: Keys, cost: int, client_key: str, strike_window: float, dry: bool
    ) -> Outcome:
        return await self.hit_soon(rules, keys, cost, client_key, strike_window, dry)

    def hit_soon(
        self, rules: Rules, keys: Keys, cost: int, client_key: str, strike_window: float, dry: bool
    ) -> Awaitable[Outcome]:
        """`hit` with its script call(s) queued now (`RedisStore.submit_script`): one call on
        one server; on Cluster one per subject (`split`)."""
        window = int(strike_window * 1000)
        limits = rules.limits
        if self.store.split:
            client = (strike_key(client_key), ban_key(client_key))
            calls = split.plan_calls(limits, keys[0], cost, client)
            split.submit(self.store, HIT_SCRIPT, calls, dry, window)
            costs = [cost] * len(limits)
            combined = split.combine(self.store, calls, len(limits), costs, dry, window)
            return self._outcome(limits, combined, 2)
        names, args = self._call(rules, keys, cost, client_key, window, dry)
        return self._outcome(limits, self.store.submit_script(HIT_SCRIPT, names, args), 4)

    def queue(
        self,
        rules: Rules,
        keys: Keys,
        cost: int,
        client_key: str,
        strike_window: float,
        dry: bool,
        then: Callable[[Outcome], T],
    ) -> Soon[T]:
        """`hit_soon` without a coroutine (one server; not on a spreading Cluster): the
        script call queued now, its reply turned into the `Outcome` and handed to `then`
        when the caller reads it (`Soon`)."""
        names, args = self._call(rules, keys, cost, client_key, int(strike_window * 1000), dry)
        reply = partial(_then, rules.limits, then)
        return self.store.queue_script(HIT_SCRIPT, names, args, reply)

    def queue_reserving(
        self,
        rules: Rules,
        keys: Keys,
        cost: int,
        client_key: str,
        strike_window: float,
        reserve: tuple[int, int],
        then: Callable[[Outcome, int, int], T],
        keep: int = 0,
    ) -> tuple[Soon[T], Callable[[int], bool]]:
        """`queue` that also reserves `reserve[0]` units (a lease's, docs/leases.md) when
        every limit then keeps `reserve[1]` units of room: `then` gets the outcome as the
        request alone would have found it, the units reserved (0: none) and the server's
        time in ms (what a give-back needs). With it, a callable adding units to what it
        reserves while it is still queued (False once sent), the room kept growing with
        them to `keep` times what it reserves (the margin of a grown lease)."""
        names, args = self._call(rules, keys, cost, client_key, int(strike_window * 1000), False)
        args = [*args, *reserve]
        reply = partial(_reserving, rules.limits, then)
        soon = self.store.queue_script(HIT_SCRIPT, names, args, reply)
        return soon, partial(_reserve_more, self.store, soon.tick, args, keep)

    def call_args(
        self, rules: Rules, keys: Keys, cost: int, client_key: str
    ) -> tuple[list[str], list[Any]]:
        """hit.lua's keys and arguments for one hit with no strike (a lease's reservation)."""
        return self._call(rules, keys, cost, client_key, 0, False)

    def _call(
        self, rules: Rules, keys: Keys, cost: int, client_key: str, window: int, dry: bool
    ) -> tuple[list[str], list[Any]]:
        made = self._calls.get((keys[1], cost, client_key))
        if made is None:
            made = self._make(rules, keys[1], cost, client_key)
        names, spec = made
        return list(names), [1 if dry else 0, window, spec, "1"]

    def _make(
        self, rules: Rules, redis_keys: tuple[str, ...], cost: int, client_key: str
    ) -> tuple[tuple[str, ...], bytes]:
        client = (strike_key(client_key), ban_key(client_key))
        made = ((*redis_keys, *client), split.pack_spec(rules.limits, cost))
        if len(self._calls) >= _CALLS_CACHE_SIZE:  # one per client's plan: stay bounded
            self._calls.clear()
        self._calls[(redis_keys, cost, client_key)] = made
        return made

    @staticmethod
    async def _outcome(limits: tuple[Limit, ...], reply: Awaitable[Any], at: int) -> Outcome:
        return outcome_of(limits, await reply, at)


def outcome_of(limits: tuple[Limit, ...], raw: Sequence[Any], at: int) -> Outcome:
    """From integers: rejected index (0: none), strikes, then from `at` each limit's
    remaining and reset (hit.lua puts banned and its time before them: `at` 4)."""
    rejected_index, strikes = int(raw[0]), int(raw[1])
    states = tuple(
        LimitState(lim, int(raw[at + 2 * i]), int(raw[at + 1 + 2 * i]) / 1000)
        for i, lim in enumerate(limits)
    )
    rejected = states[rejected_index - 1] if rejected_index else None
    return Outcome(states, rejected, strikes)


def ban_in_reply(client_key: str, raw: Sequence[Any]) -> Ban | None:
    """The client's ban as hit.lua read it (its reply's third element: 0, or the record)."""
    value = raw[2]
    return ban_of(client_key, value) if isinstance(value, str) else None


def _then(limits: tuple[Limit, ...], then: Callable[[Outcome], T], raw: Sequence[Any]) -> T:
    return then(outcome_of(limits, raw, 4))


def _reserve_more(
    store: RedisStore, tick: asyncio.Future[None], args: list[Any], keep: int, units: int
) -> bool:
    """`units` more reserved by a hit still queued (its tick not sent yet: the batch's calls
    are made from their arguments when it is), the room it leaves at least `keep` times what
    it reserves; False once sent."""
    if not store.queued(tick):
        return False
    args[-2] += units
    args[-1] = max(args[-1], keep * args[-2])
    return True


def _reserving(
    limits: tuple[Limit, ...], then: Callable[[Outcome, int, int], T], raw: Sequence[Any]
) -> T:
    """hit.lua's reply with a reservation (its units last): the outcome with the reserved
    units added back to every remaining (the client has not spent them)."""
    reserved = int(raw[4 + 2 * len(limits)])
    outcome = outcome_of(limits, raw, 4)
    if reserved:
        outcome = Outcome(with_room(outcome.states, reserved), None, outcome.strikes)
    return then(outcome, reserved, int(raw[3]))


class LimitsMemoryLimiter:
    """`limits.aio`'s MemoryStorage and strategies (`memory_backend = "limits"`).

    Within one event loop the test-then-hit sequence is atomic: MemoryStorage never yields
    between them (its per-key locks are uncontended), so no other request interleaves.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.storage = MemoryStorage()
        self._strategies: dict[str, RateLimiter] = {
            "fixed-window": FixedWindowRateLimiter(self.storage),
            "moving-window": MovingWindowRateLimiter(self.storage),
            "sliding-window-counter": SlidingWindowCounterRateLimiter(self.storage),
        }

    async def hit(
        self, rules: Rules, keys: Keys, cost: int, client_key: str, strike_window: float, dry: bool
    ) -> Outcome:
        if not dry and await self.store.get(ban_key(client_key)) is not None:
            dry = True  # banned: the ban phase blocks it; it spends nothing, earns no strike
        counted = tuple(zip(rules.limits, keys[0], strict=True))
        rejected: Limit | None = None
        for lim, key in counted:
            if not await self._strategies[lim.strategy].test(lim.item, key, cost=cost):
                rejected = lim
                break
        if rejected is None and not dry:
            for lim, key in counted:
                await self._strategies[lim.strategy].hit(lim.item, key, cost=cost)
        now = time.time()
        states = []
        rejected_state = None
        for lim, key in counted:
            stats = await self._strategies[lim.strategy].get_window_stats(lim.item, key)
            reset = max(0.0, stats.reset_time - now)
            state = LimitState(lim, max(0, stats.remaining), reset)
            if lim is rejected:
                wait = await self._wait(lim, key, cost, reset)
                state = LimitState(lim, 0, max(wait, 0.001))
                rejected_state = state
            states.append(state)
        strikes = 0
        if rejected is not None and not dry and strike_window > 0:
            strikes = await self.store.incr(strike_key(client_key), 1, ttl=strike_window)
        return Outcome(tuple(states), rejected_state, strikes)

    async def _wait(self, lim: Limit, key: str, cost: int, reset: float) -> float:
        """Seconds until `cost` fits, as the Lua script computes it (limits reports one unit)."""
        if lim.strategy != "sliding-window-counter":
            return reset
        prev, _, cur, _ = await self.storage.get_sliding_window(lim.item.key_for(key), lim.window)
        return sliding_wait(prev, cur, (time.time() % lim.window) / lim.window, lim, cost)


def sliding_count(lim: Limit, cur: int, prev: int, now: float) -> tuple[int, float]:
    """A sliding window's weighted count `prev * (1 - elapsed) + cur` (as hit.lua floors it)
    and the seconds until it drops by one: the window's end, or sooner, as the previous
    window's count fades by one every `window / prev` seconds."""
    window = lim.window
    elapsed = (now % window) / window
    reset = window * (1 - elapsed)
    if prev > 0:
        decay = reset % (window / prev)
        if decay < reset:
            reset = decay
    return int(prev * (1 - elapsed) + cur), reset


def sliding_wait(prev: float, cur: float, elapsed: float, lim: Limit, cost: int) -> float:
    """When the weighted count `prev * (1 - elapsed) + cur` leaves room for `cost` (seconds)."""
    room = lim.quota - cost
    window = lim.window
    if prev > 0 and cur <= room:
        wait = (1 - (room - cur) / prev) * window - elapsed * window
    else:
        wait = window * (1 - elapsed)
        if cur > 0:
            wait += max(0.0, 1 - room / cur) * window
    return max(wait, 1e-3)
