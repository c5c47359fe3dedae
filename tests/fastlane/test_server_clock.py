"""What the differential harness takes as equal on Redis, where the twins read the server's clock
a moment apart (`differential._on_server_clock`), and what it still tells apart."""

from __future__ import annotations

from typing import Any

import limits
import pytest

from scrapeshield.ratelimit.backends import sliding_count
from scrapeshield.ratelimit.plan import Limit
from scrapeshield.signals import Action
from tests.fastlane import crossings
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


WINDOW = b"rl:client:default:{203.0.113.7}:60/10s:3"  # (60 per 10 s, a sliding window)


def fake_server(
    monkeypatch: pytest.MonkeyPatch, twins: Twins, counts: dict[bytes, int], at: float
) -> list[float]:
    """The twins' real clock, sleep and rate-limit counters made fake (`counts` as the server
    holds them, its clock the fake one, from `at`); the times each request was sent to the
    pipeline twin."""
    clock, sent = [at], []

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    async def read() -> tuple[int, dict[bytes, int]]:
        return int(clock[0] * 1000), counts

    twins.real_time, twins.sleep, twins.counts = lambda: clock[0], sleep, read
    send = twins.twins[1].send

    async def noted(request: Request) -> Seen:
        sent.append(clock[0])
        return await send(request)

    monkeypatch.setattr(twins.twins[1], "send", noted)
    return sent


def test_the_instant_a_verdict_turns_is_hit_lua_s() -> None:
    """`crossings` as hit.lua counts (`sliding_count`, its Python twin): 56 in the previous
    bucket and 10 in this one, a request of cost 1 is rejected 1 ms before the instant and
    admitted 1 ms after (60 per 10 s: 60 * (1 - e) ... the count falls to 60 at e = 3/28)."""
    now = 1_000_000  # (ms: a bucket's start, parity 0)
    counts = {WINDOW + b"/1": 56, WINDOW + b"/0": 10}
    (at,) = crossings.crossings(now, counts, [1])
    assert at == pytest.approx(now + 10_000 * 3 / 28)
    lim = Limit("default", "client", limits.parse("60/10 seconds"), "sliding-window-counter")
    for moment, admitted in ((at - 1, False), (at + 1, True)):
        count, _ = sliding_count(lim, 10, 56, moment / 1000)
        assert (count + 1 <= 60) is admitted, (moment, count)
    # (none for a cost that the counts admit all through the bucket, or never)
    assert crossings.crossings(now, {WINDOW + b"/1": 56, WINDOW + b"/0": 70}, [1]) == []
    assert crossings.crossings(now, {WINDOW + b"/1": 3, WINDOW + b"/0": 10}, [1]) == []


async def test_a_request_is_not_sent_as_a_verdict_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen under load: a throttle on the leased twin only, its retry 0.177 s (the previous
    bucket's decay step), the pipeline admitting: the twins' reads of the server's clock fell
    either side of the instant the weighted count fell below the limit. With the counts of
    `test_the_instant_a_verdict_turns_is_hit_lua_s` and a request of 0.1 s before, a request
    ready 71 ms before that instant waits past it (it was sent at once)."""
    twins = Twins(monkeypatch, server_clock=True)
    counts = {WINDOW + b"/1": 56, WINDOW + b"/0": 10}
    sent = fake_server(monkeypatch, twins, counts, 1001.0)
    twins.slowest = 0.1  # (a room of 0.15 s)
    page = Request("/artworks/1", [("Host", "example.com"), ("Accept", "text/html")], after=0)
    try:
        await twins.send([page])
    finally:
        await twins.aclose()
    turn = 1000.0 + 10 * 3 / 28
    assert turn < sent[0] < turn + 0.01, sent
    assert twins.waited == 1


async def test_a_real_difference_is_still_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """A verdict that differs for any other cause than the moment (here the fast twin's limit
    one higher: a count off by one) fails at its request, a turning instant waited past or not:
    the harness only moves when a request is sent, and compares what the twins answered exactly."""
    limits = {"ratelimit": {"groups": {"default": {"limits": "2/10 seconds"}}}}
    higher = {"ratelimit": {"groups": {"default": {"limits": "3/10 seconds"}}}}
    for turning in (False, True):
        twins = Twins(monkeypatch, server_clock=True, fast=higher, full=limits)
        counts = {WINDOW + b"/1": 56, WINDOW + b"/0": 10} if turning else {}
        fake_server(monkeypatch, twins, counts, 1001.0)
        twins.slowest = 0.1
        page = Request("/artworks/1", [("Host", "example.com"), ("Accept", "text/html")])
        try:
            with pytest.raises(AssertionError, match=r"request 2 \(GET /artworks/1 from .*"):
                await twins.send([page] * 4)
        finally:
            await twins.aclose()
        assert twins.waited == (1 if turning else 0)


def test_only_the_request_s_client_s_counters_count() -> None:
    """Its address's and its networks' (the peer's or a forwarded one), and subjects that are
    no address; another address's verdict turning keeps no request waiting."""
    keys = [
        b"rl:client:default:{203.0.113.7}:60/10s:3/0",
        b"rl:network:default:{203.0.113.0/24}:600/10s:3/0",
        b"rl:visitor:default:{v1a2b3}:60/10s:3/0",
        b"rl:client:default:{198.51.100.9}:60/10s:3/0",
        b"rl:network:default:{198.51.100.0/24}:600/10s:3/0",
    ]
    counts = dict.fromkeys(keys, 1)
    peer = Request("/", [], ip="203.0.113.7")
    forwarded = Request("/", [("X-Forwarded-For", "203.0.113.7")], ip="127.0.0.1")
    for request in (peer, forwarded):
        assert list(crossings.of_client(counts, crossings.addresses(request))) == keys[:3]
