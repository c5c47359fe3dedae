"""Redis Cluster, for real: three primaries on loopback, slots spread by redis-cli.

Keys carry their subject as their hash tag (`scrapeshield.store.keys`): a client's counters,
strikes, ban and budgets share one slot, its network's another, a visitor's another. Under real
HTTP load from many clients every primary takes a fair share, and limits and budgets still
count exactly across two shields standing in for two worker processes, including a request one
subject admits and another refuses (its spending given back, its strike counted).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from scrapeshield import Settings, Shield
from scrapeshield.errors import ConfigurationError
from scrapeshield.facts import Facts
from scrapeshield.ratelimit.escalation import strike_key
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Action
from scrapeshield.store import RedisStore, open_store
from scrapeshield.store.keys import subject_key
from tests.browsers import chrome, chrome_image
from tests.servers import LOOPS, RedisClusterServers, closing_app, redis_store_settings, serve

pytestmark = pytest.mark.clock_hour

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterServers]:
    servers = RedisClusterServers.start()
    try:
        yield servers
    finally:
        servers.stop()


def _settings(url: str, prefix: str, network: str = "50/day") -> Settings:
    return Settings(
        **redis_store_settings(url, prefix),
        ratelimit={
            "groups": {"default": {"limits": "5/day", "network_limits": network, "headers": True}},
            "escalation": {"throttles": 3, "ban": 60},
        },
        fingerprint={"enabled": False},
        challenge={"enabled": False},
    )


@pytest.fixture
async def shields(
    cluster: RedisClusterServers, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Shield, Shield]]:
    prefix = f"t:{request.node.name}:"  # no test reads another's keys
    network = getattr(request, "param", "50/day")
    first = Shield(_settings(cluster.url, prefix, network))
    second = Shield(_settings(cluster.url, prefix, network))
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


def _facts(shield: Shield, ip: str = "198.51.100.7") -> Facts:
    return shield.facts(synthetic_scope(path="/artworks/1", ip=ip, user_agent=FIREFOX))


def test_a_cluster_prefix_needs_no_hash_tag() -> None:
    """Keys tag themselves by subject. A prefix with a tag of its own pins every key to one slot
    (still correct, no spread; the store then sends one script per request); any other brace
    would split a client's keys over slots and is refused."""
    url = "redis+cluster://127.0.0.1:7000"
    assert open_cluster_store(Settings(store_url=url)).split
    assert not open_cluster_store(Settings(store_url=url, store_prefix="ss:{site}:")).split
    for bad in ("ss:{}:", "ss:{a:", "ss:}"):
        with pytest.raises(ConfigurationError, match="store_prefix"):
            Settings(store_url=url, store_prefix=bad)
    assert not RedisStore("redis://127.0.0.1:6379").split  # one server: one script


def open_cluster_store(settings: Settings) -> RedisStore:
    store = open_store(settings)
    assert isinstance(store, RedisStore)
    return store


@pytest.mark.both_loops
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


@pytest.mark.both_loops
async def test_a_ban_written_by_one_shield_blocks_at_the_other(
    shields: tuple[Shield, Shield],
) -> None:
    first, second = shields
    await first.bans.ban("203.0.113.5", 60, reason="manual", rule="manual")
    decision = await second.decide(_facts(second, ip="203.0.113.5"))
    assert decision.rule == "ban/active"
    assert await second.bans.get("203.0.113.5") is not None


@pytest.mark.both_loops
async def test_identity_counts_across_slots(shields: tuple[Shield, Shield]) -> None:
    """The identity scripts (budgets by visitor, address and network, pools, issuance: one per
    subject) on the cluster, from both shields: each budget counts every original once."""
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


@pytest.mark.both_loops
@pytest.mark.parametrize("shields", ["6/day"], indirect=True)
async def test_a_request_another_subject_refuses_spends_nothing(
    shields: tuple[Shield, Shield],
) -> None:
    """The network (its own slot) refuses a request its client (another slot) admitted: the
    client's call gives back what it spent and counts the strike."""
    first, second = shields
    for i in range(4):
        assert (await first.decide(_facts(first, ip="198.51.100.1"))).action is Action.ALLOW, i
    for i in range(2):
        assert (await second.decide(_facts(second, ip="198.51.100.2"))).action is Action.ALLOW, i
    ctx = first.context()
    refused = await first.decide(_facts(first, ip="198.51.100.2"), ctx)
    assert refused.action is Action.THROTTLE
    outcome = ctx.notes["ratelimit"]["outcome"]
    assert outcome.rejected.limit.scope == "network"
    assert outcome.strikes == 1
    client = next(s for s in outcome.states if s.limit.scope == "client")
    assert client.remaining == 3  # 5 - 2: the refused request's unit was given back
    store = first.store
    assert isinstance(store, RedisStore)
    assert await store.get(strike_key("198.51.100.2")) == "1"
    # the client still has exactly 3 left once the network has room again: none was lost
    assert await _client_spent(store, "198.51.100.2") == 2


