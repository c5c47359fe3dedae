"""New identities of one network and browser build share one hourly count of originals
(docs/identity.md#newcomers): a program that rotates source addresses and solves challenges is
refused past `budgets.newcomers` (96) in all; returning visitors (tokens from an earlier hour)
and other browser builds on the network are not counted with it. Memory store and real Redis,
both loops."""

from __future__ import annotations

import time

import pytest

from scrapeshield.identity.token import KIND as TOKEN_KIND
from scrapeshield.identity.token import VisitorTokens
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Action
from scrapeshield.store.base import Store
from tests.identity.helpers import KEY
from tests.identity.test_churn import FRENCH_IMAGE, FRENCH_PAGE
from tests.identity.test_signals import IMAGE, PAGE, cookie_of, decide, names, settings

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]
ADDRESSES = [f"203.0.113.{10 + i}" for i in range(5)]
REFUSED = "budget/newcomers/hour/refuse"


async def _rotate(shield: Shield, originals: int, refuse_from: int = 96) -> None:
    """Five addresses of one /24, a new token each, `originals` different ones round robin."""
    cookies = []
    for ip in ADDRESSES:
        _, ctx = await decide(shield, "/", PAGE, ip=ip)
        cookies.append(cookie_of(ctx))
    for n in range(originals):
        ip, cookie = ADDRESSES[n % 5], cookies[n % 5]
        decision, _ = await decide(shield, f"/images/{n + 1}.png", IMAGE, ip=ip, cookie=cookie)
        assert (REFUSED in names(decision)) is (n >= refuse_from), (n, decision)


async def test_new_identities_of_one_network_share_one_count(store: Store) -> None:
    shield = Shield(settings(), store=store)
    await _rotate(shield, 96)
    _, ctx = await decide(shield, "/", PAGE, ip="203.0.113.20")  # a sixth new identity
    decision, _ = await decide(shield, "/images/200.png", IMAGE, ip="203.0.113.20",
                               cookie=cookie_of(ctx))  # fmt: skip
    assert decision.action is Action.DECOY, decision
    assert REFUSED in names(decision)
    decision, _ = await decide(shield, "/images/201.png", IMAGE, ip="203.0.113.21")  # no token
    assert REFUSED in names(decision)


async def test_returning_visitors_and_other_builds_are_not_counted(store: Store) -> None:
    shield = Shield(settings(), store=store)
    await _rotate(shield, 97)
    facts = shield.facts(synthetic_scope(path="/images/250.png", ip="203.0.113.30",
                                         headers=list(IMAGE.items())))  # fmt: skip
    tokens = VisitorTokens(settings().identity, [KEY.encode()])
    issued = int(time.time()) - 7200
    payload = {"v": "kept", "b": tokens.binding(facts), "iat": issued, "exp": issued + 86_400}
    cookie = f"__ss_vid={tokens.signer.sign(TOKEN_KIND, payload)}"
    decision, _ = await decide(shield, "/images/250.png", IMAGE, ip="203.0.113.30", cookie=cookie)
    assert decision.action is not Action.DECOY, decision
    _, ctx = await decide(shield, "/", FRENCH_PAGE, ip="203.0.113.31")
    decision, _ = await decide(shield, "/images/251.png", FRENCH_IMAGE, ip="203.0.113.31",
                               cookie=cookie_of(ctx))  # fmt: skip
    assert decision.action is not Action.DECOY, decision


async def test_zero_turns_it_off(store: Store) -> None:
    shield = Shield(settings(identity={"budgets": {"newcomers": 0}}), store=store)
    await _rotate(shield, 97, refuse_from=97)
    assert await store.keys("id:b:newcomers") == []
