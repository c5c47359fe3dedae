"""Leases for clients whose signals cannot change (issue 19, docs/leases.md): an allow whose
every signal comes from a `Steady` detector (a browser without Accept-Language) is leased, and
each leased request gets the decision a full evaluation gives (action, rule, score, reasons
with their details); a signal from a detector that counts (an unverified bot's claim) gets no
lease; and a counting detector that nears its limit ends the lease at the same request as
without leases. Every trace is run with leases off and on: memory and Redis, both loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.signals import Decision
from scrapeshield.store import MemoryStore, RedisStore
from scrapeshield.synthetic import synthetic_scope
from tests.browsers import chrome, chrome_asset, chrome_image
from tests.servers import LOADED_STORE_TIMEOUT, LOOPS
from tests.test_store_stale_loop import _run
from tests.windows import wait_for_room

pytestmark = pytest.mark.clock_hour

INDEX = "https://localhost/"
ARTWORKS = (7, 3, 12, 5, 20, 9, 15, 1, 18, 11, 4, 16)  # no constant-stride walk
QUIRK = "headers/no-accept-language"  # a privacy browser's: 20, under challenge_score (40)
Request = tuple[str, dict[str, str]]
Trace = Callable[[str], list[Request]]  # the visitor token's cookie -> the requests


def _quirky(headers: dict[str, str], cookie: str) -> dict[str, str]:
    """A browser that never sends Accept-Language, with its visitor token."""
    return {**{k: v for k, v in headers.items() if k != "Accept-Language"}, "Cookie": cookie}


def _person(cookie: str) -> list[Request]:
    """Each artwork's page (from the index), its stylesheet, script and original."""
    out = []
    for n in ARTWORKS:
        page = f"{INDEX}artworks/{n}"
        out += [
            (f"/artworks/{n}", _quirky(chrome(Referer=INDEX), cookie)),
            ("/static/gallery.css", _quirky(chrome_asset(page, "style"), cookie)),
            ("/static/gallery.js", _quirky(chrome_asset(page, "script"), cookie)),
            (f"/images/{n}.png", _quirky(chrome_image(page), cookie)),
        ]
    return out


def _pages_only(cookie: str) -> list[Request]:
    """Pages and nothing else (no CSS, JS or image): behaviour's no-assets, in time."""
    ids = [n * 7 % 60 for n in range(1, 46)]  # no constant stride, no repeat
    return [(f"/artworks/{n}", _quirky(chrome(Referer=INDEX), cookie)) for n in ids]


def _scraper(cookie: str) -> list[Request]:
    """A scraper that drops Accept-Language on purpose to hold a steady signal: it walks the
    artworks in id order, with the stylesheet before each page (so no-assets stays quiet and
    page leases live), taking every original."""
    out = []
    for n in range(1, 41):
        page = f"{INDEX}artworks/{n}"
        out += [
            ("/static/gallery.css", _quirky(chrome_asset(page, "style"), cookie)),
            (f"/artworks/{n}", _quirky(chrome(Referer=INDEX), cookie)),
            (f"/images/{n}.png", _quirky(chrome_image(page), cookie)),
        ]
    return out


def _seen(decision: Decision) -> tuple[Any, ...]:
    """What a request was told: every field of the decision but the request's own id, and
    whether a retry was given (its value is the time left, which differs between runs)."""
    reasons = tuple((s.name, s.weight, s.detail, s.retry_after is None) for s in decision.reasons)
    return (
        decision.action.value,
        decision.rule,
        decision.score,
        reasons,
        decision.retry_after is None,
        decision.ban_for,
        decision.status,
    )


def _token(shield: Shield) -> str:
    """A visitor token's cookie (a page that issues one is not leased)."""
    identity = next(d for d in shield.detectors if d.name == "identity")
    first = shield.facts(synthetic_scope(path="/", headers=list(chrome().items())))
    return identity.tokens.issue(first)[1].decode().split(";")[0]  # type: ignore[attr-defined,no-any-return]


async def _decided(
    trace: Trace, leased: bool, backend: str, url: str, prefix: str, **settings: Any
) -> tuple[list[tuple[Any, ...]], int]:
    """Each request's decision, and how many were leased."""
    store: Any = (
        MemoryStore()
        if backend == "memory"
        else RedisStore(url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT)
    )
    shield = Shield(Settings(lease={"enabled": leased, "seconds": 30.0}, **settings), store=store)
    seen = []
    try:
        for path, headers in trace(_token(shield)):
            facts = shield.facts(synthetic_scope(path=path, headers=list(headers.items())))
            seen.append(_seen(await shield.decide(facts, shield.context())))
        used = shield.leases.used if shield.leases is not None else 0
        await shield.aclose()
        return seen, used
    finally:
        if isinstance(store, RedisStore):
            await store.aclose()


def _both(loop: str, trace: Trace, backend: str, url: str, prefix: str, **settings: Any) -> Any:
    off = _run(loop, _decided(trace, False, backend, url, prefix + "off:", **settings))
    wait_for_room(2.0, 10.0)  # no 10 s bucket's end cuts the leases short (test_lease_person)
    on = _run(loop, _decided(trace, True, backend, url, prefix + "on:", **settings))
    assert off[1] == 0
    return off[0], on[0], on[1]


