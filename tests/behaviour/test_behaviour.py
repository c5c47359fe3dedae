"""Behaviour and trap detectors through the real pipeline, on the memory store and real Redis."""

from __future__ import annotations

from typing import Any

from scrapeshield.behaviour.detector import BehaviourDetector
from scrapeshield.detector import RequestContext
from scrapeshield.policy import Policy
from scrapeshield.settings import PolicySettings, Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import CHALLENGE_PASSED, Action, Decision, Signal
from scrapeshield.store import MemoryStore
from scrapeshield.store.base import Store
from scrapeshield.store.redis import RedisStore
from tests.browsers import chrome

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


async def test_an_image_scraper_is_challenged_never_blocked(store: Store) -> None:
    shield = Shield(settings(behaviour=DAY), store=store)
    seen = [(await decide(shield, f"/images/{n}.png", IMG)).action for n in range(1, 81)]
    assert seen[0] is Action.ALLOW
    assert seen[-1] is Action.CHALLENGE
    assert Action.BLOCK not in seen
    last = await decide(shield, "/images/81.png", IMG)
    assert {"behaviour/images-without-pages", "behaviour/sequential-ids"} <= names(last)


async def test_one_deep_linked_image_is_allowed(store: Store) -> None:
    shield = Shield(settings(), store=store)
    decision = await decide(shield, "/images/7.png", IMG)
    assert decision.action is Action.ALLOW
    assert not names(decision)


async def test_dry_run_writes_no_counters(store: Store) -> None:
    shield = Shield(settings(behaviour={"images_without_pages": 5}), store=store)
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
    ttl = await store.ttl("trap:" + shield.facts(synthetic_scope()).client_key)
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


def test_behaviour_weights_alone_never_block() -> None:
    policy = Policy(PolicySettings())
    all_behaviour = [
        Signal(n, 0.0)
        for n in (
            "behaviour/images-without-pages",
            "behaviour/no-assets",
            "behaviour/sequential-ids",
        )
    ]
    verdict = policy.evaluate(all_behaviour)
    assert verdict.action is Action.CHALLENGE
    for one in all_behaviour:
        assert policy.evaluate([one]).action is Action.ALLOW


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
    # 3 other counters, 6 sampled preceding ids; one counter bumped; this id marked
    assert sorted(calls) == ["get"] * 9 + ["incr", "set"]


async def test_a_request_costs_one_redis_round_trip(redis_url: str, redis_prefix: str) -> None:
    """Ban check, trap flag and every behaviour counter (one script) leave in one pipeline."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=2.0)
    try:
        shield = Shield(settings(), store=store)
        await decide(shield, "/artworks/1", PAGE)
        for path, headers in [("/artworks/2", PAGE), ("/images/2.png", IMG), ("/x.css", CSS)]:
            before = store.round_trips
            decision = await decide(shield, path, headers)
            assert decision.action is Action.ALLOW
            assert store.round_trips - before == 1, path
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
    assert await store.get("trap:" + shield.facts(synthetic_scope()).client_key) == TRAP
