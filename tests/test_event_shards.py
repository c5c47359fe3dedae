"""The block log's stream spread over shards (`store.stream`), on a real Redis and a real
3-primary Cluster: appends from many clients land on every primary, and every reader gets one
merged stream, in id order, paged exactly, bounded in total, with the pre-shard stream's events
merged in."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis

from scrapeshield import Settings
from scrapeshield.dashboard.data import DashboardData
from scrapeshield.errors import ConfigurationError
from scrapeshield.operators import EventFilter, StoreSource, client_report, newest
from scrapeshield.store import RedisStore, open_store
from scrapeshield.store.base import StoredEvent
from scrapeshield.store.stream import LEGACY_TTL, EventStreams, parse_id
from tests.command import cli
from tests.servers import RedisClusterServers

pytestmark = pytest.mark.both_loops

CLIENTS = [f"198.51.100.{n}" for n in range(40)]


@pytest.fixture
def cluster(redis_cluster: RedisClusterServers) -> RedisClusterServers:
    return redis_cluster


def _event(n: int) -> dict[str, Any]:
    return {"client_key": CLIENTS[n % len(CLIENTS)], "n": n, "time": 1.0 + n, "action": "block"}


async def _read_all(store: RedisStore, page: int) -> list[StoredEvent]:
    """Back through the whole stream `page` at a time, as the operators' readers page."""
    pages: list[list[StoredEvent]] = []
    before = None
    while True:
        rows = await store.read_events(limit=page, before=before)
        if rows:
            pages.append(rows)
        if len(rows) < page:
            return [row for rows in reversed(pages) for row in rows]
        before = rows[0].id


def _check_merged(events: list[StoredEvent], count: int) -> None:
    """Every event once, ids unique and increasing, times in order, each client's in order."""
    assert sorted(e.data["n"] for e in events) == list(range(count))
    ids = [parse_id(e.id) for e in events]
    assert all(i is not None for i in ids)
    assert ids == sorted(ids)  # type: ignore[type-var]
    assert len(set(ids)) == len(ids)
    assert [e.time for e in events] == sorted(e.time for e in events)
    for client in CLIENTS:
        mine = [e.data["n"] for e in events if e.data["client_key"] == client]
        assert mine == sorted(mine)