def _first_refused(seen: list[tuple[Any, ...]]) -> int:
    return next(i for i, decision in enumerate(seen) if decision[0] != "allow")


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_a_steady_signal_is_leased_and_decided_as_without_leases(
    loop: str, backend: str, redis_url: str, redis_prefix: str
) -> None:
    off, on, used = _both(loop, _person, backend, redis_url, redis_prefix)
    assert on == off  # every request: the same action, rule, score and reasons
    assert all(d[:3] == ("allow", "allow", 20.0) for d in on), on
    assert all(d[3] == ((QUIRK, 20.0, "Chrome always sends it", True),) for d in on)
    n = len(ARTWORKS)
    assert used >= 3 * (n - 3), used  # as a person with Accept-Language (test_lease_person)


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_a_signal_from_a_counting_detector_gets_no_lease(
    loop: str, backend: str, redis_url: str, redis_prefix: str
) -> None:
    """An unverified bot's claim (weight 0: allowed) is counted per network: no lease."""
    bot = {"User-Agent": "Twitterbot/1.0", "Accept": "*/*"}

    def twitterbot(cookie: str) -> list[Request]:
        return [(f"/artworks/{n}", {**bot, "Cookie": cookie}) for n in ARTWORKS]

    off, on, used = _both(loop, twitterbot, backend, redis_url, redis_prefix)
    assert on == off
    assert all(d[0] == "allow" and "bot/unverified/Twitterbot" in str(d[3]) for d in on), on
    assert used == 0


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize(
    ("nearing", "settings", "refused"),
    [
        # behaviour: no-assets (25) at the 30th page, with the quirk 45: a challenge
        ("behaviour", {}, "challenge"),
        # the rate limiter: the 61st page of 60 an hour is throttled (no-assets out of reach)
        (
            "ratelimit",
            {
                "behaviour": {"no_assets_pages": 1000},
                "ratelimit": {"groups": {"default": {"limits": "60/hour"}}},
            },
            "throttle",
        ),
    ],
)
def test_a_counting_detector_nearing_its_limit_ends_the_lease_at_the_same_request(
    loop: str,
    backend: str,
    nearing: str,
    settings: dict[str, Any],
    refused: str,
    redis_url: str,
    redis_prefix: str,
) -> None:
    def trace(cookie: str) -> list[Request]:
        pages = _pages_only(cookie)
        return pages + pages[:20] if nearing == "ratelimit" else pages

    off, on, used = _both(loop, trace, backend, redis_url, redis_prefix, **settings)
    assert on == off
    at = _first_refused(on)
    assert on[at][0] == refused, on[at]
    assert at == (29 if nearing == "behaviour" else 60), at  # the 30th page; the 61st
    assert all(QUIRK in str(d[3]) for d in on)
    assert used >= 8, used  # leased before it: the lease ended in time, not never granted


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_a_scraper_gains_nothing_by_holding_a_steady_signal(
    loop: str, backend: str, redis_url: str, redis_prefix: str
) -> None:
    """Dropping Accept-Language gets a scraper leases, and with them exactly the decisions it
    gets without: its walk is challenged at the same request, no original more."""
    off, on, used = _both(loop, _scraper, backend, redis_url, redis_prefix)
    assert on == off
    at = _first_refused(on)
    assert on[at][0] != "allow"
    originals = sum(1 for d in on[:at] if d[0] == "allow") // 3
    assert 10 <= originals < 40, (originals, on[at])
    assert used >= 10, used  # it was leased: the gain it sought, and still nothing more


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_explain_of_a_leased_client_is_a_full_evaluation(
    loop: str, backend: str, redis_url: str, redis_prefix: str
) -> None:
    """`explain` (a dry run) is never leased: it ends the client's leases and runs every
    detector, which gives the decision the lease gave."""

    async def explained() -> tuple[tuple[Any, ...], tuple[Any, ...], int, int]:
        store: Any = (
            MemoryStore()
            if backend == "memory"
            else RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
        )
        shield = Shield(Settings(lease={"enabled": True, "seconds": 30.0}), store=store)
        leases = shield.leases
        assert leases is not None
        headers = _quirky(chrome(Referer=INDEX), _token(shield))
        scope = list(headers.items())
        try:
            for _ in range(4):  # in full, granted, leased twice
                facts = shield.facts(synthetic_scope(path="/artworks/1", headers=scope))
                leased = await shield.decide(facts, shield.context())
            used, held = leases.used, len(leases)
            facts = shield.facts(synthetic_scope(path="/artworks/1", headers=scope))
            dry = await shield.decide(facts, shield.context(dry_run=True))
            assert (leases.used, len(leases)) == (used, 0)  # not leased; its leases ended
            await shield.aclose()
            return _seen(leased), _seen(dry), used, held
        finally:
            if isinstance(store, RedisStore):
                await store.aclose()

    leased, dry, used, held = _run(loop, explained())
    assert (used, held) == (2, 1)
    assert dry == leased
    assert leased[:3] == ("allow", "allow", 20.0)
