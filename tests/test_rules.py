"""Operator rules and the fixed phase order: safelist, blocklist, ban, then signals and policy."""

from __future__ import annotations

import pytest

from scrapeshield import Action, Settings, Shield, Signal, blocklist, safelist
from scrapeshield.bans import ban_key
from scrapeshield.defences import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import MemoryStore


def rules_only(**settings: object) -> Settings:
    """Settings without fingerprinting: these tests are about the rule phases alone."""
    return Settings(fingerprint={"enabled": False}, **settings)


async def decide(shield: Shield, **request: object) -> tuple[Action, str]:
    decision = await shield.decide(shield.facts(synthetic_scope(**request)))  # type: ignore[arg-type]
    return decision.action, decision.rule


async def test_safelist_always_wins_and_first_match_names_the_decision() -> None:
    shield = Shield(
        rules_only(
            safelist=[safelist("office", ips=["203.0.113.0/24"])],
            blocklist=[
                blocklist("everything-under-api", paths=["/api/*"]),
                blocklist("never-reached", paths=["/api/v1/*"]),
            ],
        )
    )
    assert await decide(shield, ip="203.0.113.5", path="/api/v1/x", user_agent="a") == (
        Action.ALLOW,
        "safelist/office",
    )
    assert await decide(shield, ip="192.0.2.1", path="/api/v1/x", user_agent="a") == (
        Action.BLOCK,
        "blocklist/everything-under-api",
    )
    await shield.ban("203.0.113.5", 60)
    assert (await decide(shield, ip="203.0.113.5", user_agent="a"))[0] is Action.ALLOW


async def test_every_condition_must_hold() -> None:
    rule = blocklist(
        "api-post-with-key",
        paths=["/api/*"],
        methods=["post"],
        headers={"X-Api-Key": "leaked-*"},
        user_agents=["curl/*", "wget/*"],
    )
    shield = Shield(rules_only(blocklist=[rule]))
    headers = [("x-api-key", "LEAKED-1")]
    full = {"path": "/api/x", "method": "POST", "headers": headers, "user_agent": "Wget/1"}
    assert (await decide(shield, **full))[0] is Action.BLOCK
    changes: list[dict[str, object]] = [
        {"path": "/x"},
        {"method": "GET"},
        {"headers": []},
        {"user_agent": "Mozilla"},
    ]
    for change in changes:
        assert (await decide(shield, **{**full, **change}))[0] is Action.ALLOW, change


async def test_callable_rules_and_a_raising_callable(caplog: pytest.LogCaptureFixture) -> None:
    def broken(facts: Facts) -> bool:
        raise RuntimeError("bug in the operator's rule")

    shield = Shield(
        rules_only(
            blocklist=[
                blocklist("broken", when=broken),
                blocklist("spam", when=lambda facts: "spam" in facts.header("referer")),
            ]
        )
    )
    spam = [("referer", "http://spam.example/")]
    assert await decide(shield, headers=spam, user_agent="a") == (Action.BLOCK, "blocklist/spam")
    assert (await decide(shield, user_agent="a"))[0] is Action.ALLOW
    assert "rule 'broken': its callable raised" in caplog.text


class Flagging:
    name = "flag"
    uses_store = False

    async def detect(self, facts: Facts, ctx: RequestContext) -> list[Signal]:
        return [Signal("test/flagged", 10.0)] if facts.path == "/flag" else []


async def test_policy_ban_stores_a_ban_that_later_requests_hit() -> None:
    policy = {"rules": [{"name": "flagged", "signals": ["test/*"], "action": "ban", "ban_for": 60}]}
    store = MemoryStore()
    shield = Shield(rules_only(policy=policy), store=store)
    shield.detectors.append(Flagging())  # the MemoryStore runs `detectors` in turn
    assert await decide(shield, ip="192.0.2.9", path="/flag", user_agent="a") == (
        Action.BAN,
        "flagged",
    )
    assert await decide(shield, ip="192.0.2.9", path="/", user_agent="a") == (
        Action.BLOCK,
        "ban/active",
    )
    ttl = await store.ttl(ban_key("192.0.2.9"))
    assert ttl is not None
    assert 55 < ttl <= 60
    assert await shield.unban("192.0.2.9") is True
    assert (await decide(shield, ip="192.0.2.9", path="/", user_agent="a"))[0] is Action.ALLOW


async def test_monitor_mode_never_stores_a_ban() -> None:
    policy = {"rules": [{"name": "flagged", "signals": ["test/*"], "action": "ban"}]}
    store = MemoryStore()
    shield = Shield(rules_only(policy=policy, mode="monitor"), store=store)
    shield.detectors.append(Flagging())
    decision = await shield.decide(shield.facts(synthetic_scope(path="/flag", user_agent="a")))
    assert decision.action is Action.BAN
    assert decision.enforced is False
    assert await store.keys("ban:") == []
