"""`Terms.uses` (docs/log/architecture.md, "A leased page's hooks, asked only with work"): a
detector whose `lease_use` has nothing to do for a lease is not called per leased request
(the rate limiter where its RateLimit fields are not sent: its settle counts the lease's
records; identity's tokenless page where every issuance counter was past its limit at the
grant), and one with work still is (the fields sent; a counter under its limit). The same
requests are leased, with the same decisions, fields and stored counts (differential
harness, leases on against off)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from benchmarks.efficacy.headers import chrome

from scrapeshield.identity import tokenless
from scrapeshield.lease.lease import Lease
from scrapeshield.lease.table import Leases
from scrapeshield.ratelimit.settings import DEFAULT_GROUPS, LimitGroupSpec
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.store import MemoryStore
from tests.fastlane.differential import Request, Twins
from tests.fastlane.sequences import BASE, HOST, _at, _edge
from tests.fastlane.test_replayed import LEASE, NEVER_REFUSING
from tests.lease.test_lease_found import _API
from tests.windows import room

IP = "198.51.100.62"
IDS = (7, 3, 12, 5, 20, 9, 15, 1, 18, 11, 4, 16)  # no constant-stride walk


def _pages(now: float) -> list[Request]:
    """A client without a cookie reading pages, a stylesheet after each third."""
    page = [("Host", HOST), *chrome().navigation(BASE, "/")]
    style = [("Host", HOST), *chrome().style(BASE, "/artworks/7")]
    out = []
    for n in range(90):
        out.append(Request(f"/artworks/{IDS[n % len(IDS)]}", page, ip=IP, after=0.02))
        if n % 3 == 2:
            out.append(Request("/static/gallery.css", style, ip=IP, after=0.02))
    return _at(now, _edge(now) + 1.0, out)


async def _used(monkeypatch: pytest.MonkeyPatch) -> tuple[Leases, list[Lease], set[str]]:
    """The fast twin's leases, every lease it granted (each seen while held), and the owners
    (`__qualname__`) of the `lease_use` hooks those leases call."""
    settings: dict[str, Any] = NEVER_REFUSING
    twins = Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **settings)
    leases = twins.fast.leases
    assert leases is not None
    seen: dict[int, Lease] = {}
    try:
        for request in _pages(twins.clock.now):
            await twins.send([request])
            for keyed in leases._table.values():
                seen.update((id(lease), lease) for lease in keyed.values())
        await twins.compare_stores()
    finally:
        await twins.aclose()
    owners = {use.__qualname__.split(".")[0] for lease in seen.values() for use, _ in lease.uses}
    return leases, list(seen.values()), owners


@pytest.mark.both_loops
async def test_the_limiter_without_fields_is_not_called(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RateLimit fields: no lease calls the rate limiter's `lease_use`; identity's is
    called only by a tokenless lease holding a counter under its limit."""
    leases, held, owners = await _used(monkeypatch)
    assert leases.used >= 60  # (the differential harness compared every count and decision)
    assert "RateLimitDetector" not in owners
    for lease in held:
        for use, state in lease.uses:
            if use is tokenless.lease_use:
                assert type(state) is tokenless.Tokenless
                assert state.now


def _api_lease(headers: bool) -> tuple[list[str], list[str]]:
    """The owners of the `lease_use` hooks an API lease calls (its group's fields sent or
    not), and the RateLimit field of its first two leased requests (in process)."""

    async def run() -> tuple[list[str], list[str]]:
        await room(1.0, 10.0)
        groups = {**DEFAULT_GROUPS, "api": LimitGroupSpec(limits="300/10 seconds", headers=headers)}
        shield = Shield(
            Settings(lease={"enabled": True}, ratelimit={"groups": groups}), store=MemoryStore()
        )
        leases = shield.leases
        assert leases is not None
        scope = synthetic_scope(path="/api/artworks", headers=_API, ip="198.51.100.63")
        fields = []
        for _ in range(4):  # in full, granted, then leased twice
            facts = shield.facts(scope)
            ctx = shield.context()
            assert (await shield.decide(facts, ctx)).rule == "allow"
            found = (v for k, v in ctx.response_headers if k == b"ratelimit")
            fields.append(next(found, b"").decode())
        assert (leases.granted, leases.used) == (1, 2)
        (lease,) = leases._table[facts.client_key].values()
        owners = [use.__qualname__.split(".")[0] for use, _ in lease.uses]
        await shield.aclose()
        return owners, fields[2:]

    return asyncio.run(run())


def test_the_limiter_is_called_only_where_its_fields_are_sent() -> None:
    """The API group's fields sent: each leased request calls the rate limiter's `lease_use`,
    and its field counts down by one; not sent: never called, no field."""
    owners, fields = _api_lease(headers=True)
    assert "RateLimitDetector" in owners
    remaining = [int(field.split("r=")[1].split(";")[0]) for field in fields]
    assert remaining[0] - remaining[1] == 1, fields
    owners, fields = _api_lease(headers=False)
    assert "RateLimitDetector" not in owners
    assert fields == ["", ""]
