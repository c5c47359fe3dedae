"""What the reservation tests share, in memory and on Redis: one API client's requests against
a quota of 40 an hour, leases of 4 requests, never grown (a reservation leaves 16 requests'
room)."""

from __future__ import annotations

from scrapeshield import Settings, Shield
from scrapeshield.lease.table import Leases
from scrapeshield.shield import synthetic_scope
from tests.browsers import chrome

API = list({**chrome(), "Accept": "application/json"}.items())
QUOTA = 40
STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]


def settings(strategy: str, leases: bool, api: str = f"{QUOTA}/hour") -> Settings:
    return Settings(
        # (leases of 4 that never grow: these tests count each grant; growth: test_lease_grow)
        lease={"enabled": leases, "requests": 4, "max_requests": 4, "seconds": 30.0},
        ratelimit={
            "strategy": strategy,
            "groups": {"default": {"limits": "100/minute"}, "api": {"limits": api}},
        },
    )


async def decide(shield: Shield) -> str:
    scope = synthetic_scope(path="/api/artworks", headers=API)
    return (await shield.decide(shield.facts(scope), shield.context())).rule


async def near_the_limit(shield: Shield, leases: Leases) -> None:
    """The quota's requests and two more: the 41st refused as without leases, and the last
    lease granted at the 22nd request (19 requests' room before it: its hit, a reservation of
    2 and the 16 kept unreserved), none after it, so the last 16 allowed were all evaluated in
    full (the 1st is evaluated in full, a lease granted at the 2nd, then every 5th)."""
    rules, granted = [], []
    for _ in range(QUOTA + 2):
        rules.append(await decide(shield))
        granted.append(leases.granted)
    assert rules == ["allow"] * QUOTA + ["rate-limit"] * 2
    assert leases.used > 0
    assert granted[-22] < granted[-21] == granted[-1]
