"""What the differential harness takes as equal on Redis, where the twins read the server's clock
a moment apart (`differential._on_server_clock`), and what it still tells apart."""

from __future__ import annotations

from typing import Any

import pytest

from scrapeshield.signals import Action
from tests.fastlane.differential import Request, Seen, Twins, _on_server_clock

REASONS = (
    ("ratelimit/default/client", 0.0, "60 per 10s (sliding-window-counter) exceeded, cost 1"),
)


def throttled(retry: float, retry_after: bytes, length: bytes) -> Seen:
    """A throttle as the shield answers it (the headers in the shield's order)."""
    decision: tuple[Any, ...] = (
        Action.THROTTLE, "rate-limit", 40.0, None, retry, None, True, REASONS
    )  # fmt: skip
    headers = [
        (b"cache-control", b"no-store"),
        (b"retry-after", retry_after),
        (b"content-language", b"en"),
        (b"content-length", length),
        (b"content-type", b"text/html; charset=utf-8"),
    ]
    return Seen(decision, 429, headers)


def test_a_retry_rounded_up_to_another_digit_makes_the_page_a_byte_longer() -> None:
    """Seen under load (a 2-core host with three CPU hogs): retry 9.0 against 9.002 s, so
    Retry-After 9 against 10 and the page ("try again in about N seconds") 1101 against 1102
    bytes. Taken as equal; the harness failed there on the page's length."""
    fast, full = _on_server_clock(throttled(9.0, b"9", b"1101"), throttled(9.002, b"10", b"1102"))
    assert fast == full


def test_any_other_length_is_still_told_apart() -> None:
    """Only the Retry-After's own extra digits: a page longer by anything else differs, and so
    does one a byte longer where both Retry-After values have as many digits."""
    for ours, theirs in [
        (throttled(9.0, b"9", b"1101"), throttled(9.002, b"10", b"1103")),
        (throttled(9.0, b"9", b"1102"), throttled(9.002, b"10", b"1101")),
        (throttled(8.0, b"8", b"1101"), throttled(8.9, b"9", b"1102")),
        (throttled(9.0, b"9", b"1101"), throttled(9.0, b"9", b"1102")),
    ]:
        fast, full = _on_server_clock(ours, theirs)
        assert fast.headers != full.headers, (ours.headers, theirs.headers)


async def test_a_slow_request_widens_the_room_before_a_bucket_edge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request that took 0.5 s (a loaded host) makes the next one wait for 1.5 times that
    before the server's 10 s bucket edge, so both twins' hits land in one bucket; with the fixed
    0.3 s it was sent 0.7 s before the edge, little more than the last one took.
    The harness's real clock and sleep are a fake one here (memory stores: nothing reads it)."""
    twins = Twins(monkeypatch, server_clock=True)
    clock = [1000.0]  # (10 s to the next edge)
    sent: list[float] = []

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    twins.real_time, twins.sleep = lambda: clock[0], sleep
    send = twins.twins[1].send

    async def slow_once(request: Request) -> Seen:
        sent.append(clock[0])
        if len(sent) == 1:
            clock[0] += 0.5  # (the first request's twins took 0.5 s)
        return await send(request)

    monkeypatch.setattr(twins.twins[1], "send", slow_once)
    page = Request("/artworks/1", [("Host", "example.com"), ("Accept", "text/html")])
    try:
        await twins.send([page])
        clock[0] = 1009.3  # (the next request ready 0.7 s before the edge)
        await twins.send([page])
    finally:
        await twins.aclose()
    assert twins.slowest == pytest.approx(0.5)
    assert sent[1] > 1010.0, sent  # (sent past the edge, at 1010.05)
