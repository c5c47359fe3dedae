"""Monitor mode across every component, on real Redis: decisions are logged, nothing is enforced
and no sanction is written (no ban from the policy or from escalation, no escalation level)."""

from __future__ import annotations

import redis.asyncio as aioredis

from scrapeshield import Action, Settings, Shield
from scrapeshield.shield import synthetic_scope
from tests.servers import redis_store_settings

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


async def test_monitor_mode_writes_no_ban(redis_url: str, redis_prefix: str) -> None:
    settings = Settings(
        mode="monitor",
        **redis_store_settings(redis_url, redis_prefix),
        challenge={"secret_keys": ["k" * 32]},
        policy={"rules": [{"name": "ban-scrapers", "signals": ["ua/category/*"], "action": "ban"}]},
    )
    shield = Shield(settings)
    seen: set[Action] = set()
    try:
        for ua, ip, times in ((CHROME, "2001:db8:9::1", 400), ("GPTBot/1.2", "198.51.100.5", 3)):
            for _ in range(times):
                facts = shield.facts(synthetic_scope(ip=ip, user_agent=ua, path="/gallery"))
                decision = await shield.decide(facts)
                assert not decision.enforced
                seen.add(decision.action)
                await shield.log(decision, facts)
    finally:
        await shield.aclose()
    assert Action.BAN in seen  # the policy would have banned
    assert Action.THROTTLE in seen  # and the rate limit throttled
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k.decode() async for k in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        await client.aclose()
    assert keys  # counters and the event stream were written
    for key in keys:
        name = key[len(redis_prefix) :]
        assert not name.startswith(("ban:", "rl:bans:")), key
