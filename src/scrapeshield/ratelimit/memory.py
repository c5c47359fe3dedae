"""The in-process limiter: the Lua script's algorithms in Python, bounded like the MemoryStore.

Why not `limits.aio.storage.MemoryStorage`: measured here it costs 135 µs (sliding window),
270 µs (fixed) and 540 µs (moving window, whose list grows with every hit of a large quota) per
request with three limits, against a 15 µs pipeline, and it grows with the number of distinct
clients until entries expire. This one costs a few µs per limit, keeps at most `max_keys`
counters (least recently used evicted first) and answers exactly like the Redis script (same
windows, same rounding); `memory_backend = "limits"` selects limits' own storage instead.
Everything runs without awaiting, so one request's test-then-hit is atomic in its event loop.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import OrderedDict
from typing import Any

from scrapeshield.bans import BAN_PREFIX
from scrapeshield.ratelimit.backends import LimitState, Outcome, sliding_wait
from scrapeshield.ratelimit.escalation import STRIKE_PREFIX
from scrapeshield.ratelimit.plan import Limit
from scrapeshield.store.base import Store


class NativeMemoryLimiter:
    def __init__(self, store: Store, *, max_keys: int = 100_000) -> None:
        self.store = store
        self.max_keys = max_keys
        # fixed / sliding: key -> [count, expires]; moving: key -> [sorted timestamps, expires]
        self._data: OrderedDict[str, list[Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    async def hit(
        self, limits: tuple[Limit, ...], cost: int, client_key: str, strike_window: float, dry: bool
    ) -> Outcome:
        if not dry and await self.store.get(BAN_PREFIX + client_key) is not None:
            dry = True
        now = time.time()
        counts: list[int] = []
        resets: list[float] = []
        rejected = -1
        for i, lim in enumerate(limits):
            count, reset, wait = self._state(lim, cost, now)
            counts.append(count)
            resets.append(reset)
            if rejected < 0 and count + cost > lim.quota:
                rejected = i
                resets[i] = wait
        if rejected < 0 and not dry:
            for i, lim in enumerate(limits):
                counts[i], resets[i] = self._hit(lim, cost, now, counts[i], resets[i])
        states = tuple(
            LimitState(lim, max(0, lim.quota - counts[i]), resets[i])
            for i, lim in enumerate(limits)
        )
        strikes = 0
        if rejected >= 0 and not dry and strike_window > 0:
            strikes = await self.store.incr(STRIKE_PREFIX + client_key, 1, ttl=strike_window)
        return Outcome(states, states[rejected] if rejected >= 0 else None, strikes)

    # -- one limit ------------------------------------------------------------------------------

    def _get(self, key: str, now: float) -> list[Any] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] <= now:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry

    def _put(self, key: str, entry: list[Any]) -> None:
        self._data[key] = entry
        self._data.move_to_end(key)
        while len(self._data) > self.max_keys:
            self._data.popitem(last=False)

    def _state(self, lim: Limit, cost: int, now: float) -> tuple[int, float, float]:
        """(count in the window, seconds to its reset, seconds until `cost` fits)."""
        window = lim.window
        key = lim.storage_key
        if lim.strategy == "fixed-window":
            entry = self._get(key, now)
            if entry is None:
                return 0, 0.0, 0.0
            ttl = entry[1] - now
            return entry[0], ttl, ttl
        if lim.strategy == "moving-window":
            entry = self._get(key, now)
            if entry is None:
                return 0, 0.0, 0.0
            stamps: list[float] = entry[0]
            del stamps[: bisect.bisect_right(stamps, now - window)]
            if not stamps:
                return 0, 0.0, 0.0
            count = len(stamps)
            wait = 0.0
            if count + cost > lim.quota:
                wait = stamps[count + cost - lim.quota - 1] + window - now
            return count, stamps[0] + window - now, wait
        cur, prev, elapsed = self._sliding(key, window, now)
        count = math.floor(prev * (1 - elapsed) + cur)
        reset = window * (1 - elapsed)
        if prev > 0:
            reset = min(reset, reset % (window / prev))
        wait = 0.0
        if count + cost > lim.quota:
            wait = max(sliding_wait(prev, cur, elapsed, lim, cost), 0.001)
        return count, reset, wait

    def _sliding(self, key: str, window: int, now: float) -> tuple[int, int, float]:
        index = math.floor(now / window)
        cur = self._get(f"{key}/{index}", now)
        prev = self._get(f"{key}/{index - 1}", now)
        return (cur[0] if cur else 0), (prev[0] if prev else 0), (now % window) / window

    def _hit(
        self, lim: Limit, cost: int, now: float, count: int, reset: float
    ) -> tuple[int, float]:
        window = lim.window
        key = lim.storage_key
        if lim.strategy == "fixed-window":
            entry = self._get(key, now)
            if entry is None:
                self._put(key, [cost, now + window])
                return cost, float(window)
            entry[0] += cost
            return entry[0], reset
        if lim.strategy == "moving-window":
            entry = self._get(key, now)
            if entry is None:
                entry = [[], 0.0]
                self._put(key, entry)
            entry[0].extend([now] * cost)
            entry[1] = now + window
            return count + cost, reset or float(window)
        index = math.floor(now / window)
        cur_key = f"{key}/{index}"
        entry = self._get(cur_key, now)
        if entry is None:
            self._put(cur_key, [cost, now + 2 * window])
        else:
            entry[0] += cost
        return count + cost, reset
