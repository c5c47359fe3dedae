"""What the identity detector keeps between requests (a verified token per cookie, a plan per
kind of request and identity) stays bounded whatever clients send, and never changes a
decision: an expired or tampered token is never taken from a cache, and a plan made for one
moment is not reused where the identity's age or window differs. Memory store and real Redis,
both loops."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest

from scrapeshield.detector import RequestContext
from scrapeshield.identity import detector as identity_detector
from scrapeshield.identity import token as identity_token
from scrapeshield.identity.detector import IdentityDetector
from scrapeshield.identity.token import KIND as TOKEN_KIND
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Decision
from scrapeshield.store.base import Store
from tests.identity.test_signals import IMAGE, PAGE, names, settings

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]


async def at(
    shield: Shield,
    when: float,
    path: str,
    headers: dict[str, str],
    *,
    ip: str = "203.0.113.7",
    cookie: str | None = None,
) -> tuple[Decision, RequestContext]:
    sent = {**headers, **({"Cookie": cookie} if cookie else {})}
    facts = shield.facts(synthetic_scope(path=path, ip=ip, headers=list(sent.items())))
    ctx = shield.context()
    return await shield.decide(msgspec.structs.replace(facts, time=when), ctx), ctx


def identity_of(shield: Shield) -> IdentityDetector:
    return next(d for d in shield.detectors if isinstance(d, IdentityDetector))


def token(shield: Shield, issued: float, expires: float, ip: str = "203.0.113.7") -> str:
    """A visitor cookie signed with the shield's keys, bound to `ip` and the test's browser."""
    tokens = identity_of(shield).tokens
    facts = shield.facts(synthetic_scope(path="/", ip=ip, headers=list(PAGE.items())))
    payload = {"v": f"visitor-{issued}", "b": tokens.binding(facts), "iat": issued,
               "exp": expires}  # fmt: skip
    return f"__ss_vid={tokens.signer.sign(TOKEN_KIND, payload)}"


async def test_an_expired_token_is_not_taken_from_the_cache(store: Store) -> None:
    shield = Shield(settings(), store=store)
    now = time.time()
    cookie = token(shield, int(now) - 60, int(now) + 100)
    _, ctx = await at(shield, now, "/images/1.png", IMAGE, cookie=cookie)
    assert ctx.notes["visitor"] == f"visitor-{int(now) - 60}"  # valid, and now cached
    decision, ctx = await at(shield, now + 101, "/images/1.png", IMAGE, cookie=cookie)
    assert "visitor" not in ctx.notes
    assert "identity/no-token" in names(decision)


async def test_a_tampered_cookie_is_never_cached_as_valid(store: Store) -> None:
    shield = Shield(settings(), store=store)
    now = time.time()
    cookie = token(shield, int(now) - 60, int(now) + 3600)
    payload, _, mac = cookie.partition("=")[2].rpartition(".")
    tampered = f"__ss_vid={payload}.{mac[:10]}{'A' if mac[10] != 'A' else 'B'}{mac[11:]}"
    forged = f"__ss_vid={payload[:-2]}xx.{mac}"  # another payload under the genuine MAC
    for bad in (tampered, forged, tampered, forged):  # the second time from the cache
        decision, ctx = await at(shield, now, "/images/1.png", IMAGE, cookie=bad)
        assert "visitor" not in ctx.notes
        assert "identity/no-token" in names(decision)
    _, ctx = await at(shield, now, "/images/1.png", IMAGE, cookie=cookie)
    assert "visitor" in ctx.notes  # the genuine one still is


async def test_a_flood_of_cookies_keeps_the_token_caches_bounded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity_token, "_CACHE_SIZE", 32)
    shield = Shield(settings(), store=store)
    tokens = identity_of(shield).tokens
    now = time.time()
    for n in range(100):  # distinct Cookie headers, half with a validly signed token each
        cookie = token(shield, int(now) - n, int(now) + 3600) if n % 2 else f"__ss_vid=junk{n}"
        await at(shield, now, "/artworks/1", PAGE, cookie=f"{cookie}; theme=dark{n}")
    assert 0 < len(tokens._verified) <= 32
    assert 0 < len(tokens._values) <= 32
    assert 0 < len(tokens._bindings) <= 32


async def test_a_flood_of_identities_keeps_the_plans_bounded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity_detector, "_PLAN_CACHE_SIZE", 16)
    shield = Shield(settings(), store=store)
    now = time.time()
    for n in range(60):  # a page and an original from each of 60 addresses
        await at(shield, now, "/artworks/1", PAGE, ip=f"198.51.{n}.9")
        await at(shield, now, f"/images/{n + 1}.png", IMAGE, ip=f"198.51.{n}.9")
    assert 0 < len(identity_of(shield)._plans) <= 16


async def test_a_flood_evicts_the_oldest_plans_only(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its bound the plan cache drops its oldest plans one by one, never every plan at
    once: the clients seen last keep theirs (a site with more clients than the bound remakes
    the oldest's only)."""
    monkeypatch.setattr(identity_detector, "_PLAN_CACHE_SIZE", 16)
    shield = Shield(settings(), store=store)
    now = time.time()
    addresses = [f"198.51.{n}.9" for n in range(40)]
    for ip in addresses:  # two pages each (the first plan reads the previous hour's counts,
        for _ in range(2):  # then makes way for one that knows them: `_learn`)
            await at(shield, now, "/artworks/1", PAGE, ip=ip)
    plans = identity_of(shield)._plans
    assert [key[1] for key in plans] == addresses[-16:]
    await at(shield, now, "/artworks/2", PAGE, ip=addresses[-1])
    assert [key[1] for key in plans] == addresses[-16:]  # a hit: nothing made or dropped