async def test_merged_reads_page_exactly_on_one_server(redis_url: str, redis_prefix: str) -> None:
    """The merge itself, over four shards on one server (a test's choice: a server keeps one
    stream): concurrent appends share milliseconds, and so ids, across shards."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=5.0)
    streams = store.events = EventStreams(redis_prefix, 4, 10_000)
    try:
        raw = redis.Redis.from_url(redis_url)
        for n in range(-5, 0):  # the pre-shard stream: the oldest events, merged too
            raw.xadd(redis_prefix + "events", {"e": f'{{"n": {n}, "client_key": "old"}}'})
        for start in range(0, 300, 30):  # 30 at a time: many in one millisecond
            await asyncio.gather(*(store.append_event(_event(n)) for n in range(start, start + 30)))
        everything = await store.read_events(limit=10_000)
        assert [e.data["n"] for e in everything[:5]] == [-5, -4, -3, -2, -1]
        merged = everything[5:]
        _check_merged(merged, 300)
        for page in (1, 7, 64, 500):
            assert [e.id for e in await _read_all(store, page)] == [e.id for e in everything]
        newest = await store.read_events(limit=10)
        assert newest == everything[-10:]
        since = merged[100].time
        assert await store.read_events(since=since) == [e for e in everything if e.time >= since]
        assert await store.read_events(before="garbage") == []
        lengths = [int(raw.xlen(key)) for key in streams.keys]
        assert sum(lengths) == 300
        assert min(lengths) > 0  # every shard took some clients
        held = [str(raw.xrange(key)) for key in streams.keys]
        for client in CLIENTS[:5]:  # one client's events: one shard
            field = f'"client_key":"{client}"'
            assert [field in rows for rows in held].count(True) == 1
    finally:
        await store.aclose()


async def test_shards_keep_the_total_bound(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=5.0)
    store.events = EventStreams(redis_prefix, 4, 42)  # 10 a shard (rounded down): 40 in all
    try:
        for start in range(0, 400, 50):
            await asyncio.gather(*(store.append_event(_event(n)) for n in range(start, start + 50)))
        kept = await store.read_events(limit=10_000)
        assert len(kept) == 40
        raw = redis.Redis.from_url(redis_url)
        assert [int(raw.xlen(key)) for key in store.events.keys] == [10] * 4
    finally:
        await store.aclose()


def _xadds(nodes: list[redis.Redis]) -> list[int]:
    stats = [node.info("commandstats").get("cmdstat_xadd", {}) for node in nodes]
    return [int(s.get("calls", 0)) for s in stats]


async def test_a_flood_of_refusals_appends_on_every_primary(
    cluster: RedisClusterServers, request: pytest.FixtureRequest
) -> None:
    prefix = f"t:{request.node.name}:"
    settings = Settings(store_url=cluster.url, store_prefix=prefix, store_timeout=5.0)
    store = open_store(settings)
    assert isinstance(store, RedisStore)
    assert len(store.events.keys) == 16  # the default, on a Cluster whose keys spread
    nodes = [redis.Redis(port=n.port) for n in cluster.nodes]
    legacy = prefix + "events"
    with redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port) as raw:
        for n in range(-3, 0):  # written by a store of the last version: one key
            raw.xadd(legacy, {"e": f'{{"n": {n}, "client_key": "old", "time": 0.5}}'})
        assert raw.ttl(legacy) == -1
        try:
            before = _xadds(nodes)
            for start in range(0, 600, 60):
                await asyncio.gather(
                    *(store.append_event(_event(n)) for n in range(start, start + 60))
                )
            added = [after - was for after, was in zip(_xadds(nodes), before, strict=True)]
            assert sum(added) == 600
            assert min(added) > 600 / 3 / 2, added  # each primary: at least half its share
            assert 0 < raw.ttl(legacy) <= LEGACY_TTL  # the old stream now ages out

            everything = await store.read_events(limit=10_000)
            assert [e.data["n"] for e in everything[:3]] == [-3, -2, -1]
            _check_merged(everything[3:], 600)
            for page in (9, 100):
                assert [e.id for e in await _read_all(store, page)] == [e.id for e in everything]

            # The operators' readers and the dashboard over the same merged stream.
            source = StoreSource(store, page=50)
            client = CLIENTS[3]
            mine = [e.data for e in everything if e.data.get("client_key") == client]
            assert [e async for e in source.oldest_first(EventFilter(client=client))] == mine
            assert await newest(source, EventFilter(), 25) == [e.data for e in everything[-25:]]
            report = await client_report(source, client, store=store, recent=5)
            assert (report.total, report.events) == (len(mine), mine[-5:])
            view = await DashboardData(store, settings).client(client)
            assert view.total == len(mine)
        finally:
            await store.aclose()
            raw.delete(legacy, *store.events.keys)


async def test_the_bound_holds_on_the_cluster(
    cluster: RedisClusterServers, request: pytest.FixtureRequest
) -> None:
    """`event_stream_maxlen` 40 over 16 shards: 2 each (rounded down), 32 in all."""
    prefix = f"t:{request.node.name}:"
    settings = Settings(
        store_url=cluster.url, store_prefix=prefix, store_timeout=5.0, event_stream_maxlen=40
    )
    store = open_store(settings)
    assert isinstance(store, RedisStore)
    try:
        for start in range(0, 400, 80):
            await asyncio.gather(*(store.append_event(_event(n)) for n in range(start, start + 80)))
        kept = await store.read_events(limit=10_000)
        assert len(kept) == 32
        assert min(e.data["n"] for e in kept) >= 320  # each shard's newest: the last batch's
        with redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port) as raw:
            assert [int(raw.xlen(key)) for key in store.events.keys] == [2] * 16
            raw.delete(*store.events.keys)
    finally:
        await store.aclose()


async def test_a_pinned_prefix_keeps_one_stream(cluster: RedisClusterServers) -> None:
    """A prefix with its own tag puts every key in one slot: one stream, as on one server."""
    store = open_store(Settings(store_url=cluster.url, store_prefix="{pinned}:", store_timeout=5))
    assert isinstance(store, RedisStore)
    try:
        assert store.events.keys == ["{pinned}:events"]
        await store.append_event(_event(1))
        assert [e.data["n"] for e in await store.read_events()][-1] == 1
    finally:
        await store.aclose()


@pytest.mark.parametrize("bad", [0, -1, 1025, "many"])
def test_bad_shard_counts_are_refused(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="event_stream_shards"):
        Settings(event_stream_shards=bad)


def test_the_log_cli_reads_the_merged_stream(
    cluster: RedisClusterServers, redis_prefix: str
) -> None:
    """`scrapeshield log tail` and `export`, run as an operator runs them, on the Cluster."""
    settings = Settings(store_url=cluster.url, store_prefix=redis_prefix, store_timeout=5.0)

    async def fill() -> list[dict[str, Any]]:
        store = open_store(settings)
        assert isinstance(store, RedisStore)
        try:
            for start in range(0, 120, 40):
                await asyncio.gather(
                    *(store.append_event(_event(n)) for n in range(start, start + 40))
                )
            return [e.data for e in await store.read_events(limit=1000)]
        finally:
            await store.aclose()

    merged = asyncio.run(fill())
    assert len(merged) == 120
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix}
    tail = cli("log", "tail", "-n", "5", "--json", "--store", cluster.url, env=env)
    assert tail.returncode == 0, tail.stderr
    assert [json.loads(line)["n"] for line in tail.stdout.splitlines()] == [
        e["n"] for e in merged[-5:]
    ]
    export = cli("log", "export", "--store", cluster.url, env=env)
    assert export.returncode == 0, export.stderr
    assert [json.loads(line)["n"] for line in export.stdout.splitlines()] == [
        e["n"] for e in merged
    ]
