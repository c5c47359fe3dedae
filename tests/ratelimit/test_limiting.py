"""The detector through the shield on memory and real Redis: keys, actions, escalation, headers."""

from __future__ import annotations

import asyncio
import time

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.bans import BanList
from scrapeshield.signals import Action
from scrapeshield.store import Store
from tests.ratelimit.helpers import group, header, request, shield_for
from tests.windows import room

pytestmark = pytest.mark.clock_hour


async def test_ipv6_addresses_in_one_64_share_a_counter(store: Store) -> None:
    shield = shield_for(store, groups=group("2/minute"))
    assert (await request(shield, ip="2001:db8:1:2::1"))[0].action is Action.ALLOW
    assert (await request(shield, ip="2001:db8:1:2::2"))[0].action is Action.ALLOW
    assert (await request(shield, ip="2001:db8:1:2:abcd::3"))[0].action is Action.THROTTLE
    assert (await request(shield, ip="2001:db8:1:3::1"))[0].action is Action.ALLOW


async def test_network_key_counts_a_rotating_subnet(store: Store) -> None:
    shield = shield_for(store, groups=group("2/minute", network_limits="3/minute"))
    for n in range(3):
        assert (await request(shield, ip=f"192.0.2.{n + 1}"))[0].action is Action.ALLOW
    decision, _ = await request(shield, ip="192.0.2.200")
    assert decision.action is Action.THROTTLE
    assert decision.reasons[-1].name == "ratelimit/default/network"
    assert (await request(shield, ip="192.0.3.1"))[0].action is Action.ALLOW


async def test_users_have_their_own_limits(store: Store) -> None:
    shield = shield_for(
        store, user={"header": "x-user"}, groups=group("1/minute", user_limits="3/minute")
    )
    alice, bob = [("x-user", "alice")], [("x-user", "bob")]
    for _ in range(3):
        assert (await request(shield, headers=alice))[0].action is Action.ALLOW
    decision, _ = await request(shield, headers=alice)
    assert decision.reasons[-1].name == "ratelimit/default/user"
    # Same address, another user: another quota. Anonymous: the client limit.
    assert (await request(shield, headers=bob))[0].action is Action.ALLOW
    assert (await request(shield))[0].action is Action.ALLOW
    assert (await request(shield))[0].action is Action.THROTTLE


async def test_group_actions(store: Store) -> None:
    shield = shield_for(
        store,
        route_groups=[{"name": "search", "paths": ["/search"]}],
        groups={
            "default": {"limits": "1/minute"},
            "api": {"limits": "1/minute", "action": "block"},  # the default route group /api/*
            "search": {"limits": "1/minute", "action": "challenge"},
        },
    )
    for path, action, rule in [
        ("/api/x", Action.BLOCK, "rate-limit-block"),
        ("/search", Action.CHALLENGE, "rate-limit-challenge"),
        ("/", Action.THROTTLE, "rate-limit"),
    ]:
        assert (await request(shield, path=path))[0].action is Action.ALLOW
        decision, _ = await request(shield, path=path)
        assert (decision.action, decision.rule) == (action, rule)


async def test_escalation_bans_and_bans_expire(store: Store) -> None:
    escalation = {"throttles": 2, "window": 60, "ban": 1.0, "factor": 3, "max_ban": 2.5}
    shield = shield_for(
        store, strategy="fixed-window", groups=group("1/1 second"), escalation=escalation
    )
    assert (await request(shield))[0].action is Action.ALLOW
    assert (await request(shield))[0].action is Action.THROTTLE
    decision, _ = await request(shield)
    assert (decision.action, decision.rule) == (Action.BLOCK, "escalation/ban")
    assert decision.reasons[-1].name == "escalation/ban"
    ban = await BanList(store).get("203.0.113.7")
    assert ban is not None
    assert ban.rule == "escalation/ban"
    assert 0.9 < ban.until - ban.created <= 1.0
    assert (await request(shield))[0].rule == "ban/active"
    await asyncio.sleep(1.1)
    assert (await request(shield))[0].action is Action.ALLOW  # ban and window expired
    # The second ban lasts ban * factor, capped at max_ban.
    assert (await request(shield))[0].action is Action.THROTTLE
    assert (await request(shield))[0].rule == "escalation/ban"
    second = await BanList(store).get("203.0.113.7")
    assert second is not None
    assert 2.4 < second.until - second.created <= 2.5


async def test_dry_run_counts_no_strikes(store: Store) -> None:
    shield = shield_for(store, groups=group("1/minute"), escalation={"throttles": 1})
    assert (await request(shield))[0].action is Action.ALLOW
    for _ in range(3):
        decision, _ = await request(shield, dry_run=True)
        assert decision.rule == "rate-limit"
    assert await BanList(store).get("203.0.113.7") is None


async def test_headers_report_the_limit_closest_to_exhaustion(store: Store) -> None:
    shield = shield_for(store, groups=group("10/minute;4/hour"), legacy_headers=True)
    _, ctx = await request(shield)
    assert header(ctx, "ratelimit-policy") == (
        '"default-client-10-60s";q=10;w=60, "default-client-4-3600s";q=4;w=3600'
    )
    value = header(ctx, "ratelimit") or ""
    assert value.startswith('"default-client-4-3600s";r=3;t=')
    assert 3590 < int(value.rsplit("t=", 1)[1]) <= 3600
    assert header(ctx, "x-ratelimit-limit") == "4"
    assert header(ctx, "x-ratelimit-remaining") == "3"
    assert header(ctx, "retry-after") is None
    assert [k for k, _ in ctx.response_headers].count(b"ratelimit") == 1


async def test_headers_can_be_turned_off(store: Store) -> None:
    shield = shield_for(store, groups=group("10/minute"), headers=False)
    _, ctx = await request(shield)
    assert ctx.response_headers == []
    assert "ratelimit" in ctx.notes


async def test_exempt_paths_are_not_counted(store: Store) -> None:
    shield = shield_for(store, groups=group("1/minute"), exempt=["/healthz"])
    for _ in range(3):
        decision, ctx = await request(shield, path="/healthz")
        assert decision.action is Action.ALLOW
        assert ctx.response_headers == []


async def test_sliding_window_retry_after_is_when_the_cost_fits(store: Store) -> None:
    shield = shield_for(
        store,
        strategy="sliding-window-counter",
        groups=group("2/2 seconds"),
        escalation={"enabled": False},
    )
    await room(1.0, 2.0)  # the three hits within one window: the third is refused
    await request(shield)
    await request(shield)
    decision, _ = await request(shield)
    assert decision.retry_after is not None
    await asyncio.sleep(decision.retry_after + 0.05)
    started = time.monotonic()
    assert (await request(shield))[0].action is Action.ALLOW
    assert time.monotonic() - started < 1


async def test_monitor_mode_reports_escalation_but_bans_nobody(store: Store) -> None:
    shield = Shield(
        Settings(
            mode="monitor",
            ratelimit={
                "strategy": "fixed-window",
                "groups": group("1/minute"),
                "escalation": {"throttles": 1},
            },
        ),
        store=store,
    )
    assert (await request(shield))[0].allowed
    decision, _ = await request(shield)
    assert (decision.rule, decision.enforced) == ("escalation/ban", False)
    assert await BanList(store).get("203.0.113.7") is None
