"""The in-process limiter: the Lua script's algorithms in Python, bounded like the MemoryStore.

Why not `limits.aio.storage.MemoryStorage`: measured here it costs 135 µs (sliding window),
270 µs (fixed) and 540 µs (moving window, whose list grows with every hit of a large quota) per
request with three limits, against a 15 µs pipeline, and it grows with the number of distinct
clients until entries expire. This one costs a few µs per limit, keeps at most `max_keys`
counters (least recently used evicted first) and answers exactly like the Redis script (same
windows, same rounding); `memory_backend = "limits"` selects limits' own storage instead.
Everything runs without awaiting, so one request's test-then-hit is atomic in its event loop.

A sliding-window limit is one entry, `(window index, count in it, count in the one before)`,
rolled forward when the clock enters the next window: the same counts as the script's two keys
per window, found with one lookup. Entries are plain tuples of numbers, replaced at each hit: a
busy site keeps a few per client, and the garbage collector stops tracking such tuples, where
lists would be walked by every full collection (docs/store.md, "Garbage collection"). On the
MemoryStore the ban check reads its ban table in place.
"""

from __future__ import annotations

import bisect
import time
from collections import OrderedDict
from typing import Any

from scrapeshield.bans import ban_key
from scrapeshield.ratelimit.backends import LimitState, Outcome, sliding_count, sliding_wait
from scrapeshield.ratelimit.escalation import strike_key
from scrapeshield.ratelimit.plan import Keys, Limit, Rules
from scrapeshield.store.base import Store
from scrapeshield.store.memory import MemoryStore

_Entry = tuple[Any, ...]
"""A limit's counters (a moving window's: its list of stamps, kept in place, and its expiry)."""
_Found = tuple[int, float, _Entry | None]
"""One limit's (count in the window, seconds to its reset, its entry if it has one)."""


