"""The same scenarios for every strategy on every limiter: the native in-memory one, limits'
MemoryStorage (`memory_backend = "limits"`) and the Lua script on a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.ratelimit.settings import Strategy
from scrapeshield.signals import Action
from scrapeshield.store import MemoryStore, RedisStore, Store
from tests.ratelimit.helpers import group, header, request
from tests.servers import LOADED_STORE_TIMEOUT, RedisServer
from tests.windows import room

pytestmark = pytest.mark.clock_hour

# Windows are an hour or a day (or short ones the test waits out), so a clock-aligned sliding
# window almost never turns over during a test (which would let its count decay by one).
STRATEGIES: list[Strategy] = ["sliding-window-counter", "moving-window", "fixed-window"]


@pytest.fixture(params=["native", "limits", "redis"])
async def backend(
    request: pytest.FixtureRequest, redis_server: RedisServer, redis_prefix: str
) -> AsyncIterator[tuple[Store, str]]:
    """(store, memory_backend): the limiter is chosen from both."""
    store: Store
    if request.param == "redis":
        store = RedisStore(redis_server.url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    else:
        store = MemoryStore()
    try:
        yield store, "limits" if request.param == "limits" else "native"
    finally:
        await store.aclose()


def shield_for(backend: tuple[Store, str], **ratelimit: Any) -> Shield:
    store, memory_backend = backend
    return Shield(Settings(ratelimit={**ratelimit, "memory_backend": memory_backend}), store=store)


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_admits_exactly_the_quota(backend: tuple[Store, str], strategy: Strategy) -> None:
    shield = shield_for(backend, strategy=strategy, groups=group("5/hour"))
    for left in (4, 3, 2, 1, 0):
        decision, ctx = await request(shield)
        assert decision.action is Action.ALLOW
        value = header(ctx, "ratelimit") or ""
        assert value.startswith(f'"default-client-5-3600s";r={left};t=')
        assert 0 < int(value.rsplit("t=", 1)[1]) <= 3600
    decision, ctx = await request(shield)
    assert decision.action is Action.THROTTLE
    assert decision.rule == "rate-limit"
    assert decision.reasons[-1].name == "ratelimit/default/client"
    assert decision.retry_after is not None
    assert 0 < decision.retry_after <= 7200


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_cost_spends_several_units(backend: tuple[Store, str], strategy: Strategy) -> None:
    shield = shield_for(backend, strategy=strategy, groups=group("10/hour", cost=3))
    for expected in (7, 4, 1):
        decision, ctx = await request(shield)
        assert decision.action is Action.ALLOW
        assert f";r={expected};" in (header(ctx, "ratelimit") or "")
    decision, _ = await request(shield)
    assert decision.action is Action.THROTTLE


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_rejected_request_spends_no_limit(
    backend: tuple[Store, str], strategy: Strategy
) -> None:
    shield = shield_for(backend, strategy=strategy, groups=group("10/hour;3/day"))
    for _ in range(3):
        assert (await request(shield))[0].action is Action.ALLOW
    for _ in range(4):
        assert (await request(shield))[0].action is Action.THROTTLE
    # The day limit rejected; the hour limit still has 7 (checked without spending).
    _, ctx = await request(shield, dry_run=True)
    policy = header(ctx, "ratelimit-policy")
    assert policy == '"default-client-10-3600s";q=10;w=3600, "default-client-3-86400s";q=3;w=86400'
    outcome = ctx.notes["ratelimit"]["outcome"]
    assert [s.remaining for s in outcome.states] == [7, 0]


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_dry_run_spends_nothing(backend: tuple[Store, str], strategy: Strategy) -> None:
    shield = shield_for(backend, strategy=strategy, groups=group("2/hour"))
    for _ in range(5):
        decision, ctx = await request(shield, dry_run=True)
        assert decision.action is Action.ALLOW
        assert ";r=2;" in (header(ctx, "ratelimit") or "")
    assert (await request(shield))[0].action is Action.ALLOW


async def test_windows_expire(backend: tuple[Store, str]) -> None:
    async def scenario(strategy: Strategy) -> None:
        shield = shield_for(backend, strategy=strategy, groups=group("2/1 second"))
        ip = f"198.51.100.{STRATEGIES.index(strategy) + 1}"
        assert (await request(shield, ip=ip))[0].action is Action.ALLOW
        assert (await request(shield, ip=ip))[0].action is Action.ALLOW
        assert (await request(shield, ip=ip))[0].action is Action.THROTTLE
        # Two windows later every strategy has forgotten the hits.
        await asyncio.sleep(2.05)
        assert (await request(shield, ip=ip))[0].action is Action.ALLOW

    await room(0.5, 1.0)  # the three hits within one window (the sliding counter's floor)
    await asyncio.gather(*(scenario(s) for s in STRATEGIES))
