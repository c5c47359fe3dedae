"""Behaviour and trap detectors through the real pipeline, on the memory store and real Redis."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from scrapeshield.behaviour.detector import BehaviourDetector
from scrapeshield.behaviour.evidence import walk_length
from scrapeshield.behaviour.record import new_tally, ring_of
from scrapeshield.behaviour.script import ENTRY_WIDTH
from scrapeshield.behaviour.trap import trap_key
from scrapeshield.detector import RequestContext
from scrapeshield.policy import Policy
from scrapeshield.settings import PolicySettings, Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import CHALLENGE_PASSED, Action, Decision, Signal
from scrapeshield.store import MemoryStore
from scrapeshield.store.base import Store
from scrapeshield.store.keys import subject_key
from scrapeshield.store.redis import RedisStore
from tests.browsers import chrome
from tests.servers import LOADED_STORE_TIMEOUT

TRAP = "/artworks/archive-all"
IMG = chrome(
    **{"Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "same-origin"},
    Accept="image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
)
CSS = chrome(
    **{"Sec-Fetch-Dest": "style", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "same-origin"},
    Accept="text/css,*/*;q=0.1",
)
JS = chrome(
    **{"Sec-Fetch-Dest": "script", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "same-origin"},
    Accept="*/*",
)
PAGE = chrome(**{"Sec-Fetch-Site": "same-origin"})


def settings(**extra: Any) -> Settings:
    """Rate limiting and identity off: these sequences run at machine pace without a cookie jar,
    and behaviour is the subject (tests/identity has the person with cookies)."""
    extra.setdefault("identity", {"enabled": False})
    return Settings(directives={"trap_paths": [TRAP]}, ratelimit={"enabled": False}, **extra)


async def decide(
    shield: Shield, path: str, headers: dict[str, str], ip: str = "203.0.113.7"
) -> Decision:
    scope = synthetic_scope(path=path, ip=ip, headers=list(headers.items()))
    return await shield.decide(shield.facts(scope))


def _leased(shield: Shield) -> int:
    return shield.leases.used if shield.leases is not None else 0


def names(decision: Decision) -> set[str]:
    return {s.name for s in decision.reasons}


async def test_a_person_browsing_100_pages_is_never_challenged(store: Store) -> None:
    shield = Shield(settings(), store=store)
    for n in range(1, 101):
        for path, headers in [
            (f"/artworks/{n}", PAGE),
            ("/static/gallery.css", CSS),
            ("/static/gallery.js", JS),
            (f"/images/{n}.png", IMG),
        ]:
            decision = await decide(shield, path, headers)
            assert decision.action is Action.ALLOW, (path, decision)
            assert not {s for s in names(decision) if s.startswith("behaviour/no")}


async def test_a_person_with_cached_assets_and_many_tabs_is_not_challenged(store: Store) -> None:
    """Assets cached (never re-fetched), 100 pages opened out of order, each page's image."""
    shield = Shield(settings(), store=store)
    for n in [*range(100, 0, -2), *range(1, 100, 2)]:
        assert (await decide(shield, f"/artworks/{n}", PAGE)).action is Action.ALLOW
        assert (await decide(shield, f"/images/{n}.png", IMG)).action is Action.ALLOW


# Scraper tests use a day-long window so a run never straddles a window boundary (UTC midnight).
DAY = {"window": 86_400.0}


async def test_an_html_scraper_walking_ids_is_challenged(store: Store) -> None:
    shield = Shield(settings(behaviour=DAY), store=store)
    actions = [(await decide(shield, f"/artworks/{n}", PAGE)).action for n in range(1, 41)]
    assert Action.ALLOW in actions[:10]
    last = await decide(shield, "/artworks/41", PAGE)
    assert last.action is Action.CHALLENGE
    assert {"behaviour/no-assets", "behaviour/sequential-ids"} <= names(last)
    other = await decide(shield, "/artworks/1", PAGE, ip="198.51.100.9")
    assert other.action is Action.ALLOW  # counters are per client