async def _client_spent(store: RedisStore, address: str) -> int:
    """The client's sliding-window count: this day's bucket and the previous one's."""
    base = subject_key("rl:client:default:", address, ":5/86400s:3")
    index = int(time.time() // 86400)
    values = [await store.get(f"{base}/{i % 2}") for i in (index, index - 1)]  # (parity)
    return sum(int(v or 0) for v in values)


def _budget_counts(
    cluster: RedisClusterServers, prefix: str, address: str, network: str
) -> dict[str, int]:
    """The hourly originals budgets of an address and its network, read on the cluster (this
    hour and the previous one: the fetches may straddle an hour)."""
    hour = int(time.time() // 3600)
    counts = {}
    with redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port) as client:
        for scope, subject in (("address", address), ("network", network)):
            keys = [
                prefix + subject_key(f"id:b:{scope}:", subject, f":hour{h}")
                for h in (hour - 1, hour)
            ]
            counts[scope] = sum(int(client.pfcount(k)) for k in keys)
    return counts


def _commands(node: redis.Redis) -> int:
    stats = node.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_eval"))


@pytest.mark.slow
@pytest.mark.parametrize("loop", LOOPS)
def test_load_spreads_over_every_primary_and_counts_exactly(
    cluster: RedisClusterServers, loop: str
) -> None:
    """Many clients over real HTTP, every defence that uses the store on: every primary runs a
    fair share of the scripts and holds a fair share of the keys, and one client of the crowd
    is refused exactly at its limit."""
    settings = Settings(
        **redis_store_settings(cluster.url, f"spread-{loop}:"),
        trusted_proxies=["127.0.0.1"],
        fingerprint={"enabled": False},
        challenge={"secret_keys": ["cluster-test-key-0123456789"]},
        ratelimit={"groups": {"default": {"limits": "5/day", "network_limits": "1000/day"}}},
        # The crowd shares one header set: its pool is counted (keys spread) but never trips,
        # else the tracked client, with the same headers, is refused as its member when the
        # crowd runs ahead of it (seen under load).
        identity={"rotating_pool": {"identities": 1000}},
    )

    async def page(_: Request) -> PlainTextResponse:
        return PlainTextResponse("page")

    routes = [Route("/artworks/{n}", page), Route("/images/{n}.png", page)]
    app = closing_app(settings, routes)
    nodes = [redis.Redis(port=n.port) for n in cluster.nodes]
    for node in nodes:
        node.config_resetstat()
    errors: list[str] = []

    def crowd(base: str, start: int) -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            for n in range(start, start + 60):  # 60 clients, each in a network of its own
                address = f"10.{n // 200}.{n % 200}.7"
                for path, headers in (
                    ("/artworks/1", chrome()),
                    ("/images/1.png", chrome_image(base + "/artworks/1")),
                ):
                    response = client.get(path, headers={**headers, "X-Forwarded-For": address})
                    if response.status_code >= 500:
                        errors.append(f"{path} {response.status_code}")

    with serve(app, loop=loop, lifespan="on") as server:
        workers = [
            threading.Thread(target=crowd, args=(server.url, start)) for start in (0, 60, 120)
        ]
        for worker in workers:
            worker.start()
        with httpx.Client(base_url=server.url, timeout=5) as client:
            statuses = [
                client.get(
                    f"/artworks/{i}", headers={**chrome(), "X-Forwarded-For": "10.99.0.1"}
                ).status_code
                for i in range(7)
            ]
            for i in range(3):  # three originals from a neighbour: its budgets count three
                image = chrome_image(server.url + "/artworks/1")
                client.get(f"/images/{i}.png", headers={**image, "X-Forwarded-For": "10.99.0.2"})
        for worker in workers:
            worker.join(60)
    assert not errors
    assert statuses == [200] * 5 + [429] * 2  # refused exactly past its limit
    budgets = _budget_counts(cluster, f"spread-{loop}:", "10.99.0.2", "10.99.0.0/24")
    assert budgets == {"address": 3, "network": 3}, budgets  # each in its subject's slot
    calls = [_commands(node) for node in nodes]
    sizes = [node.dbsize() for node in nodes]
    for node in nodes:
        node.close()
    total = sum(calls)
    assert total > 360 * 2  # every request ran several scripts
    assert min(calls) > total / 3 / 2, calls  # each primary: at least half its fair share
    assert min(sizes) > sum(sizes) / 3 / 2, sizes
