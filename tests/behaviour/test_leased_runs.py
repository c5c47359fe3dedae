"""Behaviour's leased requests go to Redis as runs and as the rings' last entries only
(`leasing.runs`, `leasing.kept`, `leasing.script_args`): a run of one lease's requests in one
window is counted as each of its requests would be, a window turn starts a run, and each ring
gets exactly its last `size` entries of all the leases', in the order they would have been
pushed. The hash they leave is the one a call per request leaves (real Redis, both loops),
around each ring's size (one entry short of it, at it, past it)."""

from __future__ import annotations

import random

import pytest

from scrapeshield.behaviour.detector import BehaviourDetector
from scrapeshield.behaviour.evidence import ASSET, COND, PAGE
from scrapeshield.behaviour.leasing import PageLease, kept, runs, script_args, taken
from scrapeshield.behaviour.record import LISTED_SIZE
from scrapeshield.behaviour.script import SETTLE
from scrapeshield.behaviour.settings import BehaviourSettings
from scrapeshield.behaviour.works import item_id, path_hash
from scrapeshield.detector import RequestContext
from scrapeshield.lease.protocol import Record
from scrapeshield.store.redis import RedisStore
from tests.behaviour.test_redis_settle import _evaluate, _evaluated, _one_by_one, _record
from tests.servers import LOADED_STORE_TIMEOUT

START = 1_800_000_000.0
WINDOW = 10.0


