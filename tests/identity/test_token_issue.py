"""`VisitorTokens.issue(facts, issued=...)`: a token for a given issue time (a benchmark's or a
test's returning visitor), signed and bound as the one issued now, and read back as that old."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scrapeshield.challenge.tokens import Signer
from scrapeshield.identity import token as identity_token
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.store.base import Store
from tests.identity.test_caches import at, identity_of
from tests.identity.test_signals import PAGE, settings

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]

TWO_DAYS = 2 * 86_400


async def test_a_token_issued_days_ago_is_a_returning_visitor(store: Store) -> None:
    shield = Shield(settings(), store=store)
    tokens = identity_of(shield).tokens
    now = time.time()
    facts = shield.facts(synthetic_scope(path="/", ip="203.0.113.7", headers=list(PAGE.items())))
    old = tokens.issue(facts, issued=now - TWO_DAYS)[1].decode().split(";")[0]
    fresh = tokens.issue(facts)[1].decode().split(";")[0]
    for cookie, issued in ((old, int(now - TWO_DAYS)), (fresh, int(now))):
        _, ctx = await at(shield, now, "/artworks/1", PAGE, cookie=cookie)
        assert "visitor" in ctx.notes  # valid: its signature and binding hold
        headers = [*PAGE.items(), ("Cookie", cookie)]
        visitor = tokens.validate(shield.facts(synthetic_scope(ip="203.0.113.7", headers=headers)))
        assert visitor is not None
        assert abs(visitor.issued - issued) <= 1
    # bound as any token: another network's request does not present it as a visitor
    _, ctx = await at(shield, now, "/artworks/1", PAGE, ip="198.51.100.7", cookie=old)
    assert "visitor" not in ctx.notes


async def test_a_token_this_process_issued_is_not_verified_again_on_its_return(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`issue` keeps what it signed as verified: the token's first return costs no HMAC and no
    parse, and reads as the same visitor a verification makes of it (and a tampered copy of it
    is still verified, and refused)."""
    shield = Shield(settings(), store=store)
    tokens = identity_of(shield).tokens
    checked: list[str] = []  # the tokens whose MAC was checked
    verify = Signer.verify

    def counted(signer: Signer, kind: str, token: str, **options: Any) -> Any:
        checked.append(token)
        return verify(signer, kind, token, **options)

    monkeypatch.setattr(Signer, "verify", counted)
    now = time.time()
    facts = shield.facts(synthetic_scope(path="/", ip="203.0.113.7", headers=list(PAGE.items())))
    cookie = tokens.issue(facts, issued=now - 60)[1].decode().split(";")[0]
    value = cookie.split("=", 1)[1]
    headers = [*PAGE.items(), ("Cookie", cookie)]
    visitor = tokens.validate(shield.facts(synthetic_scope(ip="203.0.113.7", headers=headers)))
    assert visitor is not None
    assert checked == []
    tampered = f"__ss_vid={value[:-2]}{'A' if value[-2] != 'A' else 'B'}{value[-1]}"
    headers = [*PAGE.items(), ("Cookie", tampered)]
    assert tokens.validate(shield.facts(synthetic_scope(ip="203.0.113.7", headers=headers))) is None
    assert checked == [tampered.split("=", 1)[1]]
    found = identity_token._verified(tokens.signer, value)  # (what verifying it says)
    assert found is not None
    assert tokens._verified[value] == found
    assert (visitor.id, visitor.issued) == found[:2]
