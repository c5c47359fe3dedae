"""A leased tokenless page's deferred increments in memory (identity/tokenless.py, docs/leases.md
"Replayed signals"): only the issuance counters past their limits at the grant are deferred (no
read tells them apart: they stay past within their window), handed over at the client's next
full evaluation and at the settle. Leases on against off through the differential harness:
a neighbour of the leased client (its network and browser build, so its network and fingerprint
counters) whose own tokens and issuance detail read the shared counters while the leased
client's lease runs, and the leased client's original, whose amnesia detail counts its
address's counter; every decision (details included) and the stores agree, asyncio and uvloop."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.efficacy.headers import chrome

from scrapeshield.identity import tokenless
from scrapeshield.identity.leasing import LeaseHooks
from tests.fastlane.differential import Request, Twins
from tests.fastlane.sequences import BASE, HOST, _at, _edge
from tests.fastlane.test_replayed import LEASE, NEVER_REFUSING

pytestmark = pytest.mark.both_loops

LEASED = 80
"""Of the sequence's requests, leased at least (91 at 2026-12-07's commit): a change that stops
leasing the tokenless client fails."""


def neighbours(now: float, count: int = 90) -> list[Request]:
    """A cookie-less client's fast pages (issued tokens for 10, then leased while issuance is
    limited: its address past its limit at its first grant, its network's and fingerprint's
    counters under their limits of 30), a neighbour of its /24 with the same headers after
    every third (issued tokens while the shared counters are under their limits, then
    signalled by network and fingerprint: leased too), and the client's original every 30
    pages (`identity/amnesia`: its address's tokens, none returned)."""
    page = [("Host", HOST), *chrome().navigation(BASE, "/")]
    image = [("Host", HOST), *chrome().image(BASE, "/artworks/7")]
    out: list[Request] = []
    for n in range(1, count + 1):
        out.append(Request("/artworks/7", page, ip="198.51.100.50", after=0.02))
        if n % 3 == 0:
            out.append(Request("/artworks/8", page, ip="198.51.100.77", after=0.02))
        if n % 30 == 0:
            out.append(Request("/images/0007.png", image, ip="198.51.100.50", after=0.02))
    return _at(now, _edge(now) + 1.0, out)


async def _sent(twins: Twins) -> int:
    leases = twins.fast.leases
    assert leases is not None
    try:
        await twins.send(neighbours(twins.clock.now))
        await twins.compare_stores()
    finally:
        await twins.aclose()
    return leases.used


async def test_neighbours_read_the_shared_counters_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twins = Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **NEVER_REFUSING)
    assert await _sent(twins) >= LEASED


async def test_the_harness_names_a_counter_deferred_under_its_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every counter deferred, those under their limits too: a page reads the network's and
    fingerprint's counters short and names them late (the client's own, here first)."""
    state_of = tokenless.state_of

    def all_deferred(*args: object) -> tokenless.Tokenless:
        state = state_of(*args)  # type: ignore[arg-type]
        state.now, state.later = (), state.counters
        return state

    monkeypatch.setattr(tokenless, "state_of", all_deferred)
    twins = Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **NEVER_REFUSING)
    with pytest.raises(AssertionError, match=r"from 198\.51\.100\.(77|50)\): decisions differ"):
        await _sent(twins)


def _memory_flush_left_out(flush: Any) -> Any:
    """`tokenless.lease_flush` handing over the Redis leases' increments only."""

    def left_out(pairs: Any, *rest: Any) -> Any:
        return flush([p for p in pairs if type(p[0]) is not tokenless.Tokenless], *rest)

    return left_out


async def test_the_harness_names_a_flush_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deferred increments not handed over before the client's own full evaluation: its
    original's amnesia detail counts its address's tokens short."""
    left_out = staticmethod(_memory_flush_left_out(tokenless.lease_flush))
    monkeypatch.setattr(LeaseHooks, "lease_flush", left_out)
    twins = Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **NEVER_REFUSING)
    where = r"GET /images/0007\.png from 198\.51\.100\.50\): decisions differ"
    with pytest.raises(AssertionError, match=where):
        await _sent(twins)
