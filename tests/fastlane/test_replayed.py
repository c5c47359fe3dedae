"""Leases of a client whose signals are counted and replayed (docs/leases.md, "Replayed
signals"): `identity/issuance-limited` of a page without a token and `behaviour/no-assets`,
leases on against off through the differential harness, decisions (details included), response
headers and stores; memory and Redis, asyncio and uvloop, the shipped policy (which challenges
from a score of 40) and the benchmark's (which never refuses)."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.apps import CLIENT_LIMITS, NETWORK_LIMITS

from scrapeshield.behaviour.detector import BehaviourDetector
from scrapeshield.identity import tokenless
from scrapeshield.identity.detector import IdentityDetector
from tests.fastlane import sequences
from tests.fastlane.differential import Twins
from tests.fastlane.test_differential import _redis
from tests.servers import RedisServer

pytestmark = pytest.mark.both_loops

LEASE = {"lease": {"enabled": True}}
NEVER_REFUSING: dict[str, Any] = {
    "policy": {"challenge_score": 1e9, "block_score": 1e9, "use_default_rules": False},
    "ratelimit": {
        "groups": {"default": {"limits": CLIENT_LIMITS, "network_limits": NETWORK_LIMITS}}
    },
}
"""benchmarks.apps.bench_settings' policy and limits: the target row is allowed throughout."""
TARGET_ROW_LEASED = 280
"""Of the target row's 350 requests, leased on the memory store (288 at 2026-12-07's commit):
a change that quietly stops leasing them fails."""


FLOORS = {  # leased (71, 24, 759, 688 at 2026-12-07's commit): a change that stops leasing fails
    ("shipped", False): 60,
    ("shipped", True): 20,
    ("never-refusing", False): 700,
    ("never-refusing", True): 600,
}


async def _replayed(twins: Twins) -> Twins:
    """Every sequence of counted signals, the stores compared after each."""
    try:
        await twins.send(sequences.target_row(twins.clock.now))
        await twins.compare_stores()
        await twins.send(sequences.mixed_scraper(twins.clock.now))
        await twins.compare_stores()
        await twins.send(sequences.alternating_asset(twins.clock.now))
        await twins.compare_stores()
        await twins.send(sequences.with_cookie(twins))
        await twins.compare_stores()
        await twins.send(sequences.pool_rotation(twins.clock.now))
        await twins.compare_stores()
    finally:
        await twins.aclose()
    return twins


@pytest.mark.parametrize("policy", ["shipped", "never-refusing"])
async def test_replayed_signals_agree_with_the_pipeline(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer, redis_prefix: str, policy: str
) -> None:
    common = NEVER_REFUSING if policy == "never-refusing" else {}
    for on_redis in (False, True):
        if on_redis:
            store = _redis(redis_server, f"{redis_prefix}{policy}:")
            twins = Twins(
                monkeypatch, store, server_clock=True, fast=LEASE, expiry_slack=1.0, **common
            )
        else:
            twins = Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **common)
        leases = twins.fast.leases
        assert leases is not None
        await _replayed(twins)
        assert leases.used >= FLOORS[policy, on_redis], (on_redis, leases.used)


async def test_the_target_row_is_leased(monkeypatch: pytest.MonkeyPatch) -> None:
    """benchmarks.run's target row in process (one cookie-less Chrome page, fast, the
    benchmark's policy): most of its requests are leased, every decision the pipeline's."""
    twins = Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **NEVER_REFUSING)
    leases = twins.fast.leases
    assert leases is not None
    await twins.send(sequences.target_row(twins.clock.now))
    await twins.compare_stores()
    await twins.aclose()
    assert twins.requests == 350
    assert leases.used >= TARGET_ROW_LEASED, leases.used


@pytest.mark.parametrize(
    ("broken", "where"),
    [
        ("stale-count", r"request 30 \(GET /artworks/7 from 198.51.100.50\): decisions differ"),
        ("window", r"request 257 \(GET /artworks/7 from 198.51.100.50\): decisions differ"),
        ("one-short", r"request 30 \(GET /artworks/7 from 198.51.100.50\): decisions differ"),
        ("scopes", r"request 30 \(GET /artworks/7 from 198.51.100.50\): decisions differ"),
    ],
)
async def test_the_harness_names_a_broken_replay(
    monkeypatch: pytest.MonkeyPatch, broken: str, where: str
) -> None:
    """A replay made wrong on purpose is caught at the request it first differs on: the
    no-assets page count left at the grant's (`stale-count`), the issuance lease outliving its
    window by a second (`window`), the issuance detail's scopes left at the grant's
    (`scopes`)."""
    if broken == "stale-count":
        replay = BehaviourDetector.lease_replay
        monkeypatch.setattr(
            BehaviourDetector, "lease_replay", lambda self, st, facts, _: replay(self, st, facts, 0)
        )
    elif broken == "one-short":
        monkeypatch.setattr(tokenless, "over", _one_short)
    elif broken == "window":
        monkeypatch.setattr(tokenless, "terms", _a_second_late(tokenless.terms))
    else:
        first = (True, False, False)  # the address's alone, as at the grant of request 10
        monkeypatch.setattr(
            IdentityDetector, "lease_replay", lambda self, st, facts, _: self._limited[first]
        )
    # (behaviour's and the rate limiter's leases end at the same turn as identity's: its own
    # end is seen without them)
    common: dict[str, Any] = {**NEVER_REFUSING}
    if broken == "window":
        common |= {"behaviour": {"enabled": False}, "ratelimit": {"enabled": False}}
    twins = Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **common)
    try:
        with pytest.raises(AssertionError, match=where):
            await twins.send(sequences.target_row(twins.clock.now))
    finally:
        await twins.aclose()


def _one_short(state: tokenless.Tokenless) -> tuple[bool, ...]:
    """`tokenless.over` without the page's own count: a scope named one page late."""
    return tuple(
        int(state.store.peek(key) or 0) > limit
        for key, limit in zip(state.counters, state.limits, strict=True)
    )


def _a_second_late(terms: Any) -> Any:
    """`tokenless.terms` with its lease a second past the window's turn."""

    def late(*args: Any) -> Any:
        found = terms(*args)
        return found._replace(until=found.until + 1.0) if found is not None else None

    return late
