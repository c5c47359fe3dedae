"""The differential harness (tests/fastlane/differential.py): two shields that must agree do,
on the person and the adversaries, memory and Redis, asyncio and uvloop; and the harness fails
when one of them answers from a stale table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.signals import Signal
from scrapeshield.store import RedisStore
from tests.fastlane import sequences
from tests.fastlane.differential import Twins
from tests.servers import LOADED_STORE_TIMEOUT, RedisServer

pytestmark = pytest.mark.both_loops


async def _all(twins: Twins) -> Twins:
    """Closed whatever happens: a failing twin's Redis connections, left to the collector, would
    fail the next test (ResourceWarning: loop is closed)."""
    try:
        cookies = sequences.returning_cookies(twins, 6)
        await twins.send(sequences.persons(6, 4, cookies))  # at a reader's pace
        # page loads in a hurry (0.05 s: each kind's lease granted at its second request, and
        # used: 60 leased, where 0.1 s leased 48 since a client's first evaluation of a key
        # is granted nothing)
        await twins.send(sequences.persons(2, 30, cookies, pace=0.05))
        await twins.compare_stores()
        for sequence in sequences.ADVERSARIES.values():
            await twins.send(sequence())
            await twins.compare_stores()
        assert twins.requests > 500
    finally:
        await twins.aclose()
    return twins


def _redis(server: RedisServer, prefix: str) -> Callable[[], RedisStore]:
    """Each twin's store: the test's Redis, a prefix each."""
    names = iter(("fast", "full"))
    return lambda: RedisStore(
        server.url, prefix=f"{prefix}{next(names)}:", timeout=LOADED_STORE_TIMEOUT
    )


async def test_the_twins_agree_on_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    await _all(Twins(monkeypatch))


async def test_the_twins_agree_on_redis(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer, redis_prefix: str
) -> None:
    await _all(Twins(monkeypatch, _redis(redis_server, redis_prefix), server_clock=True))


class _Stale:
    """A deliberately broken fast lane: the user agent detector's answer kept per address, so a
    client that changes its user agent is answered with the first one's signals."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.name, self.uses_store = detector.name, False
        self.steady_signals = True
        self._kept: dict[object, tuple[Sequence[Signal], dict[str, Any]]] = {}

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        kept = self._kept.get(facts.client_ip)
        if kept is None:
            before = dict(ctx.notes)
            signals = self.detector.detect_now(facts, ctx)
            written = {k: v for k, v in ctx.notes.items() if before.get(k) is not v}
            kept = self._kept[facts.client_ip] = (tuple(signals), written)
        ctx.notes.update(kept[1])
        return kept[0]

    async def detect(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        return self.detect_now(facts, ctx)


async def test_the_harness_fails_when_the_fast_twin_answers_from_a_stale_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It names the request where the two shields part (a user agent changed on one address);
    the same sequence with the detector unbroken agrees."""
    for broken in (False, True):
        twins = Twins(monkeypatch)
        if broken:
            detectors = twins.fast.detectors
            at = next(i for i, d in enumerate(detectors) if d.name == "useragent")
            detectors[at] = _Stale(detectors[at])
        if not broken:
            await twins.send(sequences.libraries())
        else:
            with pytest.raises(
                AssertionError,
                match=r"request 31 \(GET /artworks/1 from 198.51.100.42\): decisions differ",
            ):
                await twins.send(sequences.libraries())
        await twins.aclose()


async def test_leases_agree_with_the_pipeline(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer, redis_prefix: str
) -> None:
    """Leases (docs/leases.md: exact by design) on against off, memory and Redis. A leased
    request does not refresh the expiry of identity's returned-visitor mark (id:r:) or of
    behaviour's row: it comes up to a lease's second earlier (docs/log/architecture.md)."""
    lease = {"lease": {"enabled": True}}
    for on_redis in (False, True):
        if on_redis:
            store = _redis(redis_server, redis_prefix)
            twins = Twins(monkeypatch, store, server_clock=True, fast=lease, expiry_slack=1.0)
        else:
            twins = Twins(monkeypatch, fast=lease, expiry_slack=1.0)
        leases = twins.fast.leases
        await _all(twins)
        assert leases is not None
        assert leases.used > 50


async def test_leases_at_a_readers_pace_agree_and_lease_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """People reading 5 to 30 s between page loads (`sequences.readers`, each page reloaded at
    once: granted a lease), leases on against every shortcut off: the twins agree, every expiry
    too, and not one request is leased (a lease ends after `lease.seconds`). A lease counted
    at once outlives the pause: commit `feda2d8` leased 112 of these 256 requests (before the
    reloads), the twins agreeing (docs/log/leases.md, "Counted at once": measured and not
    kept)."""
    twins = Twins(monkeypatch, fast={"lease": {"enabled": True}}, full={})
    leases = twins.fast.leases
    assert leases is not None
    await twins.send(sequences.readers(4, 16, sequences.returning_cookies(twins, 4)))
    await twins.compare_stores()
    await twins.aclose()
    assert twins.requests == 320
    assert leases.granted > 0
    assert leases.used == 0, leases.used
