"""Leases at a client's pace (docs/log/leases.md, "Granted only to a client seen again"): a
lease of a kind and header set is granted only at a clean full evaluation that comes less than
a lease's life after the client's previous one of that key, so a client whose requests of a
key come slower than a lease lives (a person reading between page loads) is granted none
(each grant would cost it for nothing), one that comes faster is granted one at its second
request, and decisions are the same all along; the table of times is bounded."""

from __future__ import annotations

import asyncio

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.lease.table import Leases
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import MemoryStore
from tests.browsers import chrome_asset
from tests.lease.reserving import API

pytestmark = pytest.mark.clock_hour

SECONDS = 0.5  # a lease's life here: slower is a sleep past it, faster two requests in a row


def _shield(max_clients: int = 10_000) -> tuple[Shield, Leases]:
    settings = Settings(
        lease={"enabled": True, "requests": 4, "seconds": SECONDS, "max_clients": max_clients}
    )
    shield = Shield(settings, store=MemoryStore())
    assert shield.leases is not None
    return shield, shield.leases


async def _decide(shield: Shield, address: str = "203.0.113.7") -> str:
    scope = synthetic_scope(path="/api/artworks", headers=API, ip=address)
    return (await shield.decide(shield.facts(scope), shield.context())).rule


async def _later(leases: Leases) -> None:
    """Past the lease's life, the sweep run (as the shield's own task would)."""
    await asyncio.sleep(SECONDS * 1.2)
    leases.sweep()


async def test_a_clients_first_clean_evaluation_of_a_key_is_not_granted() -> None:
    shield, leases = _shield()
    assert await _decide(shield) == "allow"
    assert (leases.granted, len(leases)) == (0, 0)
    assert await _decide(shield, "203.0.113.8") == "allow"  # another client: its first too
    assert leases.granted == 0
    await shield.aclose()


async def test_a_page_loads_stylesheet_and_script_are_not_seen_again() -> None:
    """Two requests of one kind within a lease's life but of two header sets told apart by
    Accept and Sec-Fetch-Dest (a page load's stylesheet and script): neither is granted."""
    shield, leases = _shield()
    page = "https://gallery.example/artworks/7"
    for _ in range(3):  # three page loads, slower than a lease lives
        for path, dest in (("/static/site.css", "style"), ("/static/site.js", "script")):
            scope = synthetic_scope(
                path=path, headers=list(chrome_asset(page, dest).items()), ip="203.0.113.9"
            )
            assert (await shield.decide(shield.facts(scope), shield.context())).rule == "allow"
        await _later(leases)
    assert leases.granted == 0
    await shield.aclose()


async def test_granted_at_the_second_within_seconds_and_used() -> None:
    shield, leases = _shield()
    rules = [await _decide(shield), await _decide(shield)]  # in full; in full, granted
    assert (leases.granted, leases.used) == (1, 0)
    rules += [await _decide(shield) for _ in range(5)]  # leased (4), then in full, granted
    assert (leases.granted, leases.used) == (2, 4)
    assert rules == ["allow"] * 7
    await shield.aclose()


async def test_not_granted_when_the_next_clean_evaluation_comes_later() -> None:
    shield, leases = _shield()
    rules = []
    for _ in range(3):  # slower than a lease lives: none granted, each in full
        rules.append(await _decide(shield))
        await _later(leases)
    assert (leases.granted, leases.used, leases.unused) == (0, 0, 0)
    rules += [await _decide(shield), await _decide(shield)]  # faster: granted at the 2nd ...
    assert leases.granted == 1
    rules.append(await _decide(shield))  # ... and used
    assert (leases.granted, leases.used) == (1, 1)
    assert rules == ["allow"] * 6
    await shield.aclose()


async def test_a_lease_that_ended_unused_is_not_granted_again_at_that_pace() -> None:
    shield, leases = _shield()
    rules = [await _decide(shield), await _decide(shield)]  # granted at the 2nd
    await _later(leases)  # ended unused
    assert (leases.granted, leases.unused) == (1, 1)
    for _ in range(2):  # slower than a lease lives: none granted, each in full
        rules.append(await _decide(shield))
        await _later(leases)
    assert (leases.granted, leases.used) == (1, 0)
    rules += [await _decide(shield), await _decide(shield)]  # faster: granted at the 2nd ...
    rules.append(await _decide(shield))  # ... and used
    assert (leases.granted, leases.used) == (2, 1)
    assert rules == ["allow"] * 7
    await shield.aclose()


async def test_a_lease_found_expired_by_its_client_is_not_granted_again_at_that_pace() -> None:
    shield, leases = _shield()
    assert [await _decide(shield), await _decide(shield)] == ["allow"] * 2  # granted
    assert leases._sweeper is not None
    leases._sweeper.cancel()  # no sweep: the next request finds the lease over
    await asyncio.sleep(SECONDS * 1.2)
    assert len(leases) == 1
    assert await _decide(shield) == "allow"  # in full: the lease ended unused, none granted
    assert (leases.granted, leases.used, leases.unused, len(leases)) == (1, 0, 1, 0)
    await shield.aclose()


async def test_the_times_are_bounded_by_max_clients_the_least_recently_seen_out() -> None:
    shield, leases = _shield(max_clients=16)
    for n in range(40):  # 40 clients, once each: the 16 seen last kept
        assert await _decide(shield, f"198.51.{n}.9") == "allow"
        assert len(leases._seen) <= 16
    assert [client for client, _ in leases._seen] == [f"198.51.{n}.9" for n in range(24, 40)]
    assert all(type(seen) is float for seen in leases._seen.values())  # plain values only
    assert await _decide(shield, "198.51.0.9") == "allow"  # its time lost: no grant (safe)
    assert leases.granted == 0
    assert await _decide(shield, "198.51.25.9") == "allow"  # kept: granted, seen last now
    assert leases.granted == 1
    assert await _decide(shield, "198.51.99.9") == "allow"  # a new client: 26 out, not 25
    kept = [client for client, _ in leases._seen]
    assert (kept[0], kept[-2:]) == ("198.51.27.9", ["198.51.25.9", "198.51.99.9"])
    assert len(kept) == 16
    await shield.aclose()
