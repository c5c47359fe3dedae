"""`Terms.covered` (docs/log/architecture.md, "Lease covering, by structure"): a detector whose
`lease_covers` the lease's key decides is not asked per leased request (the rate limiter
without exempt globs, behaviour's assets), and one that reads the path still is: a page of a
leased kind on an exempt path is evaluated in full, as without leases (differential harness,
leases on against off, every decision, RateLimit field and stored count compared)."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.efficacy.headers import chrome

from scrapeshield.behaviour.leasing import page_covers
from scrapeshield.lease.lease import Lease
from scrapeshield.lease.table import Leases
from scrapeshield.ratelimit.leasing import _covered
from tests.fastlane.differential import Request, Twins
from tests.fastlane.sequences import BASE, HOST, _at, _edge
from tests.fastlane.test_replayed import LEASE, NEVER_REFUSING
from tests.ratelimit.test_plan import facts, planner

pytestmark = pytest.mark.both_loops

IP = "198.51.100.61"
IDS = (7, 3, 12, 5, 20, 9, 15, 1, 18, 11, 4, 16)  # no constant-stride walk


def _client(now: float, exempt: str) -> list[Request]:
    """Pages (the exempt one among them, every seventh) with the stylesheet after each third."""
    page = [("Host", HOST), *chrome().navigation(BASE, "/")]
    style = [("Host", HOST), *chrome().style(BASE, "/artworks/7")]
    out = []
    for n in range(120):
        path = exempt if n % 7 == 6 else f"/artworks/{IDS[n % len(IDS)]}"
        out.append(Request(path, page, ip=IP, after=0.02))
        if n % 3 == 2:
            out.append(Request("/static/gallery.css", style, ip=IP, after=0.02))
    return _at(now, _edge(now) + 1.0, out)


def _twins(monkeypatch: pytest.MonkeyPatch, exempt: list[str]) -> Twins:
    ratelimit = {**NEVER_REFUSING["ratelimit"], "exempt": exempt}
    settings: dict[str, Any] = {**NEVER_REFUSING, "ratelimit": ratelimit}
    return Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **settings)


async def _sent(twins: Twins, exempt: str) -> tuple[Leases, list[tuple[Any, Lease]], list[bool]]:
    """The fast twin's leases, those it holds after the last request (its key, itself), and
    whether each request of `exempt` was leased."""
    leases = twins.fast.leases
    assert leases is not None
    leased = []
    try:
        for request in _client(twins.clock.now, exempt):
            used = leases.used
            await twins.send([request])
            if request.path == exempt:
                leased.append(leases.used > used)
        held = [pair for keyed in leases._table.values() for pair in keyed.items()]
        await twins.compare_stores()
    finally:
        await twins.aclose()
    return leases, held, leased


async def test_an_exempt_page_of_a_leased_kind_is_evaluated_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its group is none, the page lease's `default`: where an exempt glob can read the path,
    the rate limiter's `lease_covers` is asked, and sends it to a full evaluation."""
    leases, _held, leased = await _sent(_twins(monkeypatch, ["/artworks/99"]), "/artworks/99")
    assert leases.used >= 100  # (111 of 160 at this commit)
    assert len(leased) == 17
    assert not any(leased)


async def test_a_detector_the_key_decides_is_not_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """No exempt glob: a page lease asks behaviour's walk check alone, an asset lease nothing;
    the same page is leased."""
    leases, held, leased = await _sent(_twins(monkeypatch, []), "/artworks/99")
    kinds = sorted(kind[1] for (kind, _), _ in held)  # (route groups)
    asked = [covers for _, lease in held for covers, _ in lease.covers]
    assert leases.used >= 125  # (136 of 160 at this commit)
    assert sum(leased) >= 12  # (of 17)
    assert kinds == ["assets", "default"]
    assert asked == [page_covers]


def test_the_limiter_is_covered_only_where_the_kind_fixes_the_group() -> None:
    """`covers` compares the group of the path, notes aside, with the lease's: never asked
    where no exempt glob reads the path and the two are one; asked where a glob could move it,
    or where the grant's group came from a note (a verified bot's group, which `covers`
    does not find: its leases end at their first request, as before)."""
    plan, builder = planner(bot_groups={"Googlebot": "bots"})
    page = facts(builder, "/artworks/1")
    assert not plan.reads_path()
    assert _covered(plan, page, "pages")
    assert not _covered(plan, page, "bots")
    assert not _covered(plan, page, None)
    globbed, builder = planner(exempt=["/healthz"])
    assert globbed.reads_path()
    assert not _covered(globbed, facts(builder, "/artworks/1"), "pages")
