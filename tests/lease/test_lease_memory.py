"""Reservations in memory (docs/leases.md): a lease's requests are counted in the native limiter
at its grant, none is hit while leased, and its unused part is given back (after the sweep and
at shutdown, whatever the strategy); near a limit no lease, so the limit is exact."""

from __future__ import annotations

import time

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.lease.table import Leases
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import MemoryStore
from tests.browsers import chrome

API = list({**chrome(), "Accept": "application/json"}.items())
QUOTA = 40  # requests 4 a lease: a reservation leaves 16 requests' room
STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]


def _shield(strategy: str) -> tuple[Shield, Leases]:
    """A shield with leases of 4 requests on the MemoryStore, and its lease table."""
    settings = Settings(
        lease={"enabled": True, "requests": 4, "seconds": 30.0},
        ratelimit={
            "strategy": strategy,
            "groups": {"default": {"limits": "100/minute"}, "api": {"limits": f"{QUOTA}/hour"}},
        },
    )
    shield = Shield(settings, store=MemoryStore())
    assert shield.leases is not None
    return shield, shield.leases


async def _decide(shield: Shield) -> str:
    scope = synthetic_scope(path="/api/artworks", headers=API)
    return (await shield.decide(shield.facts(scope), shield.context())).rule


async def _room(shield: Shield) -> int:
    """How many more requests the limiter admits, asked with the shield's leases set aside."""
    leases, shield.leases = shield.leases, None
    try:
        for n in range(QUOTA + 1):
            if await _decide(shield) != "allow":
                return n
        return QUOTA + 1
    finally:
        shield.leases = leases


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_reservation_is_counted_at_once_and_its_unused_part_given_back(
    strategy: str,
) -> None:
    shield, leases = _shield(strategy)
    for _ in range(3):  # the 1st granted (4 reserved), the 2nd and 3rd leased
        assert await _decide(shield) == "allow"
    assert (leases.granted, leases.used) == (1, 2)
    assert await _room(shield) == QUOTA - 5  # 1 + 4 counted, not 3
    await leases.aclose()  # the 2 unused given back: the 3 served and the probe's 35 counted
    assert await _room(shield) == 2
    assert leases.settled == 2
    await shield.aclose()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_the_sweep_gives_back_what_a_lease_left_unused(strategy: str) -> None:
    shield, leases = _shield(strategy)
    for _ in range(2):  # 4 reserved, 1 used
        assert await _decide(shield) == "allow"
    assert leases.used == 1
    leases.sweep(time.time() + 60)  # the lease is over: settled, 3 given back
    assert len(leases) == 0
    assert await _room(shield) == QUOTA - 2
    await shield.aclose()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_near_the_limit_no_lease_is_granted_and_the_limit_is_exact(strategy: str) -> None:
    shield, leases = _shield(strategy)
    rules, granted = [], []
    for _ in range(QUOTA + 2):
        rules.append(await _decide(shield))
        granted.append(leases.granted)
    assert rules == ["allow"] * QUOTA + ["rate-limit"] * 2  # the 41st refused, as without
    assert leases.used > 0
    # a grant needs 16 requests' room after its own reservation of up to 4: none once fewer
    # than 21 remain, so the last 20 requests were all evaluated in full
    assert granted[-22] == granted[-1]
    await shield.aclose()
