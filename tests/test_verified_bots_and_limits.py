"""Where fingerprinting meets rate limiting: verified bots are limited only by their own group
and never banned; a bot that merely claims to be one is blocked (through the real pipeline)."""

from __future__ import annotations

from typing import Any

from scrapeshield import Action, Settings, Shield
from scrapeshield.bans import ban_key
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import Store

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLE_IP = "66.249.66.1"  # inside the packaged googlebot ranges


async def crawl(shield: Shield, ip: str, count: int) -> list[Any]:
    decisions = []
    for n in range(count):
        scope = synthetic_scope(path=f"/artworks/{n}", ip=ip, user_agent=GOOGLEBOT)
        decisions.append(await shield.decide(shield.facts(scope)))
    return decisions


async def test_a_verified_bot_without_a_group_is_never_limited(store: Store) -> None:
    settings = Settings(ratelimit={"groups": {"default": {"limits": "5/minute"}}})
    shield = Shield(settings, store=store)
    decisions = await crawl(shield, GOOGLE_IP, 30)
    assert {(d.action, d.rule) for d in decisions} == {(Action.ALLOW, "verified-bot")}


async def test_a_verified_bot_is_limited_by_its_own_group_and_never_banned(store: Store) -> None:
    settings = Settings(
        ratelimit={
            "groups": {
                "default": {"limits": "1000/minute"},
                "crawlers": {"limits": "5/day"},
            },
            "bot_groups": {"*": "crawlers"},
            "escalation": {"throttles": 2, "window": 60},
        }
    )
    shield = Shield(settings, store=store)
    decisions = await crawl(shield, GOOGLE_IP, 20)
    actions = [d.action for d in decisions]
    assert actions[:5] == [Action.ALLOW] * 5
    assert set(actions[5:]) == {Action.THROTTLE}  # throttled by its own group, not banned
    assert all(d.rule != "ban/active" for d in decisions)
    assert await store.keys("ban:") == []


async def test_a_claimed_but_unverified_bot_is_blocked(store: Store) -> None:
    shield = Shield(Settings(), store=store)
    decisions = await crawl(shield, "198.51.100.9", 3)
    assert {(d.action, d.rule) for d in decisions} == {(Action.BLOCK, "spoofed-crawler")}


async def test_control_the_same_limits_ban_an_ordinary_client(store: Store) -> None:
    """The escalation settings above do ban a client that is not a verified bot."""
    settings = Settings(
        fingerprint={"enabled": False},
        ratelimit={
            "groups": {"default": {"limits": "5/day"}},
            "escalation": {"throttles": 2, "window": 60},
        },
    )
    shield = Shield(settings, store=store)
    decisions = await crawl(shield, "198.51.100.10", 12)
    assert any(d.rule in ("escalation/ban", "ban/active") for d in decisions)
    assert await store.keys("ban:") == [ban_key("198.51.100.10")]
