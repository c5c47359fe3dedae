"""tests/windows.py on a fake clock: it returns only once the window has the room asked for, and
sleeps no longer than to just past the window's end."""

from __future__ import annotations

import time

import pytest

from tests.windows import PAST_THE_END, room, wait_for_room

START = 1_764_979_200.0  # a day's start: a multiple of every window below


class Clock:
    """A clock that a sleep moves on (by `short` less than asked: a sleep that ends early)."""

    def __init__(self, now: float, short: float = 0.0) -> None:
        self.now, self.short, self.sleeps = now, short, 0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps += 1
        self.now += seconds - self.short


@pytest.mark.parametrize("window", [1.0, 2.0, 60.0, 600.0, 3600.0])
@pytest.mark.parametrize("short", [0.0, 0.03, PAST_THE_END])
def test_returns_only_with_the_room_asked_for(window: float, short: float) -> None:
    seconds = window / 4
    for left in (window, seconds + 1e-6, seconds, seconds - 1e-6, 1.0, 0.01, 1e-9):
        if left > window:
            continue
        clock = Clock(START + window * 3 - left, short)
        slept = wait_for_room(seconds, window, clock=clock, sleep=clock.sleep)
        assert window - clock.now % window >= seconds, (left, clock.now)
        if left >= seconds:
            assert (slept, clock.sleeps) == (0.0, 0)
        else:  # into the next window, not further
            assert slept <= left + PAST_THE_END * (clock.sleeps + 1)
            assert clock.now < START + window * 3 + PAST_THE_END + 1e-6


def test_an_hour_with_half_a_minute_left_is_waited_out_into_the_next() -> None:
    clock = Clock(START + 3600 - 29.0)
    assert wait_for_room(30.0, 3600.0, clock=clock, sleep=clock.sleep) == pytest.approx(29.05)
    assert clock.now == pytest.approx(START + 3600 + PAST_THE_END)


def test_a_sleep_that_ends_well_early_is_followed_by_another() -> None:
    clock = Clock(START + 55.0, short=3.0)  # wakes 3 s early, before the minute's end
    calls = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        clock.sleep(seconds)
        clock.short = 0.0

    wait_for_room(10.0, 60.0, clock=clock, sleep=sleep)
    assert calls == pytest.approx([5.05, 3.0])  # 57.05: 2.95 s left, to 0.05 past
    assert clock.now == pytest.approx(START + 60 + PAST_THE_END)


def test_a_stuck_clock_fails_instead_of_hanging() -> None:
    clock = Clock(START + 59.5)
    with pytest.raises(AssertionError, match="clock stuck"):
        wait_for_room(10.0, 60.0, clock=clock, sleep=lambda _: None)


def test_room_asked_for_must_fit_in_the_window() -> None:
    for seconds in (0.0, 60.0, 61.0):
        with pytest.raises(ValueError, match="room"):
            wait_for_room(seconds, 60.0)


async def test_room_on_the_real_clock() -> None:
    """On the real clock, a 1 s window: half of it left when `room` returns (a wait, most
    times it runs)."""
    await room(0.5, 1.0)
    assert 1.0 - time.time() % 1.0 >= 0.45
