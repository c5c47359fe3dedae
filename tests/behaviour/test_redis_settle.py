"""A client's leased requests are handed to behaviour's record on Redis in ONE script call
(`script.SETTLE`: a lease's at its settle, all its leases' at a flush), and the record it
leaves is the one a call per request (`script.SCRIPT`, as each would have been counted without
a lease) leaves: the same hash, field for field, whatever the record held before, across window
rollovers (the next window, a window skipped), rings cut at their size, listing pages and works
mixed, conditional requests (real Redis, both loops)."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from scrapeshield.behaviour.detector import BehaviourDetector, _Request
from scrapeshield.behaviour.evidence import ASSET, COND, IMAGE, PAGE
from scrapeshield.behaviour.leasing import PageLease, taken
from scrapeshield.behaviour.script import SCRIPT, SETTLE
from scrapeshield.behaviour.settings import BehaviourSettings
from scrapeshield.behaviour.works import item_id, path_hash
from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.lease.protocol import Record
from scrapeshield.store.keys import subject_key
from scrapeshield.store.redis import RedisStore
from scrapeshield.store.soon import Soon
from tests.servers import LOADED_STORE_TIMEOUT

pytestmark = pytest.mark.both_loops
START = 1_800_000_000.0
WINDOW = 10.0


async def _one_by_one(
    detector: BehaviourDetector, store: RedisStore, state: PageLease, records: list[Record]
) -> None:
    """Each record counted by its own SCRIPT call, as before `SETTLE` (and as without a lease)."""
    for now, path in records:
        ident = item_id(path) if state.kind == PAGE else None
        request = _Request(state.client, now, state.kind, state.bumps, ident, False)
        if ident is None and state.kind == PAGE:
            request.listing = path_hash(path)
        keys, args = detector._script(request, False)
        await store.run_script(SCRIPT, keys[:1], args)


def _records(rng: random.Random, start: float, count: int, kind: int) -> list[Record]:
    """`count` requests from `start`, mostly a second or less apart, sometimes across a window
    or two; pages are works (ids) and listings."""
    out, now = [], start
    for _ in range(count):
        now += rng.choice([0.0, 0.2, 0.7, 1.0, 3.0, WINDOW, 2 * WINDOW + 1])
        if kind != PAGE:
            path = rng.choice(["/static/gallery.css", "/static/app.js"])
        else:
            path = rng.choice([f"/artworks/{rng.randint(0, 60)}", "/", "/tags/cats", "/tags/x"])
        out.append((now, path))
    return out


async def _record(store: RedisStore, client: str) -> dict[str, str]:
    found = await store.client.hgetall(store.prefix + subject_key("bh:", client))
    return {_text(k): _text(v) for k, v in found.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _settle(
    detector: BehaviourDetector, store: RedisStore, state: PageLease, records: list[Record]
) -> int:
    """One lease's requests handed over in one call (as a settle or a flush does)."""
    settled = detector.lease_settle(state, records, store)
    assert settled is not None
    return int(await settled)


def _evaluated(rng: random.Random, client: str, now: float) -> Facts:
    """A full evaluation after the leases: a work's page, a listing, or an original (its own
    page checked, or the page its Referer names: a work's or a listing)."""
    path, group, headers = rng.choice([f"/artworks/{rng.randint(0, 60)}", "/tags/x"]), "default", {}
    if rng.random() < 0.6:
        ident = rng.randint(0, 60)
        path, group, headers = f"/images/{ident}.png", "images", {"sec-fetch-dest": "image"}
        shown = rng.choice(["", "/", "/tags/cats", f"/artworks/{rng.randint(0, 60)}"])
        if shown:
            headers["referer"] = f"http://h{shown}"
        else:  # opened directly: its own page checked
            headers = {}
    facts = Facts(
        "GET", path, "", "http", "1.1", "h", headers, "ua", False, None, None, client, group, "i",
        False,
    )  # fmt: skip
    return msgspec.structs.replace(facts, time=now)


