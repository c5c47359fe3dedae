"""Leases at a client's pace (docs/log/leases.md, "At a person's pace"): a client whose lease of a
kind and header set ended unused is granted none while its requests of that key come slower
than a lease lives (each grant would cost it for nothing), is granted one again as soon as it
comes faster, and gets the same decisions all along; the marks are bounded."""

from __future__ import annotations

import asyncio
import time

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.lease.table import Leases
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import MemoryStore
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


async def test_a_lease_that_ended_unused_is_not_granted_again_at_that_pace() -> None:
    shield, leases = _shield()
    rules = [await _decide(shield)]  # granted
    await _later(leases)  # ended unused
    assert (leases.granted, leases.unused) == (1, 1)
    for _ in range(2):  # slower than a lease lives: none granted, each in full
        rules.append(await _decide(shield))
        await _later(leases)
    assert (leases.granted, leases.used) == (1, 0)
    rules += [await _decide(shield), await _decide(shield)]  # faster: granted at the 2nd ...
    rules.append(await _decide(shield))  # ... and used
    assert (leases.granted, leases.used) == (2, 1)
    assert rules == ["allow"] * 6
    await shield.aclose()


async def test_a_lease_used_once_is_granted_again_whatever_the_pace() -> None:
    shield, leases = _shield()
    for _ in range(2):  # granted, used
        assert await _decide(shield) == "allow"
    await _later(leases)
    assert await _decide(shield) == "allow"
    assert (leases.granted, leases.used, leases.unused) == (2, 1, 0)
    await shield.aclose()


async def test_a_lease_found_expired_by_its_client_marks_it_too() -> None:
    shield, leases = _shield()
    assert await _decide(shield) == "allow"
    assert leases._sweeper is not None
    leases._sweeper.cancel()  # no sweep: the next request finds the lease over
    await asyncio.sleep(SECONDS * 1.2)
    assert len(leases) == 1
    assert await _decide(shield) == "allow"
    assert (leases.granted, leases.unused) == (1, 1)
    await shield.aclose()


async def test_the_marks_are_bounded_by_max_clients() -> None:
    shield, leases = _shield(max_clients=16)
    for n in range(40):
        assert await _decide(shield, f"198.51.{n}.9") == "allow"
    leases.sweep(time.time() + 60)  # every lease over, unused
    assert leases.unused == 40
    assert 0 < len(leases._idle) <= 16
    await shield.aclose()