class NativeMemoryLimiter:
    def __init__(self, store: Store, *, max_keys: int = 100_000) -> None:
        self.store = store
        self.max_keys = max_keys
        # fixed: key -> (count, expires); moving: key -> ([sorted timestamps], expires);
        # sliding: key -> (window index, count in that window, count in the window before)
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._memory = store if isinstance(store, MemoryStore) else None

    def __len__(self) -> int:
        return len(self._data)

    @property
    def synchronous(self) -> bool:
        """True on the MemoryStore: `hit_now` gives `hit`'s answer without a coroutine."""
        return self._memory is not None

    async def hit(
        self, rules: Rules, keys: Keys, cost: int, client_key: str, strike_window: float, dry: bool
    ) -> Outcome:
        if self._memory is not None:
            return self.hit_now(rules, keys, cost, client_key, strike_window, dry)
        if not dry:  # banned: the ban phase blocks it; it spends nothing, earns no strike
            dry = await self.store.get(ban_key(client_key)) is not None
        outcome = self._count(rules.limits, keys[0], cost, dry)
        if outcome.rejected is not None and not dry and strike_window > 0:
            outcome.strikes = await self.store.incr(strike_key(client_key), 1, ttl=strike_window)
        return outcome

    def hit_now(
        self,
        rules: Rules,
        keys: Keys,
        cost: int,
        client_key: str,
        strike_window: float,
        dry: bool,
        banned: bool | None = None,
        now: float | None = None,
    ) -> Outcome:
        """`hit` on the MemoryStore (`synchronous`), synchronously. `banned`: the ban phase's
        answer for this request if it has one (then the ban is not read again); `now`: the
        hit's time (a lease's reservation keeps it, to give back in the same window)."""
        store = self._memory
        assert store is not None, "hit_now needs the MemoryStore"
        if not dry:  # banned: the ban phase blocks it; it spends nothing, earns no strike
            dry = banned if banned is not None else store.peek(ban_key(client_key)) is not None
        outcome = self._count(rules.limits, keys[0], cost, dry, now)
        if outcome.rejected is not None and not dry and strike_window > 0:
            outcome.strikes = store.bump(strike_key(client_key), 1, ttl=strike_window)
        return outcome

    def _count(
        self,
        limits: tuple[Limit, ...],
        keys: tuple[str, ...],
        cost: int,
        dry: bool,
        now: float | None = None,
    ) -> Outcome:
        """Test every limit and spend `cost` on all if all admit it and not `dry` (strikes: 0)."""
        now = time.time() if now is None else now
        if not dry and limits and limits[0].sliding:  # a group's limits share one strategy
            admitted = self._admit_sliding(limits, keys, cost, now)
            if admitted is not None:
                return admitted
        found, rejected = self._states(limits, keys, cost, now)
        if rejected < 0 and not dry:
            spent = self._spend(limits, keys, found, cost, now)
            if len(self._data) > self.max_keys:
                self._trim()
            return Outcome(spent, None, 0)
        states = [
            LimitState(lim, max(0, lim.quota - count), reset)
            for lim, (count, reset, _) in zip(limits, found, strict=True)
        ]
        if rejected < 0:
            return Outcome(tuple(states), None, 0)
        lim = limits[rejected]
        wait = self._wait(lim, cost, now, found[rejected])
        states[rejected] = LimitState(lim, max(0, lim.quota - found[rejected][0]), wait)
        return Outcome(tuple(states), states[rejected], 0)

    def _admit_sliding(
        self, limits: tuple[Limit, ...], keys: tuple[str, ...], cost: int, now: float
    ) -> Outcome | None:
        """Sliding windows (the default) admitted in one pass, spending as it goes; None when
        one has no room, with what was spent taken back (the general path then answers).
        Nothing awaits in between, so no other request sees the spent units."""
        data = self._data
        windows: list[tuple[int, int, int]] = []  # each limit's window after the hit
        for i, lim in enumerate(limits):  # (keys[i]: a zip, 3.1k instructions a page more)
            key, window = keys[i], lim.window
            index = int(now / window)  # time is positive: int() floors
            entry = data.get(key)
            cur = prev = 0
            if entry is not None:
                data.move_to_end(key)
                if index <= entry[0]:  # this window (or a clock stepped back: stay in it)
                    index, cur, prev = entry
                elif index - entry[0] == 1:  # the next: this window's count becomes the previous
                    prev = entry[1]
                # else both windows are over: the script's keys would have expired
            # Room even for both windows' whole counts: the weighted count (never more) is not
            # worked out. Else `sliding_count`'s count inline, without the reset.
            if prev + cur + cost > lim.quota and (
                int(prev * (1 - (now % window) / window) + cur) + cost > lim.quota
            ):
                for n, taken in enumerate(windows):  # rare: give back what was taken
                    data[keys[n]] = (taken[0], taken[1] - cost, taken[2])
                return None
            data[key] = entry = (index, cur + cost, prev)
            windows.append(entry)
        if len(data) > self.max_keys:
            self._trim()
        return Outcome.admitted(limits, windows, cost, now)

    def give_back(self, rules: Rules, keys: Keys, units: int, at: float) -> None:
        """Take back `units` spent at `at` (a lease's unused reservation), in the window they
        were counted in: a fixed window until it ends, a sliding window's bucket while it is
        the current or the previous one, a moving window's entries of that time; never below
        zero (as refund.lua on Redis)."""
        data = self._data
        for lim, key in zip(rules.limits, keys[0], strict=True):
            entry = data.get(key)
            if entry is None:  # expired or evicted: nothing of it is counted any more
                continue
            if lim.strategy == "sliding-window-counter":
                index = int(at / lim.window)
                if entry[0] == index:
                    data[key] = (index, max(0, entry[1] - units), entry[2])
                elif entry[0] == index + 1:
                    data[key] = (entry[0], entry[1], max(0, entry[2] - units))
            elif lim.strategy == "fixed-window":
                if entry[1] - lim.window <= at < entry[1]:  # the window it was counted in
                    data[key] = (max(0, entry[0] - units), entry[1])
            else:  # moving window: its own stamps
                stamps: list[float] = entry[0]
                lo = bisect.bisect_left(stamps, at)
                hi = min(bisect.bisect_right(stamps, at), lo + units)
                del stamps[lo:hi]

    # -- entries ----------------------------------------------------------------------------------

    def _get(self, key: str, now: float) -> _Entry | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] <= now:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry

    def _trim(self) -> None:
        """Evict the least recently used entries past `max_keys` (after a request's hits, so
        none of the entries it holds can be evicted under it)."""
        data = self._data
        while len(data) > self.max_keys:
            data.popitem(last=False)

    def _states(
        self, limits: tuple[Limit, ...], keys: tuple[str, ...], cost: int, now: float
    ) -> tuple[list[_Found], int]:
        """Every limit's (count, reset, entry), sliding windows (the default) inline, and the
        index of the first limit without room for `cost` (-1: admitted)."""
        data = self._data
        found: list[_Found] = []
        rejected = -1
        for i, lim in enumerate(limits):
            key = keys[i]
            if lim.strategy != "sliding-window-counter":
                found.append(state := self._state(lim, key, now))
                if rejected < 0 and state[0] + cost > lim.quota:
                    rejected = len(found) - 1
                continue
            entry = data.get(key)
            cur = prev = 0
            if entry is not None:
                shift = int(now / lim.window) - entry[0]  # time is positive: int() floors
                if shift <= 0:  # this window (or a clock stepped back: stay in the newest one)
                    cur, prev = entry[1], entry[2]
                    data.move_to_end(key)
                elif shift == 1:  # the next window: this window's count becomes the previous
                    prev = entry[1]
                    data[key] = entry = (entry[0] + 1, 0, prev)
                    data.move_to_end(key)
                else:  # both windows are over: the script's keys would have expired
                    del data[key]
                    entry = None
            count, reset = sliding_count(lim, cur, prev, now)
            if rejected < 0 and count + cost > lim.quota:
                rejected = len(found)
            found.append((count, reset, entry))
        return found, rejected

    def _state(self, lim: Limit, key: str, now: float) -> _Found:
        """A fixed or moving window's (count, reset, entry)."""
        entry = self._get(key, now)
        if entry is None:
            return 0, 0.0, None
        if lim.strategy == "fixed-window":
            return entry[0], entry[1] - now, entry
        stamps: list[float] = entry[0]  # moving window
        del stamps[: bisect.bisect_right(stamps, now - lim.window)]
        return len(stamps), (stamps[0] + lim.window - now if stamps else 0.0), entry

    def _wait(self, lim: Limit, cost: int, now: float, found: _Found) -> float:
        """Seconds until the limit that rejected the request has room for `cost`."""
        count, reset, entry = found
        if entry is None or lim.strategy == "fixed-window":
            return reset
        if lim.strategy == "moving-window":  # the stamp whose expiry frees enough room
            return float(entry[0][count + cost - lim.quota - 1] + lim.window - now)
        window = lim.window
        elapsed = (now % window) / window
        return max(sliding_wait(entry[2], entry[1], elapsed, lim, cost), 0.001)

    def _spend(
        self,
        limits: tuple[Limit, ...],
        keys: tuple[str, ...],
        found: list[_Found],
        cost: int,
        now: float,
    ) -> tuple[LimitState, ...]:
        """Spend `cost` on every limit's entry (`_states` found it, or a new one): the states
        after it. Admitted, so count + cost <= quota: no remaining count is negative."""
        data = self._data
        states = []
        for lim, key, (count, reset, entry) in zip(limits, keys, found, strict=True):
            if lim.strategy == "sliding-window-counter":
                if entry is None:
                    entry = (int(now / lim.window), 0, 0)
                data[key] = (entry[0], entry[1] + cost, entry[2])
            elif lim.strategy == "fixed-window":
                if entry is None:
                    entry = (0, now + lim.window)
                    reset = float(lim.window)
                data[key] = (entry[0] + cost, entry[1])
            else:  # moving window: its list of stamps, in place
                stamps: list[float] = entry[0] if entry is not None else []
                stamps.extend([now] * cost)
                data[key] = (stamps, now + lim.window)
                reset = reset or float(lim.window)
            states.append(LimitState(lim, lim.quota - count - cost, reset))
        return tuple(states)
