"""Tests on the real clock whose hits must fall in one clock-aligned window.

A sliding window counter's windows are multiples of their length since the epoch (the native
limiter's, limits' and the Lua script's alike), and its count is floored: once a window's end
passes between a test's hits, the previous window's hits weigh less than whole and one more
request is admitted. A test that is about such a window (its length, its reset, its buckets)
waits here, before its hits, until the current window has room for them all; a test that is
not uses a day-long window or the moving window instead (no wait).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

PAST_THE_END = 0.05
"""Seconds slept past a window's end, so the sleep ends in the next window."""


def pause_for(seconds: float, window: float, now: float) -> float:
    """Seconds to sleep so that the window around `now` (`window` seconds long, aligned on the
    epoch) has at least `seconds` left: 0 if it has, else to just past its end."""
    if not 0 < seconds < window:
        raise ValueError(f"cannot wait for {seconds} s of room in a {window} s window")
    left = window - now % window
    return 0.0 if left >= seconds else left + PAST_THE_END


def pauses(
    seconds: float, window: float, clock: Callable[[], float] = time.time
) -> Iterator[float]:
    """The sleeps until the current `window` has at least `seconds` left: none if it has, else
    one to just past its end (checked again after each: a sleep may end early). A clock that
    does not move on fails after two windows' sleeps rather than hang."""
    asked = 0.0
    while pause := pause_for(seconds, window, clock()):
        asked += pause
        if asked > 2 * window:
            raise AssertionError(f"no window of {window} s with {seconds} s left: clock stuck?")
        yield pause


def wait_for_room(
    seconds: float,
    window: float = 60.0,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], object] = time.sleep,
) -> float:
    """Return once the current `window` has at least `seconds` left, having slept at most
    about `seconds`; the seconds slept."""
    slept = 0.0
    for pause in pauses(seconds, window, clock):
        sleep(pause)
        slept += pause
    return slept


async def room(seconds: float, window: float = 60.0) -> float:
    """`wait_for_room` for a test on an event loop (which keeps running while it waits)."""
    slept = 0.0
    for pause in pauses(seconds, window):
        await asyncio.sleep(pause)
        slept += pause
    return slept
