"""Listing trap flags reads an index, never the keyspace: on the memory store, a real Redis and a
real 3-primary Cluster, a trap hit (through the real detector, and through a real server) is
listed, lifting and expiry remove it, only a hit writes the index (in the hit's own round trip),
and flags written before the index are found once by `bans --scan`."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
import redis

from scrapeshield.behaviour.trap import trap_key
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.store import MemoryStore, RedisStore, Store
from scrapeshield.store.keys import TRAP_INDEX
from scrapeshield.support import Support, trap_index
from tests.browsers import chrome
from tests.command import cli
from tests.operators_app import MOUNT, TOKEN, bearer, operators_app
from tests.servers import LOOPS, RedisClusterServers, RedisServer, redis_store_settings, serve
from tests.test_ban_index import _scans
from tests.test_ban_index import store as store  # (memory, Redis and Cluster)

pytestmark = pytest.mark.both_loops
TRAP = "/artworks/archive-all"


def settings(ttl: float = 600, **extra: Any) -> Settings:
    """The trap on, rate limiting and identity off (requests at machine pace, no cookies)."""
    return Settings(
        directives={"trap_paths": [TRAP]},
        ratelimit={"enabled": False},
        identity={"enabled": False},
        behaviour={"trap_flag_ttl": ttl},
        **extra,
    )


async def visit(shield: Shield, path: str, ip: str) -> str:
    """One request through the shield's pipeline (the detectors as a server runs them)."""
    decision = await shield.decide(shield.facts(synthetic_scope(path=path, ip=ip)))
    return decision.rule


async def index_size(store: Store) -> int | None:
    if not isinstance(store, RedisStore):
        return None
    return int(await store.execute("ZCARD", store.prefix + TRAP_INDEX))


async def test_a_trap_hit_is_listed_lifted_and_pruned(store: Store) -> None:
    shield = Shield(settings(), store=store)
    support = Support(store)
    scans = _scans(store)
    for n in (3, 1, 2):
        assert await visit(shield, TRAP, f"198.51.100.{n}") == "trap"
        await asyncio.sleep(0.01)  # (distinct ends: the order below is by end)
    flags = await support.trap_flags()
    assert [(f.client_key, f.path) for f in flags] == [
        ("198.51.100.3", TRAP),
        ("198.51.100.1", TRAP),
        ("198.51.100.2", TRAP),
    ]
    assert all(590 < f.remaining <= 600 for f in flags)
    assert await support.trap_count() == 3
    one = await trap_index(store).page(count=1)
    assert [e.subject for e in one] == ["198.51.100.3"]
    rest = await trap_index(store).page(one[-1].cursor, count=5)
    assert [e.subject for e in rest] == ["198.51.100.1", "198.51.100.2"]

    lifted = await support.lift("198.51.100.1")  # `scrapeshield unban`, the dashboard's lift
    assert lifted.trap
    assert not lifted.ban
    assert await index_size(store) in (None, 2)
    await store.delete(trap_key("198.51.100.3"))  # behind the index's back (a manual DEL)
    assert [f.client_key for f in await support.trap_flags(limit=1)] == ["198.51.100.2"]
    assert await index_size(store) in (None, 1)
    assert await visit(shield, "/artworks/1", "198.51.100.2") == "trap"  # still flagged
    assert _scans(store) == scans  # listing never scanned the keyspace


async def test_an_expired_flag_leaves_the_listing_and_the_index(store: Store) -> None:
    # (1 s: the listing must come before the flag ends, on a loaded machine too)
    shield = Shield(settings(ttl=1.0), store=store)
    assert await visit(shield, TRAP, "192.0.2.1") == "trap"
    assert [f.client_key for f in await Support(store).trap_flags()] == ["192.0.2.1"]
    if isinstance(store, RedisStore):
        assert 0 < int(await store.execute("PTTL", store.prefix + TRAP_INDEX)) <= 2000
    await asyncio.sleep(1.2)
    assert await Support(store).trap_flags() == []
    assert await Support(store).trap_count() == 0
    assert await index_size(store) in (None, 0)


async def test_a_write_prunes_ended_entries_unread(store: Store) -> None:
    """A steady flood of trap hits that no one lists: the index holds the live flags only."""
    short = Shield(settings(ttl=0.3), store=store)
    for n in range(5):
        assert await visit(short, TRAP, f"192.0.2.{n}") == "trap"
    await asyncio.sleep(0.5)
    assert await visit(Shield(settings(), store=store), TRAP, "192.0.2.9") == "trap"
    assert await index_size(store) in (None, 1)  # (pruned by the write: nothing read it)
    assert [f.client_key for f in await Support(store).trap_flags()] == ["192.0.2.9"]


@pytest.mark.parametrize("kind", ["redis", "cluster"])
async def test_only_a_hit_writes_the_index_in_its_own_round_trip(
    kind: str, request: pytest.FixtureRequest, redis_prefix: str
) -> None:
    server: RedisServer | RedisClusterServers = request.getfixturevalue(
        "redis_server" if kind == "redis" else "redis_cluster"
    )
    store = RedisStore(server.url, prefix=redis_prefix, timeout=5.0)
    try:
        shield = Shield(settings(), store=store)
        assert await visit(shield, TRAP, "203.0.113.2") == "trap"  # (its scripts loaded)
        zadds, trips = _calls(store, "zadd"), store.round_trips
        assert await visit(shield, TRAP, "203.0.113.2") == "trap"  # a hit sets the flag again
        assert store.round_trips - trips == 1  # the flag, its index entry, behaviour's script
        assert _calls(store, "zadd") == zadds + 1
        for n in range(20):  # the flagged client's later requests read the flag, index nothing
            assert await visit(shield, f"/artworks/{n}", "203.0.113.2") == "trap"
        for n in range(20):  # nor do anyone else's
            assert await visit(shield, f"/artworks/{n}", "203.0.113.3") != "trap"
        assert _calls(store, "zadd") == zadds + 1
    finally:
        await store.aclose()