async def test_an_image_scraper_is_challenged_then_blocked(store: Store) -> None:
    """Originals only, embedded-looking (Sec-Fetch-Dest: image): past 60 per page view a
    challenge; 20 more (harvest_margin) and the harvesting rule blocks, pass or no pass."""
    shield = Shield(settings(behaviour=DAY), store=store)
    seen = [await decide(shield, f"/images/{n}.png", IMG) for n in range(1, 101)]
    assert all(d.action is Action.ALLOW for d in seen[:60])
    assert seen[60].action is Action.CHALLENGE
    assert {"behaviour/images-per-page", "behaviour/sequential-ids"} <= names(seen[60])
    assert seen[-1].rule == "behaviour/harvesting"
    assert seen[-1].action is Action.BLOCK
    passed = Signal(CHALLENGE_PASSED, -40.0)
    verdict = Policy(PolicySettings()).evaluate([*seen[-1].reasons, passed])
    assert (verdict.action, verdict.rule) == (Action.BLOCK, "behaviour/harvesting")


async def test_padded_descending_and_strided_ids_are_one_walk(store: Store) -> None:
    shield = Shield(settings(behaviour=DAY), store=store)
    for walk, ip in [
        ([f"/artworks/{n:04d}" for n in range(1, 16)], "203.0.113.1"),
        ([f"/artworks/{n}" for n in range(300, 285, -1)], "203.0.113.2"),
        ([f"/artworks/{n}" for n in range(7, 7 + 15 * 7, 7)], "203.0.113.3"),
    ]:
        decisions = [await decide(shield, path, PAGE, ip=ip) for path in walk]
        assert "behaviour/sequential-ids" not in names(decisions[-2]), walk
        assert "behaviour/sequential-ids" in names(decisions[-1]), walk


def test_walk_length() -> None:
    assert walk_length(5, []) == 1
    assert walk_length(15, list(range(1, 15))) == 15
    assert walk_length(1, list(range(15, 1, -1))) == 15
    assert walk_length(30, [3, 6, 9, 12, 15, 18, 21, 24, 27]) == 10
    # two walks interleaved, and noise: each stride is taken from the last three ids
    assert (
        walk_length(10, [1, 101, 2, 102, 3, 103, 4, 104, 5, 105, 6, 106, 7, 107, 8, 108, 9, 109])
        == 10
    )
    assert walk_length(50, [3, 17, 8, 42, 29]) == 3  # 8, 29, 50: chance, far from 15
    assert walk_length(5, [5, 5, 5]) == 1  # a reload is no walk


async def test_one_deep_linked_image_is_allowed(store: Store) -> None:
    shield = Shield(settings(), store=store)
    decision = await decide(shield, "/images/7.png", IMG)
    assert decision.action is Action.ALLOW
    assert not names(decision)


async def test_dry_run_writes_no_counters(store: Store) -> None:
    shield = Shield(settings(behaviour={"images_per_page": 2}), store=store)
    for n in range(1, 10):
        scope = synthetic_scope(path=f"/images/{n}.png", headers=list(IMG.items()))
        await shield.decide(shield.facts(scope), shield.context(dry_run=True))
    assert await store.keys("bh:") == []
    assert await store.keys("trap:") == []


async def test_the_trap_blocks_and_is_remembered(store: Store) -> None:
    shield = Shield(settings(), store=store)
    assert (await decide(shield, "/artworks/1", PAGE)).action is Action.ALLOW
    hit = await decide(shield, TRAP, PAGE)
    assert (hit.action, hit.rule) == (Action.BLOCK, "trap")
    assert "trap/hit" in names(hit)
    later = await decide(shield, "/artworks/2", PAGE)
    assert (later.action, later.rule) == (Action.BLOCK, "trap")
    assert "trap/flagged" in names(later)
    ttl = await store.ttl(trap_key(shield.facts(synthetic_scope()).client_key))
    assert ttl is not None
    assert 0 < ttl <= settings().behaviour.trap_flag_ttl
    neighbour = await decide(shield, "/artworks/2", PAGE, ip="198.51.100.9")
    assert neighbour.action is Action.ALLOW


async def test_trap_prefix_and_disabled(store: Store) -> None:
    shield = Shield(settings(behaviour={"trap": False}), store=store)
    assert (await decide(shield, TRAP + "/page2", PAGE)).action is Action.ALLOW
    shield = Shield(settings(), store=store)
    assert (await decide(shield, TRAP + "/page2", PAGE)).rule == "trap"


def test_a_challenge_pass_never_lifts_a_trap() -> None:
    policy = Policy(PolicySettings())
    passed = Signal(CHALLENGE_PASSED, -1000.0)
    for trap in ("trap/hit", "trap/flagged"):
        verdict = policy.evaluate([Signal(trap, 100.0), passed])
        assert (verdict.action, verdict.rule) == (Action.BLOCK, "trap")


