"""`scrapeshield explain` is a dry run against the live store: it writes nothing at all.

A client is pushed over its rate limit through the real pipeline on real Redis (counters, strikes
and an escalation ban become due), then `explain` is run for that client with every component on
(rate limiting, fingerprinting, challenge, directives): every key and value under the prefix is
the same afterwards: no hit spent, no strike, no ban, no block-log event.
"""

from __future__ import annotations

import asyncio

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.cli import main
from scrapeshield.shield import synthetic_scope
from tests.servers import redis_contents, redis_store_settings

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


async def _overrun(redis_url: str, redis_prefix: str) -> None:
    shield = Shield(Settings(**redis_store_settings(redis_url, redis_prefix)))
    try:
        ip = "2001:db8:5::7"
        for _ in range(400):  # far over the default page limit: throttles, strikes, a ban
            facts = shield.facts(synthetic_scope(ip=ip, user_agent=CHROME, path="/gallery"))
            decision = await shield.decide(facts)
            if decision.action.value != "allow":
                await shield.log(decision, facts)
    finally:
        await shield.aclose()


def test_explain_writes_nothing(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRAPESHIELD_STORE_PREFIX", redis_prefix)
    monkeypatch.setenv("SCRAPESHIELD_CHALLENGE__SECRET_KEYS", "k" * 32)
    asyncio.run(_overrun(redis_url, redis_prefix))
    before = asyncio.run(redis_contents(redis_url, redis_prefix))
    assert before  # the pipeline did write counters here, so the comparison means something

    for argv in (
        ["--ip", "2001:db8:5::8", "--ua", CHROME, "--path", "/gallery"],
        ["--ip", "198.51.100.9", "--ua", CHROME, "--path", "/images/1.png"],
        ["--ip", "198.51.100.9", "--ua", "GPTBot/1.2"],
        ["--ip", "198.51.100.9", "--ua", "Mozilla/5.0", "--header", "accept: text/html"],
    ):
        assert main(["explain", "--store", redis_url, *argv]) == 0

    assert asyncio.run(redis_contents(redis_url, redis_prefix)) == before
