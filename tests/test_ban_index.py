"""Listing bans reads an index, never the keyspace: on the memory store, a real Redis and a real
3-primary Cluster, escalation and CLI bans appear, unbans and expiry remove them, pages come in
order, and bans written before the index are found once by `scan` (`bans --scan`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import redis

from scrapeshield.bans import BanList, ban_key
from scrapeshield.ratelimit.escalation import RULE, Escalation
from scrapeshield.ratelimit.settings import EscalationSpec
from scrapeshield.store import MemoryStore, RedisStore, Store
from scrapeshield.store.keys import BAN_INDEX
from scrapeshield.support import Support
from tests.command import cli
from tests.servers import RedisClusterServers, RedisServer

pytestmark = pytest.mark.both_loops


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(
    request: pytest.FixtureRequest, redis_server: RedisServer, redis_prefix: str
) -> AsyncIterator[Store]:
    if request.param == "memory":
        backend: Store = MemoryStore(max_keys=1000)
    elif request.param == "redis":
        backend = RedisStore(redis_server.url, prefix=redis_prefix, timeout=5.0)
    else:
        cluster: RedisClusterServers = request.getfixturevalue("redis_cluster")
        backend = RedisStore(cluster.url, prefix=redis_prefix, timeout=5.0)
    try:
        yield backend
    finally:
        await backend.aclose()


def _scans(store: Store) -> int:
    """SCANs the Redis server(s) behind `store` have run (0 for memory)."""
    if not isinstance(store, RedisStore):
        return 0
    if store.url.startswith("redis+cluster://"):
        with redis.RedisCluster.from_url("redis://" + store.url.split("://", 1)[1]) as client:
            nodes = [client.get_redis_connection(n) for n in client.get_primaries()]
            return sum(_node_scans(n) for n in nodes)
    with redis.Redis.from_url(store.url) as client:
        return _node_scans(client)


def _node_scans(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_scan", {}).get("calls", 0))


async def test_bans_appear_and_disappear(store: Store) -> None:
    bans = BanList(store)
    escalation = Escalation(EscalationSpec(throttles=3, ban=60))
    scans = _scans(store)
    await bans.ban("198.51.100.1", 600, reason="manual")  # as the CLI and shield.ban do
    await escalation.ban(store, "198.51.100.2", "3 throttles")
    # (1 s: listed below before it ends, on a loaded machine's Redis Cluster too)
    await bans.ban("198.51.100.3", 1.0, reason="short")
    listed = await bans.active()
    assert [(b.client_key, b.rule) for b in listed] == [
        ("198.51.100.3", "ban/manual"),
        ("198.51.100.2", RULE),
        ("198.51.100.1", "ban/manual"),
    ]
    assert await bans.count() == 3

    assert await bans.unban("198.51.100.1")
    assert not await bans.unban("198.51.100.1")
    lifted = await Support(store).lift("198.51.100.2")  # the CLI's and the dashboard's unban
    assert lifted.ban
    await asyncio.sleep(1.1)  # the short ban expires
    assert await bans.active() == []
    assert await bans.count() == 0
    assert _scans(store) == scans  # listing never scanned the keyspace
    if isinstance(store, RedisStore):
        index = store.prefix + BAN_INDEX
        assert await store.execute("ZCARD", index) == 0  # pruned
        await bans.ban("198.51.100.4", 1)
        assert 0 < int(await store.execute("PTTL", index)) <= 2000  # lives as long as its bans


async def test_pages_come_in_order_without_repeats(store: Store) -> None:
    bans = BanList(store)
    await asyncio.gather(*(bans.ban(f"203.0.113.{n}", 100 + n % 17) for n in range(60)))
    whole = await bans.active()
    assert len(whole) == 60
    order = [(b.until, b.client_key) for b in whole]
    assert order == sorted(order)
    paged, last = [], None
    while page := await bans.page(last, count=7):
        paged.extend(page)
        last = page[-1]
    assert [b.client_key for b in paged] == [b.client_key for b in whole]
    assert await bans.active(limit=10) == whole[:10]


async def test_a_ban_lifted_behind_the_index_is_pruned(store: Store) -> None:
    """A ban deleted by a path that does not know the index (an earlier version's unban)."""
    bans = BanList(store)
    await bans.ban("192.0.2.1", 500)
    await bans.ban("192.0.2.2", 600)
    await store.delete(ban_key("192.0.2.1"))
    assert [b.client_key for b in await bans.page(count=1)] == ["192.0.2.2"]  # read on
    assert [b.client_key for b in await bans.active()] == ["192.0.2.2"]
    if isinstance(store, RedisStore):
        assert await store.execute("ZCARD", store.prefix + BAN_INDEX) == 1


async def test_bans_from_before_the_index_are_found_once_by_scan(store: Store) -> None:
    bans = BanList(store)
    record = {"until": 0.0, "reason": "old", "rule": "ban/manual", "created": 0.0}
    for n in range(3):  # as an earlier version wrote them: the record alone
        await store.set(ban_key(f"192.0.2.{n}"), json.dumps(record | {"until": 2e9 + n}), ttl=600)
    found = await bans.scan()
    assert [b.client_key for b in found] == ["192.0.2.0", "192.0.2.1", "192.0.2.2"]
    assert [b.client_key for b in await bans.active()] == ["192.0.2.0", "192.0.2.1", "192.0.2.2"]


def test_the_cli_lists_from_the_index_and_scans_once(redis_url: str, redis_prefix: str) -> None:
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix}
    with redis.Redis.from_url(redis_url) as raw:  # an earlier version's ban
        raw.set(redis_prefix + ban_key("192.0.2.9"), json.dumps({"until": 2e9}), ex=600)
    banned = cli("ban", "198.51.100.7", "--for", "1h", "--store", redis_url, env=env)
    assert banned.returncode == 0, banned.stderr
    listed = json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout)
    assert [r["client_key"] for r in listed] == ["198.51.100.7"]
    scanned = cli("bans", "--scan", "--json", "--store", redis_url, env=env)
    assert "2 bans and 0 trap flags found and indexed" in scanned.stderr
    assert [r["client_key"] for r in json.loads(scanned.stdout)] == ["198.51.100.7", "192.0.2.9"]
    listed = json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout)
    assert [r["client_key"] for r in listed] == ["198.51.100.7", "192.0.2.9"]
    assert cli("unban", "198.51.100.7", "--store", redis_url, env=env).returncode == 0
    listed = json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout)
    assert [r["client_key"] for r in listed] == ["192.0.2.9"]
