"""A person's traffic with leases on (issue 19): pages and assets are leased across the
person's other requests, originals are judged in full, and what behaviour counts is what it
counts without leases (memory and Redis, both loops)."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from scrapeshield import Settings, Shield
from scrapeshield.behaviour.evidence import ASSET, COND, IMAGE, ORPHAN, PAGE, judge
from scrapeshield.behaviour.record import new_tally
from scrapeshield.behaviour.script import SETTLE
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import MemoryStore, RedisStore
from scrapeshield.store.keys import subject_key
from tests.browsers import chrome, chrome_asset, chrome_image
from tests.servers import LOADED_STORE_TIMEOUT, LOOPS
from tests.test_store_stale_loop import _run
from tests.windows import wait_for_room

INDEX = "https://localhost/"
ARTWORKS = (7, 3, 12, 5, 20, 9, 15, 1, 18, 11, 4, 16)  # no constant-stride walk


def _visit(token: str) -> list[tuple[str, dict[str, str]]]:
    """Each artwork's page (from the index), its stylesheet, script and original."""
    out = []
    for n in ARTWORKS:
        page = f"{INDEX}artworks/{n}"
        out += [
            (f"/artworks/{n}", {**chrome(Referer=INDEX), "Cookie": token}),
            ("/static/gallery.css", {**chrome_asset(page, "style"), "Cookie": token}),
            ("/static/gallery.js", {**chrome_asset(page, "script"), "Cookie": token}),
            (f"/images/{n}.png", {**chrome_image(page), "Cookie": token}),
        ]
    return out


def _counts(store: Any, client: str, prefix: str, url: str) -> list[int]:
    """Behaviour's pages, originals and assets for the client, both windows together."""
    key = subject_key("bh:", client)
    if isinstance(store, MemoryStore):
        tally = store.record(key, 600.0, new_tally, create=False)
        assert tally is not None
        c = tally[0]
        return [c[f] + c[6 + f] for f in range(3)]
    raw = redis.Redis.from_url(url, decode_responses=True)
    try:
        found = raw.hgetall(prefix + key)
    finally:
        raw.close()
    return [sum(int(found.get(f"{n}{w}", 0)) for w in "01") for n in "pia"]


JUDGED: list[tuple[int, list[int], list[int], int]] = []  # what each full evaluation read
SETTLES: list[int] = []  # behaviour's script calls of leased requests alone (Redis)


def _judge(s: Any, kind: int, now: float, current: Any, previous: Any, walk: int) -> Any:
    """`evidence.judge`, noting the counters its kind reads (an original: pages, originals and
    orphans; a page: pages, originals, assets and conditional requests; an asset: none)."""
    fields = {IMAGE: (PAGE, IMAGE, ORPHAN), PAGE: (PAGE, IMAGE, ASSET, COND)}.get(kind, ())
    JUDGED.append((kind, [current[f] for f in fields], [previous[f] for f in fields], walk))
    return judge(s, kind, now, current, previous, walk)


def _spied(queue_script: Any) -> Any:
    def queued(self: RedisStore, source: str, *args: Any) -> Any:
        if source == SETTLE:
            SETTLES.append(1)
        return queue_script(self, source, *args)

    return queued


async def _browse(
    leased: bool, backend: str, url: str, prefix: str
) -> tuple[list[str], list[list[int]], int, dict[int, Any]]:
    store: Any = (
        MemoryStore()
        if backend == "memory"
        else RedisStore(url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT)
    )
    settings = Settings(lease={"enabled": leased, "seconds": 30.0})
    shield = Shield(settings, store=store)
    identity = next(d for d in shield.detectors if d.name == "identity")
    first = shield.facts(synthetic_scope(path="/", headers=list(chrome().items())))
    token = identity.tokens.issue(first)[1].decode().split(";")[0]  # type: ignore[attr-defined]
    rules, client, seen, judged = [], first.client_key, [], {}
    try:
        for n, (path, headers) in enumerate(_visit(token)):
            facts = shield.facts(synthetic_scope(path=path, headers=list(headers.items())))
            JUDGED.clear()
            rules.append((await shield.decide(facts, shield.context())).rule)
            if JUDGED:  # evaluated in full: what behaviour read
                judged[n] = JUDGED[0]
            if path.startswith("/images/"):  # the pages and originals an original counted on
                seen.append(_counts(store, client, prefix, url)[:2])
        used = shield.leases.used if shield.leases is not None else 0
        await shield.aclose()
        return rules, [*seen, _counts(store, client, prefix, url)], used, judged
    finally:
        if isinstance(store, RedisStore):
            await store.aclose()


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_a_person_is_leased_and_counted_as_without_leases(
    loop: str, backend: str, redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scrapeshield.behaviour.detector.judge", _judge)
    monkeypatch.setattr(RedisStore, "queue_script", _spied(RedisStore.queue_script))
    off = _run(loop, _browse(False, backend, redis_url, redis_prefix + "off:"))
    SETTLES.clear()
    # a sliding window's lease ends with its 10 s bucket (the default group's): the browse, 0.1 s
    # here, starts with 2 s of its bucket left, so no bucket's end cuts its leases short on a
    # loaded machine either (a loaded run crossed one: 24 leased, not 30)
    wait_for_room(2.0, 10.0)
    on = _run(loop, _browse(True, backend, redis_url, redis_prefix + "on:"))
    # on Redis an original takes the leased pages in its own script call: leased requests
    # are sent alone only at a lease's settle (used up, or at shutdown), not at each original
    assert len(SETTLES) < len(ARTWORKS) // 2, SETTLES  # (10 before: nearly one an original)
    assert off[0] == on[0] == ["allow"] * len(ARTWORKS) * 4  # the same decisions
    n = len(ARTWORKS)
    # every request evaluated in full read what it reads without leases: an original every
    # page before it (its leased pages handed over in its own pass over the record), a page
    # every asset too (the asset leases an original left for later)
    assert len(off[3]) == 4 * n
    assert {i: off[3][i] for i in on[3]} == on[3]
    pages = [i for i, (kind, *_) in on[3].items() if kind == PAGE and i > 0]
    assert pages, on[3]  # a page evaluated in full after leased assets (its lease used up)
    assert all(on[3][i][1][2] == 2 * (i // 4) for i in pages)  # (the assets before it)
    # each original's pages and originals count every page before it, leased or not; and
    # after shutdown every page, original and asset is counted
    assert off[1] == on[1]
    assert on[1][0] == [1, 1]
    assert on[1][-1] == [n, n, 2 * n]
    # the 3rd page on is leased (its lease, granted at the 2nd: a client's first evaluation of
    # a key gets none, kept across the stylesheet, script and original), and so is every
    # stylesheet and script after the second (their leases kept across pages); each kind's
    # lease of 8 used up once, its next request evaluated in full (and granted again)
    assert on[2] >= 3 * (n - 3), on[2]
