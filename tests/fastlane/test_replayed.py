"""Leases of a client whose signals are counted and replayed (docs/leases.md, "Replayed
signals"): `identity/issuance-limited` of a page without a token and `behaviour/no-assets`,
leases on against off through the differential harness, decisions (details included), response
headers and stores; memory and Redis, asyncio and uvloop, the shipped policy (which challenges
from a score of 40) and the benchmark's (which never refuses)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from benchmarks.apps import CLIENT_LIMITS, NETWORK_LIMITS

from scrapeshield.behaviour.detector import BehaviourDetector
from scrapeshield.identity import tokenless
from scrapeshield.identity.detector import IdentityDetector
from tests.fastlane import sequences
from tests.fastlane.differential import Request, Twins
from tests.fastlane.test_differential import _redis
from tests.servers import RedisServer

pytestmark = pytest.mark.both_loops
Made = Callable[[Twins], list[Request]]
"""A sequence, made when it is sent (from the twins' clock as it then stands)."""

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


def leased_twins(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer, prefix: str, policy: str, on_redis: bool
) -> Twins:
    """Twins with leases on (the fast one) under `policy`'s settings, on Redis or memory."""
    common = NEVER_REFUSING if policy == "never-refusing" else {}
    if on_redis:
        store = _redis(redis, f"{prefix}{policy}:")
        return Twins(monkeypatch, store, server_clock=True, fast=LEASE, expiry_slack=1.0, **common)
    return Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **common)


async def each_compared(
    twins: Twins, send: Callable[[list[Request]], Awaitable[Any]], made: Sequence[Made]
) -> None:
    """Each sequence made sent (`send`), the stores compared after each; the twins closed."""
    try:
        for make in made:
            await send(make(twins))
            await twins.compare_stores()
    finally:
        await twins.aclose()


async def leased_runs(
    monkeypatch: pytest.MonkeyPatch,
    redis: RedisServer,
    prefix: str,
    policy: str,
    run: Callable[[Twins], Awaitable[None]],
    stores: Sequence[bool] = (False, True),
) -> dict[bool, int]:
    """`run` on leased twins in memory and on Redis (`stores`: whether on Redis, in turn):
    how many requests were leased on each."""
    used = {}
    for on_redis in stores:
        twins = leased_twins(monkeypatch, redis, prefix, policy, on_redis)
        leases = twins.fast.leases
        assert leases is not None
        try:
            await run(twins)
        except AssertionError as exc:  # (which store's half differed: the message says)
            raise AssertionError(f"{'Redis' if on_redis else 'memory'} store: {exc}") from exc
        used[on_redis] = leases.used
    return used


async def _replayed(twins: Twins) -> None:
    """Every sequence of counted signals, the stores compared after each."""
    await each_compared(
        twins,
        twins.send,
        [
            lambda t: sequences.target_row(t.clock.now),
            lambda t: sequences.mixed_scraper(t.clock.now),
            lambda t: sequences.alternating_asset(t.clock.now),
            sequences.with_cookie,
            lambda t: sequences.pool_rotation(t.clock.now),
        ],
    )


@pytest.mark.parametrize("policy", ["shipped", "never-refusing"])
async def test_replayed_signals_agree_with_the_pipeline(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer, redis_prefix: str, policy: str
) -> None:
    used = await leased_runs(monkeypatch, redis_server, redis_prefix, policy, _replayed)
    for on_redis, leased in used.items():
        assert leased >= FLOORS[policy, on_redis], (on_redis, leased)


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
        stale = staticmethod(lambda st, facts, _: replay(st, facts, 0))
        monkeypatch.setattr(BehaviourDetector, "lease_replay", stale)
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