async def test_a_plan_is_reused_only_while_the_token_is_as_young(store: Store) -> None:
    """A token younger than the pool window counts in `identity/rotating-pool`; one original
    later, past that age in the same window and hour, it no longer does."""
    shield = Shield(settings(identity={"rotating_pool": {"identities": 2}}), store=store)
    base = (time.time() // 600) * 600  # a pool window's start (600 s, the default)...
    if base % 3600 == 0:
        base += 600  # ...with the token's issue time in the same clock hour
    for ip in ("203.0.113.8", "203.0.113.9"):  # two new identities of this browser build
        await at(shield, base + 280, "/images/1.png", IMAGE, ip=ip)
    cookie = token(shield, int(base) - 300, int(base) + 86_400)  # young until base + 300
    decision, ctx = await at(shield, base + 290, "/images/2.png", IMAGE, cookie=cookie)
    assert "visitor" in ctx.notes
    assert "identity/rotating-pool" in names(decision)  # the third young identity
    decision, ctx = await at(shield, base + 310, "/images/3.png", IMAGE, cookie=cookie)
    assert "visitor" in ctx.notes
    assert "identity/rotating-pool" not in names(decision)  # no longer young


async def test_a_flood_drops_the_oldest_verified_tokens_only(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past their bound the token's tables drop their oldest entries one by one: the clients
    seen last are not verified again (emptied when full, every client was: a flood of new
    clients made every returning one pay the HMAC and the parse at once)."""
    monkeypatch.setattr(identity_token, "_CACHE_SIZE", 8)
    verified = [0]
    real = identity_token._verified

    def counted(*args: Any) -> Any:
        verified[0] += 1
        return real(*args)

    monkeypatch.setattr(identity_token, "_verified", counted)
    shield = Shield(settings(), store=store)
    now = time.time()
    clients = [(f"198.51.{n}.9", int(now) - n) for n in range(20)]
    cookies = [token(shield, issued, int(now) + 3600, ip) for ip, issued in clients]
    for (ip, _), cookie in zip(clients, cookies, strict=True):
        _, ctx = await at(shield, now, "/artworks/1", PAGE, ip=ip, cookie=cookie)
        assert "visitor" in ctx.notes
    assert verified[0] == 20
    for (ip, _), cookie in list(zip(clients, cookies, strict=True))[-6:]:  # the last six return
        _, ctx = await at(shield, now, "/artworks/2", PAGE, ip=ip, cookie=cookie)
        assert "visitor" in ctx.notes
    assert verified[0] == 20  # none verified again
    tokens = identity_of(shield).tokens
    assert len(tokens._verified) == len(tokens._bindings) == len(tokens._values) == 8