def test_a_verified_bot_is_allowed_before_the_trap_and_a_spoof_is_blocked() -> None:
    policy = Policy(PolicySettings())
    verified = policy.evaluate([Signal("bot/verified/googlebot", -100.0), Signal("trap/hit", 1)])
    assert verified.action is Action.ALLOW
    spoof = policy.evaluate([Signal("bot/spoofed/googlebot", 100.0), Signal("trap/hit", 1)])
    assert spoof.action is Action.BLOCK


def test_only_harvesting_blocks_and_walks_never_challenge_alone() -> None:
    """What a person may trip (a walk by "next", pages from cache) never challenges alone and
    never blocks together; the image signals challenge; harvesting blocks by rule."""
    policy = Policy(PolicySettings())
    weak = [Signal("behaviour/no-assets", 0.0), Signal("behaviour/sequential-ids", 0.0)]
    for one in weak:
        assert policy.evaluate([one]).action is Action.ALLOW
    assert policy.evaluate(weak).action is Action.CHALLENGE
    for name in ("behaviour/images-per-page", "behaviour/originals-without-page"):
        everything = [weak[1], Signal(name, 0.0)]  # no-assets is a page's, these an image's
        assert policy.evaluate([Signal(name, 0.0)]).action is Action.CHALLENGE
        assert policy.evaluate(everything).action is Action.CHALLENGE
    harvesting = policy.evaluate([Signal("behaviour/harvesting", 0.0)])
    assert (harvesting.action, harvesting.rule) == (Action.BLOCK, "behaviour/harvesting")


async def test_one_request_is_one_gather_of_store_commands(store: Store) -> None:
    """On a store that is neither memory nor Redis: plain protocol calls, bounded in number."""
    calls: list[str] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            attr = getattr(store, name)

            def record(*args: Any, **kwargs: Any) -> Any:
                calls.append(name)
                return attr(*args, **kwargs)

            return record

    detector = BehaviourDetector(Settings().behaviour)
    shield = Shield(settings(), store=store)
    facts = shield.facts(synthetic_scope(path="/artworks/20", headers=list(PAGE.items())))
    ctx = RequestContext(store=Recording())
    await detector.detect(facts, ctx)
    # 4 other counters, the previous window's 5, the recent page ids; one bump; the ids kept
    assert sorted(calls) == ["get"] * 10 + ["incr", "set"]


