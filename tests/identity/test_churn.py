"""Cookie clearing after a refusal buys nothing (docs/identity.md#cookie-clearing): a token
refused at its hourly mark is charged, in full, to every identity its address and browser build
takes afterwards this hour (new tokens and the tokenless address), on the memory store and a
real Redis (both loops). People at the same address with another browser build, or with a token
from before this hour, keep their own budgets (the CGNAT case)."""

from __future__ import annotations

import random
import time

import pytest

from scrapeshield.identity.token import KIND as TOKEN_KIND
from scrapeshield.identity.token import VisitorTokens
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Action
from scrapeshield.store.base import Store
from tests.identity.helpers import KEY, image_headers
from tests.identity.test_signals import IMAGE, PAGE, cookie_of, decide, names, settings

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]
TAKEN = random.Random(16).sample(range(1, 200), 49)  # no constant-stride walk in it
FRENCH_PAGE = {**PAGE, "Accept-Language": "fr-FR,fr;q=0.9"}
FRENCH_IMAGE = {**image_headers("https://localhost/artworks/1"), "Accept-Language": "fr-FR,fr"}


async def _refused_token(shield: Shield) -> None:
    """One visitor takes its hour and one more: refused (decoy) at the 49th original."""
    _, ctx = await decide(shield, "/", PAGE)
    cookie = cookie_of(ctx)
    assert cookie is not None
    for n in TAKEN[:-1]:
        decision, _ = await decide(shield, f"/images/{n}.png", IMAGE, cookie=cookie)
        assert decision.action is not Action.DECOY, decision
    decision, _ = await decide(shield, f"/images/{TAKEN[-1]}.png", IMAGE, cookie=cookie)
    assert decision.action is Action.DECOY


async def test_a_fresh_token_after_a_refusal_starts_refused(store: Store) -> None:
    shield = Shield(settings(), store=store)
    await _refused_token(shield)
    _, ctx = await decide(shield, "/artworks/250", PAGE)  # cookies cleared: a new token
    fresh = cookie_of(ctx)
    assert fresh is not None
    decision, ctx = await decide(shield, "/images/250.png", IMAGE, cookie=fresh)
    assert decision.action is Action.DECOY, decision
    assert "budget/visitor/hour/refuse" in names(decision)
    assert ctx.notes["budget_use"] > 1.2


async def test_the_tokenless_address_is_charged_too(store: Store) -> None:
    shield = Shield(settings(), store=store)
    await _refused_token(shield)
    decision, _ = await decide(shield, "/images/251.png", IMAGE)  # no token at all
    assert decision.action is Action.DECOY, decision
    assert "budget/visitor/hour/refuse" in names(decision)


async def test_another_browser_build_at_the_address_keeps_its_budget(store: Store) -> None:
    shield = Shield(settings(), store=store)
    await _refused_token(shield)
    _, ctx = await decide(shield, "/artworks/252", FRENCH_PAGE)
    other = cookie_of(ctx)
    assert other is not None
    decision, _ = await decide(shield, "/images/252.png", FRENCH_IMAGE, cookie=other)
    assert decision.action is not Action.DECOY, decision  # the network's hour: a challenge
    assert not any(name.startswith("budget/visitor") for name in names(decision)), decision


async def test_a_token_from_an_earlier_hour_is_not_charged(store: Store) -> None:
    shield = Shield(settings(), store=store)
    await _refused_token(shield)
    facts = shield.facts(synthetic_scope(path="/images/253.png", ip="203.0.113.7",
                                         headers=list(IMAGE.items())))  # fmt: skip
    tokens = VisitorTokens(settings().identity, [KEY.encode()])
    issued = int(time.time()) - 7200
    payload = {"v": "kept", "b": tokens.binding(facts), "iat": issued, "exp": issued + 86_400}
    cookie = f"__ss_vid={tokens.signer.sign(TOKEN_KIND, payload)}"
    decision, _ = await decide(shield, "/images/253.png", IMAGE, cookie=cookie)
    assert not any(name.startswith("budget/visitor") for name in names(decision)), decision
