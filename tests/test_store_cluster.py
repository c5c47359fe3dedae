"""Redis Cluster, for real: three primaries on loopback, slots spread by redis-cli.

With a hash-tagged `store_prefix` every key of scrapeshield lands in one slot, so the rate
limiter's script (a request's limits, strikes and ban together) runs, and counts exactly across
two shields standing in for two worker processes. Without a tag, start-up refuses the settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.errors import ConfigurationError
from scrapeshield.facts import Facts
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Action
from tests.servers import RedisClusterServers

pytestmark = pytest.mark.both_loops  # on asyncio and on uvloop

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterServers]:
    servers = RedisClusterServers.start()
    try:
        yield servers
    finally:
        servers.stop()


def _settings(url: str, prefix: str) -> Settings:
    return Settings(
        store_url=url,
        store_prefix=prefix,
        store_timeout=2.0,
        ratelimit={
            "groups": {
                "default": {"limits": "5/minute", "network_limits": "50/minute", "headers": True}
            },
            "escalation": {"throttles": 3, "ban": 60},
        },
        fingerprint={"enabled": False},
        challenge={"enabled": False},
    )


@pytest.fixture
async def shields(
    cluster: RedisClusterServers, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Shield, Shield]]:
    prefix = f"t:{{{request.node.name}}}:"  # a tag per test: no test reads another's keys
    first, second = Shield(_settings(cluster.url, prefix)), Shield(_settings(cluster.url, prefix))
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


def _facts(shield: Shield, ip: str = "198.51.100.7") -> Facts:
    return shield.facts(synthetic_scope(path="/artworks/1", ip=ip, user_agent=FIREFOX))


def test_a_cluster_store_needs_a_hash_tagged_prefix() -> None:
    with pytest.raises(ConfigurationError, match=r"store_prefix .*hash tag"):
        Settings(store_url="redis+cluster://127.0.0.1:7000")
    with pytest.raises(ConfigurationError, match="store_prefix"):
        Settings(store_url="redis+cluster://127.0.0.1:7000", store_prefix="ss:{}:")
    assert Settings(store_url="redis+cluster://127.0.0.1:7000", store_prefix="ss:{a}:")
    assert Settings(store_url="redis://127.0.0.1:6379", store_prefix="ss:")  # one server: any


async def test_limits_count_exactly_across_two_shields(shields: tuple[Shield, Shield]) -> None:
    decisions = []
    # Every decision below also runs the behaviour detector's script on the cluster.
    assert {"ratelimit", "behaviour"} <= {d.name for d in shields[0].detectors}
    for i in range(12):
        shield = shields[i % 2]
        ctx = shield.context()
        decision = await shield.decide(_facts(shield), ctx)
        assert not ctx.store_failed, decision
        decisions.append(decision)
        if i == 0:
            fields = dict(ctx.response_headers)
            assert b";r=4;" in fields[b"ratelimit"]  # counted once, in the shared slot
    actions = [d.action for d in decisions]
    assert actions[:5] == [Action.ALLOW] * 5
    # The third throttle bans the client (escalation); the ban is read back from the cluster
    # by both shields on the requests that follow.
    assert actions[5:7] == [Action.THROTTLE] * 2
    assert (actions[7], decisions[7].rule) == (Action.BLOCK, "escalation/ban")
    assert {d.rule for d in decisions[8:]} == {"ban/active"}
    other = await shields[1].decide(_facts(shields[1], ip="198.51.100.99"))
    assert other.action is Action.ALLOW  # another client of the same network: its own limit


async def test_a_ban_written_by_one_shield_blocks_at_the_other(
    shields: tuple[Shield, Shield],
) -> None:
    first, second = shields
    await first.bans.ban("203.0.113.5", 60, reason="manual", rule="manual")
    decision = await second.decide(_facts(second, ip="203.0.113.5"))
    assert decision.rule == "ban/active"
    assert await second.bans.get("203.0.113.5") is not None


async def test_identity_counts_in_the_shared_slot(shields: tuple[Shield, Shield]) -> None:
    """The identity script (budgets, pools, issuance) on the cluster, from both shields."""
    from tests.browsers import chrome
    from tests.identity.helpers import image_headers

    for i in range(4):
        shield = shields[i % 2]
        ctx = shield.context()
        scope = synthetic_scope(
            path=f"/images/{i}.png", ip="198.51.100.8", headers=list(image_headers("/").items())
        )
        decision = await shield.decide(shield.facts(scope), ctx)
        assert not ctx.store_failed, decision
        assert ctx.notes["budget_use"] == (i + 1) / 40
    ctx = shields[0].context()
    page = synthetic_scope(path="/", ip="198.51.100.8", headers=list(chrome().items()))
    await shields[0].decide(shields[0].facts(page), ctx)
    assert not ctx.store_failed
    assert ctx.app_headers