async def test_a_request_costs_one_redis_round_trip(redis_url: str, redis_prefix: str) -> None:
    """Ban check, trap flag and every behaviour counter (one script) leave in one pipeline.
    With leases on (docs/leases.md), a request a lease covers costs none."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        shield = Shield(settings(), store=store)
        await decide(shield, "/artworks/1", PAGE)
        for path, headers in [("/artworks/2", PAGE), ("/images/2.png", IMG), ("/x.css", CSS)]:
            before, leased = store.round_trips, _leased(shield)
            decision = await decide(shield, path, headers)
            assert decision.action is Action.ALLOW
            expected = 0 if _leased(shield) > leased else 1
            assert store.round_trips - before == expected, path
        assert await store.keys("bh:")  # the counters were written
    finally:
        await store.aclose()


async def test_dry_run_reads_the_counters_and_counts_the_request_itself(store: Store) -> None:
    """`explain` sees what the next real request would: the stored counts plus this one."""
    shield = Shield(settings(behaviour={**DAY, "no_assets_pages": 5}), store=store)
    for n in range(1, 5):
        assert "behaviour/no-assets" not in names(await decide(shield, f"/artworks/{n}", PAGE))
    for n in range(20, 23):  # 4 pages stored; this one would be the 5th, whatever it asks
        scope = synthetic_scope(path=f"/artworks/{n}", headers=list(PAGE.items()))
        dry = await shield.decide(shield.facts(scope), shield.context(dry_run=True))
        assert "behaviour/no-assets" in names(dry)
    real = await decide(shield, "/artworks/5", PAGE)  # the dry runs wrote nothing
    assert "behaviour/no-assets" in names(real)
    css = synthetic_scope(path="/static/gallery.css", headers=list(CSS.items()))
    dry = await shield.decide(shield.facts(css), shield.context(dry_run=True))
    assert "behaviour/no-assets" not in names(dry)  # 5 pages, and this asset counted locally
    assert "behaviour/no-assets" in names(await decide(shield, "/artworks/6", PAGE))


class _OtherStore:
    """A store that is neither the MemoryStore nor Redis (its calls are awaited, one by one)."""

    name = "other"

    def __init__(self) -> None:
        self._inner = MemoryStore()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._inner, attribute)


async def test_the_trap_works_on_any_store() -> None:
    store: Any = _OtherStore()
    shield = Shield(settings(), store=store)
    hit = await decide(shield, TRAP, PAGE)
    assert (hit.action, hit.rule) == (Action.BLOCK, "trap")
    later = await decide(shield, "/artworks/2", PAGE)
    assert "trap/flagged" in names(later)
    assert await store.get(trap_key(shield.facts(synthetic_scope()).client_key)) == TRAP


async def test_a_clients_footprint_is_bounded_whatever_it_fetches() -> None:
    store = MemoryStore()
    shield = Shield(settings(), store=store)
    for n in range(1, 501):
        await decide(shield, f"/artworks/{n * 7}", PAGE)
        await decide(shield, f"/images/{n * 7}.png", IMG)
    detector = next(d for d in shield.detectors if isinstance(d, BehaviourDetector))
    [key] = await store.keys("bh:")  # one record per client, as one hash on Redis
    tally = store.record(key, 1, new_tally, create=False)
    assert tally is not None
    for kind in ("pages", "images"):
        ring = ring_of(tally, kind)
        assert ring is not None
        assert len(ring[0]) == len(ring[1]) == detector.ring_size  # (ids, times)


@pytest.mark.both_loops
async def test_on_redis_a_ring_is_one_bounded_string_and_finds_a_viewed_page(
    redis_url: str, redis_prefix: str
) -> None:
    """A client's page ids are one string of fixed-width entries (script.RING_ENTRY), the last
    `ring_size` of them, oldest first; an original whose page is among them is not an orphan,
    one whose page was pushed out, or never viewed, is (`o` counted)."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        shield = Shield(settings(), store=store)
        detector = next(d for d in shield.detectors if isinstance(d, BehaviourDetector))
        size = detector.ring_size
        for n in range(1, size + 9):
            await decide(shield, f"/artworks/{n * 1000}", PAGE)
        client = shield.facts(synthetic_scope(ip="203.0.113.7")).client_key
        key = redis_prefix + subject_key("bh:", client)  # the client's one hash
        ring = await store.execute("HGET", key, "pages")
        assert ring is not None
        assert len(ring) == size * ENTRY_WIDTH
        ids = [int(i) for i in ring.split()[1::2]]
        assert ids == [n * 1000 for n in range(9, size + 9)]
        bare = {k: v for k, v in IMG.items() if k != "Sec-Fetch-Dest"}  # not embedded: checked
        for n in (20, 8, 999):  # viewed; pushed out of the ring; never viewed
            await decide(shield, f"/images/{n * 1000}.png", bare)
        assert await store.keys("bh:") == [subject_key("bh:", client)]
        orphans = await store.execute("HMGET", key, "o0", "o1")
        assert sum(int(o or 0) for o in orphans) == 2
        assert 0 < await store.execute("PTTL", key) <= 1_200_000  # 2 x 300 s + 600 s
    finally:
        await store.aclose()


@pytest.mark.both_loops
async def test_windows_turn_the_previous_one_weighs_and_an_older_one_is_gone(
    store: Store,
) -> None:
    """Memory and Redis (where two windows' counters share one hash by the window's parity):
    30 asset-less pages in one window raise no-assets; early in the next window they still
    weigh (a sliding window); two windows on, the same parity's old counters are not read."""
    shield = Shield(settings(behaviour={"window": 100.0}), store=store)
    start = 1_800_000_100.0  # the start of a window (far in the future)

    async def page(n: int, when: float) -> Decision:
        scope = synthetic_scope(
            path=f"/artworks/{n * 7}", ip="203.0.113.7", headers=list(PAGE.items())
        )
        facts = msgspec.structs.replace(shield.facts(scope), time=when)
        return await shield.decide(facts)

    for n in range(30):
        decision = await page(n, start + 10 + n)
    assert "behaviour/no-assets" in names(decision)
    decision = await page(100, start + 101)  # the next window, 1 s in: 30 x 0.99 + 1
    assert "behaviour/no-assets" in names(decision)
    decision = await page(101, start + 201)  # two windows on: the previous holds one page
    assert "behaviour/no-assets" not in names(decision)
