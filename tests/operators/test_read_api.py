"""The operators' read API on the memory store, a real Redis (both loops) and a JSON-lines file:
a filter finds every match in retention, pages stay bounded, summaries and client reports."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from scrapeshield.bans import BanList
from scrapeshield.behaviour.trap import trap_key
from scrapeshield.operators import (
    EventFilter,
    FileSource,
    SourceError,
    StoreSource,
    client_report,
    newest,
    summarise,
)
from scrapeshield.operators.sources import MAX_LINE
from scrapeshield.ratelimit.escalation import strike_key
from scrapeshield.store import MemoryStore, RedisStore, Store

BASE = (time.time() // 3600 - 3) * 3600 + 60  # events' own times: hours before now


def event(n: int, **more: Any) -> dict[str, Any]:
    base = {
        "time": BASE + n,
        "event": "decision",
        "request_id": f"r{n}",
        "client_key": f"198.51.100.{n % 5}",
        "user_agent": "Wget/1.21",
        "method": "GET",
        "path": f"/art/{n}",
        "action": "block",
        "rule": "ua/category",
        "enforced": True,
        "reasons": [{"name": "ua/category/scraper-tool", "weight": 100.0}],
    }
    return base | more


async def fill(store: Store, count: int, old: dict[str, Any]) -> None:
    await store.append_event(old)
    for n in range(count):
        await store.append_event(event(n))


@pytest.fixture
async def big_store(request: pytest.FixtureRequest, redis_url: str, redis_prefix: str) -> Any:
    """A store keeping 3,000 events whose oldest is the only one of client 192.0.2.99."""
    if request.param == "memory":
        store: Store = MemoryStore(max_events=5000)
    else:
        store = RedisStore(redis_url, prefix=redis_prefix, timeout=5.0, max_events=5000)
    await fill(store, 3000, event(-1, client_key="192.0.2.99", action="ban", rule="old"))
    try:
        yield store
    finally:
        await store.aclose()


pytestmark = pytest.mark.both_loops


@pytest.mark.parametrize("big_store", ["memory", "redis"], indirect=True)
async def test_a_filter_finds_the_oldest_match_past_thousands_of_newer_events(
    big_store: Store,
) -> None:
    source = StoreSource(big_store, page=200)
    found = await newest(source, EventFilter(client="192.0.2.99"), 50)
    assert [e["rule"] for e in found] == ["old"]
    assert [e["request_id"] async for e in source.newest_first(EventFilter(action="ban"))] == [
        "r-1"
    ]
    tail = await newest(source, EventFilter(), 3)
    assert [e["request_id"] for e in tail] == ["r2997", "r2998", "r2999"]


@pytest.mark.parametrize("big_store", ["memory", "redis"], indirect=True)
async def test_oldest_first_is_every_event_once_in_order(big_store: Store) -> None:
    source = StoreSource(big_store, page=333)
    ids = [e["request_id"] async for e in source.oldest_first(EventFilter())]
    assert ids == ["r-1", *(f"r{n}" for n in range(3000))]
    window = EventFilter(path="/art/1", until=time.time() + 1)
    paths = [e["path"] async for e in source.oldest_first(window)]
    assert len(paths) == 1 + 10 + 100 + 1000  # /art/1, /art/1x, /art/1xx, /art/1xxx
    assert paths[:3] == ["/art/1", "/art/10", "/art/11"]
    assert [e async for e in source.oldest_first(EventFilter(until=time.time() - 3600))] == []


@pytest.mark.parametrize("big_store", ["redis"], indirect=True)
async def test_paging_reads_at_most_one_page_per_round_trip(big_store: Store) -> None:
    assert isinstance(big_store, RedisStore)
    calls: list[int] = []
    original = big_store.read_events

    async def counting(**kwargs: Any) -> Any:
        rows = await original(**kwargs)
        calls.append(len(rows))
        return rows

    big_store.read_events = counting  # type: ignore[method-assign,assignment]
    source = StoreSource(big_store, page=400)
    assert len([e async for e in source.newest_first(EventFilter(client="none"))]) == 0
    assert max(calls) == 400
    assert sum(calls) == 3001


async def test_summary_counts_and_histogram(store: Store) -> None:
    await store.append_event(event(1, action="challenge", rule="score/challenge"))
    await store.append_event(event(2, enforced=False))
    await store.append_event(event(3, time=BASE + 7200, user_agent="GPTBot/1.0"))
    await store.append_event(
        event(4, event="served", action="allow", rule="allow", agent="Twitterbot", reasons=[])
    )
    summary = await summarise(StoreSource(store).oldest_first(EventFilter()))
    assert summary.total == 4
    assert (summary.refused, summary.let_through) == (2, 2)  # monitor and served let through
    assert summary.by_action == {"block": 2, "challenge": 1, "allow": 1}
    assert summary.by_category == {"scraper-tool": 3, "-": 1}
    assert summary.by_event == {"decision": 3, "served": 1}
    assert list(summary.per_hour.values()) == [3, 1]
    assert summary.by_user_agent["Wget/1.21"] == 3


async def test_client_report_has_ban_trap_and_last_refusal(store: Store) -> None:
    key = "198.51.100.1"
    await store.append_event(event(1, rule="first"))
    await store.append_event(event(6, rule="monitor-only", enforced=False))
    await BanList(store).ban(key, 600, reason="scraping")
    await store.set(trap_key(key), "/archive/full/1", ttl=300)
    await store.incr(strike_key(key), 2, ttl=60)
    report = await client_report(StoreSource(store), key, store=store)
    assert report.total == 2
    assert [e["rule"] for e in report.events] == ["first", "monitor-only"]
    assert report.last_refusal is not None
    assert report.last_refusal["rule"] == "first"
    assert report.ban is not None
    assert 590 <= report.ban["remaining"] <= 600
    assert report.ban["reason"] == "scraping"
    assert report.trap is not None
    assert report.trap["path"] == "/archive/full/1"
    assert 290 <= report.trap["remaining"] <= 300
    assert report.strikes == 2
    clean = await client_report(StoreSource(store), "203.0.113.9", store=store)
    assert (clean.total, clean.ban, clean.trap, clean.last_refusal) == (0, None, None, None)


async def test_follow_yields_events_appended_later(store: Store) -> None:
    await store.append_event(event(1))
    source = StoreSource(store)
    follow = source.follow(EventFilter(client="198.51.100.3"), interval=0.05)

    async def later() -> None:
        await asyncio.sleep(0.2)
        await store.append_event(event(2))  # another client: filtered out
        await store.append_event(event(3, rule="wanted"))

    writer = asyncio.create_task(later())
    async with asyncio.timeout(10):
        got = await anext(follow)
    await writer
    await follow.aclose()
    assert got["rule"] == "wanted"


def write_log(path: Path, events: list[dict[str, Any]]) -> None:
    lines = ["not json at all", "2026-12-03 WARNING " + json.dumps(events[0])]
    lines += [json.dumps(e) for e in events[1:]]
    lines.append(json.dumps({"event": "directives", "directives": "abc", "state": {"x": 1}}))
    lines.append('{"client_key": "' + "x" * (MAX_LINE + 10) + '"}')  # past the bound: skipped
    lines.append(json.dumps({"other": "record of another logger"}))
    path.write_text("\n".join(lines) + "\n")


async def test_file_source_reads_records_among_other_lines(tmp_path: Path) -> None:
    log = tmp_path / "blocklog.jsonl"
    write_log(log, [event(-1, client_key="192.0.2.99")] + [event(n) for n in range(500)])
    source = FileSource(log)
    only = EventFilter(client="192.0.2.99")
    assert [e["request_id"] async for e in source.newest_first(only)] == ["r-1"]
    assert len([e async for e in source.oldest_first(EventFilter())]) == 501
    assert [e["request_id"] for e in await newest(source, EventFilter(), 2)] == ["r498", "r499"]
    assert await source.states(["abc", "missing"]) == {"abc": {"x": 1}}
    summary = await summarise(source.oldest_first(EventFilter(since=BASE + 400)))
    assert summary.total == 100


async def test_file_follow_reads_appended_lines_and_survives_truncation(tmp_path: Path) -> None:
    log = tmp_path / "blocklog.jsonl"
    log.write_text(json.dumps(event(1)) + "\n")
    follow = FileSource(log).follow(EventFilter(), interval=0.05)

    async def later() -> None:
        await asyncio.sleep(0.2)
        with log.open("a") as handle:
            handle.write(json.dumps(event(2)) + "\n" + json.dumps(event(3))[:20])
        await asyncio.sleep(0.2)
        with log.open("a") as handle:  # the half-written line completed
            handle.write(json.dumps(event(3))[20:] + "\n")
        await asyncio.sleep(0.2)
        log.write_text(json.dumps(event(4)) + "\n")  # rotated: shorter than before

    writer = asyncio.create_task(later())
    async with asyncio.timeout(10):
        got = [(await anext(follow))["request_id"] for _ in range(3)]
    await writer
    await follow.aclose()
    assert got == ["r2", "r3", "r4"]


def test_a_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such log file"):
        FileSource(tmp_path / "missing.jsonl")


async def test_memory_store_before_bound_matches_redis_order(store: Store) -> None:
    for n in range(5):
        await store.append_event({"n": n})
    rows = await store.read_events()
    older = await store.read_events(before=rows[3].id, limit=2)
    assert [r.data["n"] for r in older] == [1, 2]
    assert time.time() - rows[0].time < 60


async def test_a_cursor_joins_tail_and_follow_without_loss_or_repeat(
    store: Store, tmp_path: Path
) -> None:
    """An event appended between the tail's read and the follow's start is printed once; a
    burst of more than a page between two polls is read whole."""
    log = tmp_path / "blocklog.jsonl"
    log.write_text(json.dumps(event(0)) + "\n")
    await store.append_event(event(0))
    for source in (StoreSource(store, page=50), FileSource(log)):
        cursor = await source.cursor()
        if isinstance(source, FileSource):
            with log.open("a") as handle:
                handle.write("".join(json.dumps(event(n)) + "\n" for n in range(1, 61)))
        else:
            for n in range(1, 61):
                await store.append_event(event(n))
        tail = await newest(source, EventFilter(), 10, cursor)
        assert [e["request_id"] for e in tail] == ["r0"]
        follow = source.follow(EventFilter(), interval=0.01, after=cursor)
        async with asyncio.timeout(10):
            got = [(await anext(follow))["request_id"] for _ in range(60)]
        await follow.aclose()
        assert got == [f"r{n}" for n in range(1, 61)]


async def test_client_report_on_a_file_counts_past_ten_thousand(tmp_path: Path) -> None:
    log = tmp_path / "blocklog.jsonl"
    with log.open("w") as handle:
        for n in range(10_050):
            handle.write(json.dumps(event(n, client_key="192.0.2.1")) + "\n")
    report = await client_report(FileSource(log), "192.0.2.1", recent=3)
    assert report.total == 10_050
    assert [e["request_id"] for e in report.events] == ["r10047", "r10048", "r10049"]
    assert report.last_refusal is not None
    assert report.last_refusal["request_id"] == "r10049"
    summary = await summarise(FileSource(log).any_order(EventFilter()))
    assert summary.total == 10_050