async def _evaluate(
    detector: BehaviourDetector, store: RedisStore, facts: Facts, ctx: RequestContext
) -> list[Any]:
    """The evaluated request's own script call, and its reply."""
    sent = detector.detect_now(facts, ctx)
    assert isinstance(sent, Soon)
    await sent
    return list(sent.reply)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_leased_requests_leave_the_record_one_call_per_request_leaves(
    redis_url: str, redis_prefix: str, seed: int
) -> None:
    """A client's leases (a page's, its assets', several at a flush) in one call: alone
    (`SETTLE`, a settle's), or counted first by the next full evaluation's own script call
    (`lease_flush`: an original takes the page leases only, their assets settled after it)."""
    rng = random.Random(seed)
    detector = BehaviourDetector(BehaviourSettings(window=WINDOW), leases=True)
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        now = START + rng.random() * WINDOW
        for flush in range(16):
            before = _records(rng, now, rng.randint(0, 3), rng.choice([PAGE, ASSET]))
            now = before[-1][0] if before else now
            leases: list[tuple[int, list[int], list[Record]]] = []
            for _ in range(rng.randint(1, 3)):
                kind = rng.choice([PAGE, PAGE, ASSET])
                bumps = [kind, COND] if rng.random() < 0.2 else [kind]
                leases.append((kind, bumps, _records(rng, now, rng.randint(1, 30), kind)))
            now = max(records[-1][0] for _, _, records in leases)
            evaluated = rng.randrange(1 << 30)  # the same request for each client
            replies = {}
            for client in ("each", "settled", "merged"):
                # the record as other requests left it, then the leases' requests
                await _one_by_one(detector, store, PageLease(client, [IMAGE], [], []), before)
                states = [PageLease(client, bumps, [], [], kind) for kind, bumps, _ in leases]
                pairs = [(st, records) for st, (_, _, records) in zip(states, leases, strict=True)]
                facts = _evaluated(random.Random(evaluated), client, now)
                read = [p for p in pairs if facts.route_group == "default" or p[0].kind == PAGE]
                ctx = RequestContext(store)
                if client == "each":
                    for state, records in read:
                        await _one_by_one(detector, store, state, records)
                        state.done = len(records)
                elif client == "settled" and read:
                    assert await _settle_all(detector, store, read) == sum(len(r) for _, r in read)
                elif client == "merged":
                    detector.lease_flush(pairs, store, facts, ctx)
                replies[client] = await _evaluate(detector, store, facts, ctx)
                assert [s.done for s, _ in read] == [len(r) for _, r in read]
                later = [(s, r) for s, r in pairs if (s, r) not in read]
                assert all(state.done == 0 for state, _ in later)  # (an original's: assets wait)
                for state, records in later:  # settled after it
                    assert await _settle(detector, store, state, records) == len(records)
            each, settled = await _record(store, "each"), await _record(store, "settled")
            assert settled == each, (flush, leases)
            assert await _record(store, "merged") == each, (flush, leases)
            assert replies["settled"] == replies["merged"] == replies["each"], flush
        assert any(k in each for k in ("pages", "listed"))
    finally:
        await store.aclose()


async def _settle_all(
    detector: BehaviourDetector, store: RedisStore, pairs: list[tuple[PageLease, list[Record]]]
) -> int:
    """Several leases of a client in one `SETTLE` call."""
    keys, args = detector._settled(taken(pairs))
    return int(await store.run_script(SETTLE, keys, args))


async def test_a_settle_starts_a_window_and_renews_the_record_s_life(
    redis_url: str, redis_prefix: str
) -> None:
    """A window's first request counts from zero and renews the hash's TTL; the other window
    is kept (it is the previous one); an asset lease pushes to no ring."""
    detector = BehaviourDetector(BehaviourSettings(window=WINDOW), leases=True)
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        pages = PageLease("c", [PAGE], [], [])
        assert await _settle(detector, store, pages, [(START, "/artworks/3")]) == 1
        key = store.prefix + subject_key("bh:", "c")
        await store.client.pexpire(key, 1000)
        assets = PageLease("c", [ASSET, COND], [], [], ASSET)
        records = [(START + 1.0, "/a.css"), (START + WINDOW, "/a.css"), (START + WINDOW, "/b.js")]
        assert await _settle(detector, store, assets, records) == 3
        found = await _record(store, "c")
        first, second = int(START // WINDOW), int(START // WINDOW) + 1
        one, two = first % 2, second % 2
        assert {f: found[f] for f in (f"w{one}", f"p{one}", f"a{one}", f"c{one}")} == {
            f"w{one}": str(first),
            f"p{one}": "1",
            f"a{one}": "1",
            f"c{one}": "1",
        }
        assert {f: found[f] for f in (f"w{two}", f"p{two}", f"a{two}", f"c{two}")} == {
            f"w{two}": str(second),
            f"p{two}": "0",
            f"a{two}": "2",
            f"c{two}": "2",
        }
        assert found["pages"] == f"{int(START):010d} {3:012d} "
        assert await store.client.pttl(key) > 1000
    finally:
        await store.aclose()