def _calls(store: RedisStore, command: str) -> int:
    """How many times the Redis server(s) behind `store` ran `command` (scripts' calls too)."""
    if store.url.startswith("redis+cluster://"):
        with redis.RedisCluster.from_url("redis://" + store.url.split("://", 1)[1]) as client:
            nodes = [client.get_redis_connection(n) for n in client.get_primaries()]
            return sum(_node_calls(n, command) for n in nodes)
    with redis.Redis.from_url(store.url) as client:
        return _node_calls(client, command)


def _node_calls(client: redis.Redis, command: str) -> int:
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_flags_from_before_the_index_are_found_once_by_scan(store: Store) -> None:
    for n in range(3):  # as an earlier version wrote them: the flag alone
        await store.set(trap_key(f"192.0.2.{n}"), f"/trap/{n}", ttl=100 + n)
    support = Support(store)
    found = await support.scan_trap_flags()
    assert [(f.client_key, f.path) for f in found] == [
        (f"192.0.2.{n}", f"/trap/{n}") for n in range(3)
    ]
    assert [f.client_key for f in await support.trap_flags()] == [
        "192.0.2.0",
        "192.0.2.1",
        "192.0.2.2",
    ]


async def test_the_memory_stores_flags_are_bounded() -> None:
    store = MemoryStore(max_keys=1000)  # (flags: a table of a tenth of that, at least 100)
    shield = Shield(settings(), store=store)
    for n in range(150):
        assert await visit(shield, TRAP, f"10.0.0.{n}") == "trap"
    flags = await Support(store).trap_flags()
    assert [f.client_key for f in flags] == [f"10.0.0.{n}" for n in range(50, 150)]
    for n in range(2000):  # a flood of other clients' counters evicts no flag
        await store.incr(f"rl:client:{{10.1.{n // 250}.{n % 250}}}", ttl=60)
    assert len(await Support(store).trap_flags()) == 100


@pytest.mark.parametrize("kind", ["memory", "redis", "cluster"])
@pytest.mark.parametrize("loop", LOOPS)
def test_a_trap_hit_through_a_real_server_shows_on_the_dashboard_until_cleared(
    loop: str, kind: str, request: pytest.FixtureRequest, redis_prefix: str
) -> None:
    if kind == "memory":
        stored: dict[str, Any] = {"store_url": "memory://"}
    else:
        server: RedisServer | RedisClusterServers = request.getfixturevalue(
            "redis_server" if kind == "redis" else "redis_cluster"
        )
        # (a cluster's first calls, slot map and scripts, took longer than 0.25 s on a
        # loaded machine, the store failed open and the trap was not seen)
        stored = redis_store_settings(server.url, redis_prefix)
    app, shield = operators_app(settings(dashboard={"tokens": [TOKEN]}, **stored))
    with (
        serve(app, loop=loop) as served,
        httpx.Client(base_url=served.url, headers=chrome()) as client,  # a browser, at first
    ):
        assert client.get("/artworks/1").status_code == 200
        assert client.get(TRAP).status_code == 403
        assert client.get("/artworks/2").status_code == 403  # flagged
        scans = _scans(shield.store)
        page = client.get(f"{MOUNT}/bans", headers=bearer())
        assert page.status_code == 200
        assert re.search(r'id="trap-count">1<', page.text)
        assert 'data-client="127.0.0.1"' in page.text
        assert TRAP in page.text
        assert _scans(shield.store) == scans  # the page read the index, not the keyspace
        cleared = client.post(f"{MOUNT}/unban", data={"key": "127.0.0.1"}, headers=bearer())
        assert cleared.json() == {"client_key": "127.0.0.1", "ban": False, "trap": True}
        page = client.get(f"{MOUNT}/bans", headers=bearer())
        assert re.search(r'id="trap-count">0<', page.text)
        assert client.get("/artworks/2").status_code == 200


def test_the_cli_lists_trap_flags_from_the_index_and_scans_once(
    redis_url: str, redis_prefix: str
) -> None:
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix}

    async def hit() -> None:
        store = RedisStore(redis_url, prefix=redis_prefix, timeout=5.0)
        try:
            assert await visit(Shield(settings(), store=store), TRAP, "198.51.100.8") == "trap"
        finally:
            await store.aclose()

    asyncio.run(hit())
    with redis.Redis.from_url(redis_url) as raw:  # an earlier version's flag
        raw.set(redis_prefix + trap_key("192.0.2.9"), "/old-trap", ex=900)
    listed = json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout)
    assert [(r["kind"], r["client_key"]) for r in listed] == [("trap", "198.51.100.8")]
    assert listed[0]["reason"] == f"hit {TRAP}"
    scanned = cli("bans", "--scan", "--json", "--store", redis_url, env=env)
    assert "0 bans and 2 trap flags found and indexed" in scanned.stderr
    listed = json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout)
    assert [r["client_key"] for r in listed] == ["198.51.100.8", "192.0.2.9"]
    assert cli("unban", "198.51.100.8", "--store", redis_url, env=env).returncode == 0
    listed = json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout)
    assert [r["client_key"] for r in listed] == ["192.0.2.9"]
