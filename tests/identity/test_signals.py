"""The identity detector's token, signals and notes through the real pipeline, on the memory
store and a real Redis (both loops), in one round trip."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from scrapeshield.challenge.tokens import Signer
from scrapeshield.detector import RequestContext
from scrapeshield.errors import ConfigurationError
from scrapeshield.identity.token import KIND as TOKEN_KIND
from scrapeshield.identity.token import VisitorTokens
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Action, Decision
from scrapeshield.store.base import Store
from scrapeshield.store.redis import RedisStore
from tests.browsers import chrome
from tests.identity.helpers import KEY, image_headers
from tests.servers import LOADED_STORE_TIMEOUT

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]
PAGE = chrome()
IMAGE = image_headers("https://localhost/artworks/1")


def settings(**extra: Any) -> Settings:
    extra.setdefault("ratelimit", {"enabled": False})
    return Settings(challenge={"secret_keys": [KEY]}, **extra)


async def decide(
    shield: Shield,
    path: str,
    headers: dict[str, str],
    *,
    ip: str = "203.0.113.7",
    cookie: str | None = None,
) -> tuple[Decision, RequestContext]:
    sent = dict(headers)
    if cookie:
        sent["Cookie"] = cookie
    ctx = shield.context()
    facts = shield.facts(synthetic_scope(path=path, ip=ip, headers=list(sent.items())))
    return await shield.decide(facts, ctx), ctx


def cookie_of(ctx: RequestContext) -> str | None:
    for name, value in ctx.app_headers or ():
        if name == b"set-cookie" and value.startswith(b"__ss_vid="):
            return value.decode().split(";")[0]
    return None


def names(decision: Decision) -> set[str]:
    return {s.name for s in decision.reasons}


async def test_a_page_issues_a_token_that_names_the_visitor(store: Store) -> None:
    shield = Shield(settings(), store=store)
    _, ctx = await decide(shield, "/artworks/1", PAGE)
    field = next(v.decode() for n, v in ctx.app_headers or () if n == b"set-cookie")
    for attribute in ("Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=2592000", "Secure"):
        assert attribute in field  # synthetic requests are https
    cookie = cookie_of(ctx)
    assert cookie is not None
    decision, ctx = await decide(shield, "/images/1.png", IMAGE, cookie=cookie)
    assert decision.action is Action.ALLOW
    assert "identity/no-token" not in names(decision)
    assert isinstance(ctx.notes["visitor"], str)
    assert ctx.notes["budget_use"] == pytest.approx(1 / 40)
    # the page with the token issues nothing more
    _, ctx = await decide(shield, "/artworks/2", PAGE, cookie=cookie)
    assert cookie_of(ctx) is None
    # another network, or another user agent: not this visitor's token
    decision, ctx = await decide(shield, "/images/1.png", IMAGE, cookie=cookie, ip="198.51.100.7")
    assert "identity/no-token" in names(decision)
    assert "visitor" not in ctx.notes


async def test_no_token_on_an_original_alone_is_served(store: Store) -> None:
    shield = Shield(settings(), store=store)
    # a deep link opened in a new tab: a document navigation to an image, and no token yet
    decision, _ = await decide(shield, "/images/7.png", chrome())
    assert names(decision) == {"identity/no-token", "headers/document-on-image"}
    assert decision.action is Action.ALLOW


async def test_a_pass_is_not_a_visitor_token_nor_the_reverse(store: Store) -> None:
    shield = Shield(settings(), store=store)
    signer = Signer([KEY.encode()])
    assert shield.challenge is not None
    facts = shield.facts(synthetic_scope(path="/", headers=list(PAGE.items())))
    fake = signer.sign("pass", {"v": "x", "b": shield.challenge.binding(facts), "iat": 1,
                                "exp": 4e9})  # fmt: skip
    decision, _ = await decide(shield, "/images/1.png", IMAGE, cookie=f"__ss_vid={fake}")
    assert "identity/no-token" in names(decision)
    _, ctx = await decide(shield, "/artworks/1", PAGE)
    token = (cookie_of(ctx) or "").removeprefix("__ss_vid=")
    decision, _ = await decide(shield, "/artworks/1", PAGE, cookie=f"scrapeshield_pass={token}")
    assert "challenge/passed" not in names(decision)


async def test_amnesia_and_issuance_limits(store: Store) -> None:
    # a day's window: the counts must not restart at a window's edge (600 s) during the test
    shield = Shield(settings(identity={"window": 86_400}), store=store)
    for _ in range(4):  # four tokens handed out, none returned
        _, ctx = await decide(shield, "/artworks/1", PAGE)
        assert cookie_of(ctx) is not None
    decision, _ = await decide(shield, "/images/1.png", IMAGE)
    assert {"identity/no-token", "identity/amnesia"} <= names(decision)
    assert decision.action is Action.ALLOW  # 35: a person refusing cookies looks the same
    for _ in range(6):  # the address' allowance is 10 new tokens per window
        _, ctx = await decide(shield, "/artworks/1", PAGE)
    decision, ctx = await decide(shield, "/artworks/1", PAGE)
    assert cookie_of(ctx) is None
    assert details(decision, "identity/issuance-limited") == [
        "new tokens per 86400s exceeded by address"  # (the address only: 11 of 10)
    ]
    # another address of the same /24 still gets one; 30 per network
    _, ctx = await decide(shield, "/artworks/1", PAGE, ip="203.0.113.8")
    assert cookie_of(ctx) is not None


def details(decision: Decision, name: str) -> list[str]:
    return [s.detail for s in decision.reasons if s.name == name]


async def test_issuance_limits_name_every_count_over(store: Store) -> None:
    """The issuance signal names each count over its limit, in the same order, and only
    those (one signal per set of counts: made once, `detector.py`)."""
    shield = Shield(
        settings(identity={"window": 86_400, "issuance_per_address": 2,
                           "issuance_per_network": 3, "issuance_per_fingerprint": 4}),
        store=store,
    )  # fmt: skip
    found = []
    for ip in ("203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2"):
        decision, ctx = await decide(shield, "/artworks/1", PAGE, ip=ip)
        found.append((details(decision, "identity/issuance-limited"), cookie_of(ctx) is None))
    assert found == [
        ([], False),
        ([], False),
        (["new tokens per 86400s exceeded by address"], True),  # 3 of 2
        (["new tokens per 86400s exceeded by network"], True),  # the network's 4th of 3
        (["new tokens per 86400s exceeded by network, fingerprint"], True),  # 5 of 4 too
    ]


async def test_budgets_challenge_on_pages_and_refuse_originals(store: Store) -> None:
    shield = Shield(settings(), store=store)
    _, ctx = await decide(shield, "/artworks/1", PAGE)  # IMAGE's Referer: a page it viewed
    cookie = cookie_of(ctx)
    for n in range(1, 41):
        decision, ctx = await decide(shield, f"/images/{n}.png", IMAGE, cookie=cookie)
        assert decision.action is Action.ALLOW, decision
    assert ctx.notes["budget_use"] == pytest.approx(1.0, abs=0.03)
    decision, _ = await decide(shield, "/artworks/41", PAGE, cookie=cookie)
    assert decision.action is Action.CHALLENGE
    assert decision.rule == "budget"
    assert "budget/visitor/hour" in names(decision)
    for n in range(41, 49):  # a pass answers the budget's challenge up to 48 (1.2 x 40)
        decision, _ = await decide(shield, f"/images/{n}.png", IMAGE, cookie=cookie)
        assert decision.action is not Action.DECOY, decision
    decision, _ = await decide(shield, "/images/49.png", IMAGE, cookie=cookie)
    assert decision.action is Action.DECOY  # an original past the refuse mark: a decoy
    assert decision.rule == "budget-refuse"
    assert "budget/visitor/hour/refuse" in names(decision)


async def test_one_browser_build_from_many_new_identities_is_a_pool(store: Store) -> None:
    # a day's window: the count must not restart at a window's edge during the test
    shield = Shield(settings(identity={"rotating_pool": {"window": 86_400}}), store=store)
    seen = []
    for n in range(20):
        decision, _ = await decide(shield, "/images/1.png", IMAGE, ip=f"10.{n}.0.1")
        seen.append("identity/rotating-pool" in names(decision))
    assert seen == [False] * 16 + [True] * 4
    assert decision.action is Action.CHALLENGE
    # a client with another header set is not part of it
    other = {**IMAGE, "Accept-Language": "de-DE,de;q=0.9"}
    decision, _ = await decide(shield, "/images/1.png", other, ip="10.99.0.1")
    assert "identity/rotating-pool" not in names(decision)


async def test_a_busy_site_raises_the_pool_past_a_thousand(store: Store) -> None:
    # docs/production.md: a site with thousands of new visitors per browser build sets the pool
    # above them (the bound was 1,000); Redis counts with HyperLogLog (~1% error): margins
    pool = {"window": 86_400, "identities": 1_100}
    shield = Shield(settings(identity={"rotating_pool": pool}), store=store)
    for n in range(1_300):
        decision, _ = await decide(shield, "/images/1.png", IMAGE, ip=f"10.{n // 250}.{n % 250}.1")
        if n < 1_000:
            assert "identity/rotating-pool" not in names(decision), n
    assert "identity/rotating-pool" in names(decision)
    with pytest.raises(ConfigurationError, match="identities"):
        settings(identity={"rotating_pool": {"identities": 1_000_001}})


async def test_other_routes_cost_nothing(store: Store) -> None:
    shield = Shield(settings(), store=store)
    decision, ctx = await decide(
        shield, "/static/gallery.css", {**IMAGE, "Sec-Fetch-Dest": "style"}
    )
    assert "budget_use" not in ctx.notes
    assert not names(decision)


async def test_one_round_trip_per_request_on_redis(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        # every request evaluated in full (a lease's reservation is a round trip of its own,
        # after a granting request's decision: tests/lease/test_lease_redis.py counts them)
        full = Settings(challenge={"secret_keys": [KEY]}, lease={"enabled": False})
        shield = Shield(full, store=store)
        _, ctx = await decide(shield, "/", PAGE)
        cookie = cookie_of(ctx)
        for path, headers, with_cookie in [
            ("/artworks/1", PAGE, cookie),
            ("/images/1.png", IMAGE, cookie),
            ("/images/2.png", IMAGE, None),
            ("/artworks/2", PAGE, None),
        ]:
            before = store.round_trips
            await decide(shield, path, headers, cookie=with_cookie)
            assert store.round_trips - before == 1, path
    finally:
        await store.aclose()


async def test_explain_writes_nothing(store: Store) -> None:
    shield = Shield(settings(), store=store)
    for _ in range(3):
        ctx = shield.context(dry_run=True)
        facts = shield.facts(synthetic_scope(path="/images/1.png", headers=list(IMAGE.items())))
        await shield.decide(facts, ctx)
        assert ctx.notes["budget_use"] == pytest.approx(1 / 40)
    assert await store.keys("id:") == []


async def test_rate_limits_can_key_on_the_visitor(store: Store) -> None:
    # hour windows: a minute window can roll over between the requests on a loaded machine
    groups = {"default": {"limits": "100/hour", "visitor_limits": "2/hour"}}
    shield = Shield(settings(ratelimit={"groups": groups}), store=store)
    _, ctx = await decide(shield, "/", PAGE)
    cookie = cookie_of(ctx)
    actions = [(await decide(shield, "/terms", PAGE, cookie=cookie))[0].rule for _ in range(3)]
    assert actions == ["allow", "allow", "rate-limit"]
    # another visitor at the same address has its own count
    _, ctx = await decide(shield, "/", {**PAGE, "Accept-Language": "fr"})
    other = cookie_of(ctx)
    decision, _ = await decide(shield, "/terms", {**PAGE, "Accept-Language": "fr"}, cookie=other)
    assert decision.rule == "allow"


TOKENLESS = random.Random(14).sample(range(1, 301), 30)  # no constant-stride walk in it


async def test_a_token_taken_after_tokenless_originals_starts_no_fresh_budget(
    store: Store,
) -> None:
    """A client takes originals without a token, then opens a page for one: the token's budget
    this hour holds what its address took without one (the union, each original once)."""
    shield = Shield(settings(), store=store)
    for n in TOKENLESS:
        await decide(shield, f"/images/{n}.png", IMAGE)
    _, ctx = await decide(shield, "/artworks/1", PAGE)
    cookie = cookie_of(ctx)
    assert cookie is not None
    fresh = [n for n in range(1, 301) if n not in TOKENLESS]
    decision, ctx = await decide(shield, f"/images/{TOKENLESS[0]}.png", IMAGE, cookie=cookie)
    assert ctx.notes["budget_use"] == pytest.approx(30 / 40, abs=0.03)  # counted once
    for n in fresh[:18]:  # 48 in all: up to the refuse mark
        decision, ctx = await decide(shield, f"/images/{n}.png", IMAGE, cookie=cookie)
        assert decision.action is not Action.DECOY, decision
    assert "budget/visitor/hour" in names(decision)
    decision, _ = await decide(shield, f"/images/{fresh[18]}.png", IMAGE, cookie=cookie)
    assert decision.action is Action.DECOY
    assert "budget/visitor/hour/refuse" in names(decision)


async def test_a_token_from_an_earlier_hour_keeps_its_own_budget(store: Store) -> None:
    """A returning visitor's token is not charged for what others at its address took
    without a token this hour (a deep link, a cookie-less client behind the same NAT)."""
    shield = Shield(settings(), store=store)
    for n in random.Random(15).sample(range(1, 299), 45):  # past a visitor's hour (40)
        await decide(shield, f"/images/{n}.png", IMAGE)
    facts = shield.facts(synthetic_scope(path="/images/1.png", ip="203.0.113.7",
                                         headers=list(IMAGE.items())))  # fmt: skip
    tokens = VisitorTokens(settings().identity, [KEY.encode()])
    issued = int(time.time()) - 7200
    payload = {"v": "returning", "b": tokens.binding(facts), "iat": issued,
               "exp": issued + 86_400}  # fmt: skip
    cookie = f"__ss_vid={tokens.signer.sign(TOKEN_KIND, payload)}"
    decision, ctx = await decide(shield, "/images/299.png", IMAGE, cookie=cookie)
    assert ctx.notes["visitor"] == "returning"
    assert "budget/network/hour" in names(decision)  # the network's hour is spent...
    assert not any(name.startswith("budget/visitor") for name in names(decision))  # ...not its


async def test_every_identity_key_on_redis_expires(own_redis: Any, redis_prefix: str) -> None:
    """Budgets, pools, newcomers, issuance and the returned mark all get a TTL when created
    (ops.py sets it once, in the script that creates the key), and none outlives its period:
    hour keys two hours, the rest their window or a day."""
    import redis.asyncio as aioredis

    store = RedisStore(own_redis.url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(settings(), store=store)
    client = aioredis.Redis.from_url(own_redis.url, decode_responses=True)
    try:
        _, ctx = await decide(shield, "/artworks/1", PAGE)
        cookie = cookie_of(ctx)
        await decide(shield, "/artworks/2", PAGE, cookie=cookie)
        for n in range(1, 6):  # originals with and without the token, several members each
            await decide(shield, f"/images/{n}.png", IMAGE, cookie=cookie)
            await decide(shield, f"/images/{n}.png", IMAGE, ip="203.0.113.8")
        keys = [k async for k in client.scan_iter(match="*") if ":id:" in k]
        kinds = {k.removeprefix(redis_prefix).split("{")[0] for k in keys}
        assert {"id:b:address:", "id:b:network:", "id:b:visitor:v:", "id:b:visitor:a:"} <= kinds
        assert {"id:p:page:", "id:p:image:", "id:i:a:", "id:r:", "id:b:newcomers:"} <= kinds
        for key in keys:
            ttl = await client.pttl(key)
            assert 0 < ttl <= 86_400_000, (key, ttl)
            if ":hour" in key:
                assert ttl <= 7_200_000, (key, ttl)
    finally:
        await client.aclose()
        await store.aclose()