def test_a_run_ends_at_each_window_turn() -> None:
    """One run per stretch of requests in one window, however long; a turn (forwards or, for
    a clock set back, backwards) starts the next."""
    w = int(START // WINDOW)
    same = [(START + i * 0.001, "/artworks/1") for i in range(200)]
    assert runs(same, WINDOW) == [(w, 200)]
    turns = [(START, "/"), (START + WINDOW, "/"), (START + WINDOW, "/"), (START, "/")]
    assert runs(turns, WINDOW) == [(w, 1), (w + 1, 2), (w, 1)]
    assert runs([], WINDOW) == []


def test_only_each_ring_s_last_entries_are_kept() -> None:
    """`kept` against every entry pushed in turn (leases in order, records in order) and each
    ring's last `size` taken from them: works (the page ring, `size`), listings (their own
    ring, `LISTED_SIZE`), assets none."""
    draw = random.Random(23)
    for _ in range(2_000):
        size = draw.randint(1, 40)
        leases = [_lease(draw, draw.randint(0, 3 * size)) for _ in range(draw.randint(1, 4))]
        pages, listed = [], []
        for state, records in leases:
            for now, path in records if state.kind == PAGE else ():
                ident = item_id(path)
                if ident is not None:
                    pages.append((int(now), ident))
                else:
                    listed.append((int(now), path_hash(path)))
        assert kept(leases, size) == (pages[-size:], listed[-LISTED_SIZE:])


@pytest.mark.both_loops
@pytest.mark.parametrize("seed", [31, 32, 33])
async def test_runs_and_last_entries_leave_what_a_call_per_request_leaves(
    redis_url: str, redis_prefix: str, seed: int
) -> None:
    """Several leases of a client (pages, works and listings, and assets), long runs in one
    window and windows turning inside a lease, each ring one entry short of its size, at it,
    past it: one `SETTLE` for them all, and a flush into the next full evaluation's own call,
    leave the hash (and the evaluation's reply) that a `SCRIPT` call per request leaves."""
    rng = random.Random(seed)
    run = rng.choice([3, 20])  # (the page ring: 32 or 40 entries)
    detector = BehaviourDetector(BehaviourSettings(window=WINDOW, sequential_run=run), leases=True)
    size = detector.ring_size
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        now = START + rng.random() * WINDOW
        for trial in range(10):
            works = rng.choice([size - 1, size, size + 1, 2 * size + 3, 0])
            listings = rng.choice([LISTED_SIZE - 1, LISTED_SIZE, LISTED_SIZE + 1, 0, 2])
            leases, now = _leases(rng, now, works, listings)
            evaluated = rng.randrange(1 << 30)
            replies = {}
            for client in ("each", "settled", "merged"):
                if trial % 2:  # a record with rings and counts already
                    before = [(now - 5.0 - i, f"/artworks/{90 + i}") for i in range(size + 2)]
                    await _one_by_one(detector, store, PageLease(client, [PAGE], [], []), before)
                pairs = [
                    (PageLease(client, bumps, [], [], kind), records)
                    for kind, bumps, records in leases
                ]
                facts = _evaluated(random.Random(evaluated), client, now + 1.0)
                # (an original reads the page leases only: the asset leases are settled after)
                read = [p for p in pairs if facts.route_group == "default" or p[0].kind == PAGE]
                later = [p for p in pairs if p not in read]
                ctx = RequestContext(store)
                if client == "each":
                    for state, records in read:
                        await _one_by_one(detector, store, state, records)
                elif client == "settled" and read:
                    keys, args = detector._settled(taken(read))
                    settled = await store.run_script(SETTLE, keys, args)
                    assert settled == sum(len(records) for _, records in read)
                elif client == "merged":
                    detector.lease_flush(pairs, store, facts, ctx)
                replies[client] = await _evaluate(detector, store, facts, ctx)
                for state, records in later:
                    if client == "each":
                        await _one_by_one(detector, store, state, records)
                    else:
                        settled = detector.lease_settle(state, records, store)
                        assert settled is not None
                        assert await settled == len(records)
            each = await _record(store, "each")
            assert await _record(store, "settled") == each, (trial, works, listings)
            assert await _record(store, "merged") == each, (trial, works, listings)
            assert replies["settled"] == replies["merged"] == replies["each"], trial
            now += 2 * WINDOW + 1.0
    finally:
        await store.aclose()


@pytest.mark.both_loops
async def test_a_run_adds_its_length_to_each_counter_it_bumps(
    redis_url: str, redis_prefix: str
) -> None:
    """A lease's 5 conditional pages in one window, then 3 in the next: 3 arguments a run,
    each counter bumped by the run's length, and `SETTLE` answers the requests (8)."""
    detector = BehaviourDetector(BehaviourSettings(window=WINDOW), leases=True)
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        start = (START // WINDOW) * WINDOW
        records = [(start + i * 0.1, f"/artworks/{i}") for i in range(5)]
        records += [(start + WINDOW + i * 0.1, "/tags/x") for i in range(3)]
        state = PageLease("c", [PAGE, COND], [], [])
        args = script_args([(state, records)], WINDOW, detector.ring_size)
        first = int(start // WINDOW)
        assert args[6:] == [first, "14", 5, first + 1, "14", 3]
        keys, args = detector._settled([(state, records)])
        assert await store.run_script(SETTLE, keys, args) == 8
        found = await _record(store, "c")
        one, two = first % 2, (first + 1) % 2
        assert (found[f"p{one}"], found[f"c{one}"], found[f"w{one}"]) == ("5", "5", str(first))
        assert (found[f"p{two}"], found[f"c{two}"], found[f"w{two}"]) == ("3", "3", str(first + 1))
        entries = [f"{int(t):010d} {i:012d} " for i, (t, _) in enumerate(records[:5])]
        assert found["pages"] == "".join(entries)
    finally:
        await store.aclose()


def _lease(draw: random.Random, count: int) -> tuple[PageLease, list[Record]]:
    """A page lease (works and listings) or an asset lease of `count` requests."""
    kind = draw.choice([PAGE, PAGE, ASSET])
    paths = ["/a.css"] if kind == ASSET else [f"/artworks/{draw.randint(0, 99)}", "/", "/t/x"]
    start, out = START + draw.random() * 100, []
    for i in range(count):
        out.append((start + i * draw.choice([0.0, 0.3, 2.0]), draw.choice(paths)))
    return PageLease("c", [kind], [], [], kind), out


def _leases(
    rng: random.Random, now: float, works: int, listings: int
) -> tuple[list[tuple[int, list[int], list[Record]]], float]:
    """Page leases holding `works` works (distinct ids, in turn) and `listings` listing pages
    (distinct paths), shuffled and split among 1 to 3 of them, and 0 to 2 asset leases; each
    lease's requests mostly within a second of each other (long runs), its window turning
    now and then. Returns the leases (kind, bumps, records) and the time after them."""
    paths = [f"/artworks/{i + 1}" for i in range(works)]
    paths += [f"/tags/t{i}" for i in range(listings)]
    rng.shuffle(paths)
    cuts = sorted(rng.randint(0, len(paths)) for _ in range(rng.randint(0, 2)))
    groups = [paths[a:b] for a, b in zip([0, *cuts], [*cuts, len(paths)], strict=True) if b > a]
    groups += [["/static/app.css"] * rng.randint(1, 40) for _ in range(rng.randint(0, 2))]
    out, latest = [], now
    for group in groups:
        kind = ASSET if group and group[0].startswith("/static") else PAGE
        bumps = [kind, COND] if rng.random() < 0.3 else [kind]
        at, records = now, []
        for path in group:
            at += rng.choice([0.0, 0.001, 0.01, 0.2, WINDOW]) if rng.random() < 0.97 else WINDOW * 2
            records.append((at, path))
        out.append((kind, bumps, records))
        latest = max(latest, at)
    return out, latest
